/*
 * Pure rendering helpers of McpGateway, kept out of the package index (jsii exports classes, not functions).
 */
import { Construct } from 'constructs';
import type * as config from './gateway/config-contract.generated';
import { omitUndefined } from './manifest-helpers';
import type { McpCorsOptions } from './mcp-gateway-route';
import type { IMcpTarget } from './mcp-target';
import { McpProtocol } from './mcp-target';
import type { IMcpRoutePolicy } from './route-policy';

/** The MCP headers a browser client needs; see `McpCorsOptions`. */
const MCP_REQUEST_HEADERS = ['mcp-protocol-version', 'mcp-session-id', 'content-type', 'authorization', 'last-event-id'];
const MCP_RESPONSE_HEADERS = ['mcp-session-id'];

/** Runtime `cors` policy for the options; the MCP headers are always included. */
export function renderCors(cors: McpCorsOptions): config.CorsPolicy {
  const union = (base: string[], extra: string[] | undefined) => [...new Set([...base, ...(extra ?? []).map((h) => h.toLowerCase())])];
  return omitUndefined<config.CorsPolicy>({
    allowOrigins: cors.allowOrigins,
    allowHeaders: union(MCP_REQUEST_HEADERS, cors.allowHeaders),
    allowMethods: cors.allowMethods ?? ['GET', 'POST', 'DELETE', 'OPTIONS'],
    exposeHeaders: union(MCP_RESPONSE_HEADERS, cors.exposeHeaders),
    allowCredentials: cors.allowCredentials,
    maxAge: cors.maxAge?.toSeconds(),
  });
}

/** `/github/mcp` → `github-mcp`; `/` → `root`. */
export function routeNameFromPath(path: string): string {
  const name = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return name === '' ? 'root' : name;
}

export function describePolicy(policy: IMcpRoutePolicy, index: number): string {
  if (Construct.isConstruct(policy)) {
    return `policy ${policy.node.path}`;
  }
  return `policies[${index}] (${policy.constructor?.name ?? 'object'})`;
}

/** Runtime target entry: `mcp` for Streamable HTTP, `sse` for the legacy transport. */
export function renderTarget(target: IMcpTarget): config.McpTarget {
  const http: config.HttpTarget = { host: target.url };
  return omitUndefined<config.McpTarget>({
    name: target.targetName,
    ...(target.protocol === McpProtocol.SSE ? { sse: http } : { mcp: http }),
    credential: target.userCredential?._toTargetConfig(),
  });
}
