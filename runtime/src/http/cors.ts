import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../config/duration.js';
import type { CorsPolicy } from '../config/types.js';

/** Headers an MCP client in a browser must be able to send and read; added to whatever the policy lists. */
const MCP_REQUEST_HEADERS = ['content-type', 'accept', 'authorization', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'mcp-method', 'mcp-name'];
const MCP_EXPOSED_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate'];
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || hostname.toLowerCase().endsWith('.localhost');
}

function hostnameOf(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0];
}

/**
 * DNS-rebinding defence (MCP transports: a present but invalid Origin gets 403): an Origin is accepted
 * when it is loopback, the server's own origin, or listed in the route's CORS `allowOrigins`.
 * With `dnsRebindingProtection` the Host itself must also be loopback.
 */
export function originRejection(req: IncomingMessage, cors: CorsPolicy | undefined, dnsRebindingProtection: boolean): string | undefined {
  const host = req.headers.host ?? '';
  if (dnsRebindingProtection && !isLoopbackHost(hostnameOf(host))) return `Forbidden: Host ${host} is not a loopback name (dnsRebindingProtection)`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (corsAllows(cors, origin)) return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Forbidden: invalid Origin ${origin}`;
  }
  if (isLoopbackHost(url.hostname) && !dnsRebindingProtection) return undefined;
  if (isLoopbackHost(url.hostname) && dnsRebindingProtection && isLoopbackHost(hostnameOf(host))) return undefined;
  if (url.host.toLowerCase() === host.toLowerCase()) return undefined;
  return `Forbidden: Origin ${origin} is not allowed`;
}

function corsAllows(cors: CorsPolicy | undefined, origin: string): boolean {
  const allowed = cors?.allowOrigins;
  if (!allowed) return false;
  return allowed.some((entry) => entry === '*' || entry.toLowerCase() === origin.toLowerCase() || wildcardMatch(entry, origin));
}

function wildcardMatch(pattern: string, origin: string): boolean {
  if (!pattern.includes('*')) return false;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`, 'i');
  return regex.test(origin);
}

/** CORS headers for an actual (non-preflight) response. */
export function corsHeaders(req: IncomingMessage, cors: CorsPolicy | undefined): Record<string, string> {
  const origin = req.headers.origin;
  if (!cors || origin === undefined || !corsAllows(cors, origin)) return {};
  const headers: Record<string, string> = {
    'access-control-allow-origin': cors.allowOrigins?.includes('*') && !cors.allowCredentials ? '*' : origin,
    'access-control-expose-headers': [...new Set([...(cors.exposeHeaders ?? []), ...MCP_EXPOSED_HEADERS])].join(', '),
    vary: 'Origin',
  };
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** Answers an OPTIONS preflight. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, cors: CorsPolicy | undefined): void {
  const headers = corsHeaders(req, cors);
  if (cors && headers['access-control-allow-origin']) {
    const requested = String(req.headers['access-control-request-headers'] ?? '');
    const allowHeaders = cors.allowHeaders?.includes('*') ? requested || MCP_REQUEST_HEADERS.join(', ') : [...new Set([...(cors.allowHeaders ?? []), ...MCP_REQUEST_HEADERS])].join(', ');
    headers['access-control-allow-methods'] = (cors.allowMethods ?? ['GET', 'POST', 'DELETE', 'OPTIONS']).join(', ');
    headers['access-control-allow-headers'] = allowHeaders;
    if (cors.maxAge !== undefined) {
      headers['access-control-max-age'] = String(typeof cors.maxAge === 'number' ? cors.maxAge : Math.round((parseDuration(cors.maxAge) ?? 0) / 1000));
    }
  }
  res.writeHead(204, headers);
  res.end();
}
