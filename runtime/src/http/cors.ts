import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { parseDuration } from '../config/duration.js';
import type { CorsPolicy } from '../config/types.js';

/** Headers an MCP client in a browser must be able to send and read; added to whatever the policy lists. */
const MCP_REQUEST_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'mcp-method',
  'mcp-name',
];
const MCP_EXPOSED_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate'];
const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

/**
 * Every request checks its Host header, nearly always the same few strings: their answers are remembered
 * (a URL parse and an address lookup cost more than the rest of the check). Bounded, so a client sending a
 * new Host on every request only empties the cache.
 */
const MAX_REMEMBERED_HOSTS = 256;
const hostnameCache = new Map<string, string | undefined>();
const loopbackCache = new Map<string, boolean>();

function remembered<T>(cache: Map<string, T>, key: string, compute: (key: string) => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const value = compute(key);
  if (cache.size >= MAX_REMEMBERED_HOSTS) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * True for `localhost`, `*.localhost` and every spelling of a loopback address (`127.1`, `[::1]`,
 * `[::ffff:127.0.0.1]`, `0x7f.0.0.1`…): names are normalised the way a URL parser (and so a browser)
 * does before they are compared, so no spelling slips past a check.
 */
export function isLoopbackHost(hostname: string): boolean {
  return remembered(loopbackCache, hostname, loopbackHost);
}

function loopbackHost(hostname: string): boolean {
  const name = normalHostname(hostname);
  if (name === undefined) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const address = name.startsWith('[') ? name.slice(1, -1) : name;
  const family = isIP(address);
  return family !== 0 && LOOPBACK_ADDRESSES.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The host name of a Host header (or a bare address) as a URL parser sees it: lower case, IPs canonical, no port. */
export function normalHostname(host: string): string | undefined {
  return remembered(hostnameCache, host, parseHostname);
}

function parseHostname(host: string): string | undefined {
  const bracketed = isIP(host) === 6 ? `[${host}]` : host;
  try {
    return new URL(`http://${bracketed}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * DNS-rebinding defence. With `protection.enabled` (the route's `dnsRebindingProtection`, by default on
 * for a loopback bind, as the MCP SDK does) the Host must be a loopback name or one the operator allowed,
 * and so must a present Origin unless CORS allows it. Without it, a present Origin must be loopback, the
 * server's own origin, or allowed by CORS (MCP transports: an invalid Origin gets 403).
 */
export function originRejection(req: IncomingMessage, cors: CorsPolicy | undefined, protection: HostProtection): string | undefined {
  const host = req.headers.host ?? '';
  const hostname = normalHostname(host);
  const trusted = (name: string | undefined): boolean => name !== undefined && (isLoopbackHost(name) || protection.allowedHosts.includes(name));
  if (protection.enabled && !trusted(hostname)) {
    return `Forbidden: Host ${host} is not a loopback name (dnsRebindingProtection; allow more names with --allowed-hosts)`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (corsAllows(cors, origin)) return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Forbidden: invalid Origin ${origin}`;
  }
  if (protection.enabled) return trusted(url.hostname) ? undefined : `Forbidden: Origin ${origin} is not allowed`;
  if (isLoopbackHost(url.hostname)) return undefined;
  if (url.host.toLowerCase() === host.toLowerCase()) return undefined;
  return `Forbidden: Origin ${origin} is not allowed`;
}

/** Which Host names a route accepts. */
export interface HostProtection {
  readonly enabled: boolean;
  /** Names besides loopback ones, lower case, without port. */
  readonly allowedHosts: readonly string[];
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
    'vary': 'Origin',
  };
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** Answers an OPTIONS preflight. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, cors: CorsPolicy | undefined): void {
  const headers = corsHeaders(req, cors);
  if (cors && headers['access-control-allow-origin']) {
    const requested = String(req.headers['access-control-request-headers'] ?? '');
    const allowHeaders = cors.allowHeaders?.includes('*')
      ? requested || MCP_REQUEST_HEADERS.join(', ')
      : [...new Set([...(cors.allowHeaders ?? []), ...MCP_REQUEST_HEADERS])].join(', ');
    headers['access-control-allow-methods'] = (cors.allowMethods ?? ['GET', 'POST', 'DELETE', 'OPTIONS']).join(', ');
    headers['access-control-allow-headers'] = allowHeaders;
    if (cors.maxAge !== undefined) {
      headers['access-control-max-age'] = String(
        typeof cors.maxAge === 'number' ? cors.maxAge : Math.round((parseDuration(cors.maxAge) ?? 0) / 1000),
      );
    }
  }
  res.writeHead(204, headers);
  res.end();
}
