import type { ClientCredentials, HttpConnection } from './http.js';
import type { StdioPool } from './stdio-pool.js';
import type { UpstreamConnection } from './types.js';
import { httpTargetUrl } from '../config/load.js';
import type { McpTarget } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * The HTTP client side (the SDK's transports and their schemas) is a fifth of the gateway's memory; a
 * gateway that only bridges stdio servers never loads it.
 */
let httpModule: Promise<typeof import('./http.js')> | undefined;
function http(): Promise<typeof HttpConnection> {
  httpModule ??= import('./http.js');
  return httpModule.then((module) => module.HttpConnection);
}

export interface ConnectContext {
  readonly pool: StdioPool;
  readonly logger: Logger;
  readonly credentials: ClientCredentials;
  /** The client's `initialize` params, so a pooled stdio process initialized alike can be used. */
  readonly initialize?: Record<string, unknown>;
}

/** Opens a fresh connection to a target (a new process for stdio). */
export async function connectTarget(target: McpTarget, context: ConnectContext): Promise<UpstreamConnection> {
  if (target.stdio) return context.pool.start(target.name, target.stdio, context.initialize);
  const kind = target.mcp ? 'mcp' : 'sse';
  return (await http()).start({
    target: target.name,
    kind,
    url: httpTargetUrl((target.mcp ?? target.sse)!, kind),
    policies: target.policies,
    credentials: context.credentials,
    logger: context.logger,
  });
}

/** Re-attaches to an upstream Streamable HTTP session another gateway replica created. */
export async function resumeTarget(
  target: McpTarget,
  context: ConnectContext,
  sessionId: string,
  protocolVersion: string,
): Promise<UpstreamConnection> {
  return (await http()).start({
    target: target.name,
    kind: 'mcp',
    url: httpTargetUrl(target.mcp!, 'mcp'),
    policies: target.policies,
    credentials: context.credentials,
    logger: context.logger,
    resume: { sessionId, protocolVersion },
  });
}
