import type { IncomingMessage } from 'node:http';
import type { RouteAuthenticator } from '../auth/index.js';
import type { ResolvedListener, ResolvedRoute } from '../config/model.js';
import type { RouteMatch } from '../config/types.js';
import type { McpEndpoint } from '../transport/streamable.js';

/** A route ready to serve: matchers compiled, auth built, MCP endpoint wired. */
export interface CompiledRoute {
  readonly route: ResolvedRoute;
  /** How specifically the route matches the request (0: not at all); the most specific route wins. */
  readonly matches: (req: IncomingMessage, path: string) => number;
  /** The MCP endpoint path used for auth metadata (first non-well-known exact or prefix match). */
  readonly endpointPath: string;
  readonly authenticator?: RouteAuthenticator;
  readonly endpoint: McpEndpoint;
}

export interface CompiledListener {
  readonly hostname?: string;
  readonly routes: readonly CompiledRoute[];
}

/**
 * Gateway API precedence, as agentgateway: an exact path beats any prefix, a longer prefix beats a shorter
 * one, then a method and more header conditions make a match more specific.
 */
export function compileMatcher(matches: readonly RouteMatch[]): (req: IncomingMessage, path: string) => number {
  const compiled = matches.map((match) => {
    const path = match.path;
    const regex = path?.regex !== undefined ? new RegExp(`^(?:${path.regex})$`) : undefined;
    const headers = (match.headers ?? []).map((h) => ({
      name: h.name.toLowerCase(),
      exact: h.value.exact,
      regex: h.value.regex !== undefined ? new RegExp(`^(?:${h.value.regex})$`) : undefined,
    }));
    const method = match.method?.toUpperCase();
    const pathScore =
      path?.exact !== undefined
        ? 3_000_000
        : path?.pathPrefix !== undefined
          ? 2_000_000 + path.pathPrefix.length * 100
          : regex
            ? 1_000_000
            : 2_000_000;
    const specificity = pathScore + (method ? 50 : 0) + headers.length;
    return (req: IncomingMessage, requestPath: string): number => {
      if (path?.exact !== undefined && requestPath !== path.exact) return 0;
      if (path?.pathPrefix !== undefined && !prefixMatches(path.pathPrefix, requestPath)) return 0;
      if (regex && !regex.test(requestPath)) return 0;
      if (method && req.method !== method) return 0;
      for (const h of headers) {
        const value = req.headers[h.name];
        const text = Array.isArray(value) ? value.join(',') : value;
        if (text === undefined) return 0;
        if (h.exact !== undefined && text !== h.exact) return 0;
        if (h.regex && !h.regex.test(text)) return 0;
      }
      return specificity;
    };
  });
  return (req, path) => {
    let best = 0;
    for (const matcher of compiled) best = Math.max(best, matcher(req, path));
    return best;
  };
}

/** Gateway API prefix semantics: `/mcp` matches `/mcp` and `/mcp/x`, not `/mcpx`. */
function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

export function isWellKnownPath(path: string): boolean {
  return path.includes('/.well-known/') || path.startsWith('/.well-known') || path.endsWith('/client-registration');
}

export function endpointPathOf(route: ResolvedRoute): string {
  for (const match of route.matches) {
    const candidate = match.path?.exact ?? match.path?.pathPrefix;
    if (candidate !== undefined && !isWellKnownPath(candidate)) return candidate;
  }
  return '/mcp';
}

export function hostMatches(listener: ResolvedListener | CompiledListener, host: string | undefined): boolean {
  if (!listener.hostname) return true;
  const name = (host ?? '').split(':')[0].toLowerCase();
  const pattern = listener.hostname.toLowerCase();
  return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern;
}
