import type { IdentityProvider } from './provider.js';
import type { AuthSettings } from './settings.js';

const PROTECTED_RESOURCE = '/.well-known/oauth-protected-resource';
const AUTHORIZATION_SERVER = '/.well-known/oauth-authorization-server';
const OPENID_CONFIGURATION = '/.well-known/openid-configuration';
const REGISTRATION_SUFFIX = '/client-registration';

export type WellKnownDocument = 'protected-resource' | 'authorization-server' | 'client-registration';

/**
 * Which document a path asks for on the route whose MCP endpoint is `routePath`. Authorization server
 * metadata answers every URL a client may build from the facade issuer `<base><routePath>`: RFC 8414
 * insertion, OIDC insertion and OIDC appending (MCP 2025-11-25 probing order), plus the root form
 * 2025-03-26 clients use.
 */
export function wellKnownDocument(path: string, routePath: string): WellKnownDocument | undefined {
  if (path.endsWith(REGISTRATION_SUFFIX)) {
    return wellKnownDocument(path.slice(0, -REGISTRATION_SUFFIX.length), routePath) === 'authorization-server' ? 'client-registration' : undefined;
  }
  if (path === PROTECTED_RESOURCE || path === `${PROTECTED_RESOURCE}${routePath}`) return 'protected-resource';
  const authorizationServerPaths = [
    AUTHORIZATION_SERVER,
    `${AUTHORIZATION_SERVER}${routePath}`,
    `${OPENID_CONFIGURATION}${routePath}`,
    `${routePath}${OPENID_CONFIGURATION}`,
    `${routePath}${AUTHORIZATION_SERVER}`,
  ];
  return authorizationServerPaths.includes(path) ? 'authorization-server' : undefined;
}

/** The URLs of one route as clients see them. */
export interface RouteUrls {
  /** `<base><routePath>`: the MCP endpoint, and the issuer of the gateway's authorization server facade. */
  readonly endpoint: string;
  readonly resource: string;
  readonly resourceMetadata: string;
  readonly authorizationServerMetadata: string;
  readonly registration: string;
}

export function routeUrls(base: string, routePath: string, settings: Pick<AuthSettings, 'resource'>): RouteUrls {
  const endpoint = `${base}${routePath}`;
  return {
    endpoint,
    resource: settings.resource ?? endpoint,
    resourceMetadata: `${base}${PROTECTED_RESOURCE}${routePath}`,
    authorizationServerMetadata: `${base}${AUTHORIZATION_SERVER}${routePath}`,
    registration: `${base}${AUTHORIZATION_SERVER}${routePath}${REGISTRATION_SUFFIX}`,
  };
}

/** RFC 9728 protected resource metadata; configured `resourceMetadata` fields override the defaults. */
export function protectedResourceMetadata(settings: AuthSettings, provider: IdentityProvider, urls: RouteUrls): Record<string, unknown> {
  return {
    authorization_servers: [provider.advertisesGatewayAsAuthorizationServer ? urls.endpoint : settings.issuer],
    bearer_methods_supported: ['header'],
    ...(settings.requiredScopes.length > 0 ? { scopes_supported: settings.requiredScopes } : {}),
    ...settings.resourceMetadata,
    // Clients compare this byte for byte with the URL they connect to (RFC 9728 §3.3).
    resource: urls.resource,
  };
}

/** Scopes to name in a challenge: required ones, else the advertised ones. Never `offline_access` (MCP 2026-07-28). */
export function challengeScopes(settings: AuthSettings): string[] {
  const advertised = settings.resourceMetadata.scopes_supported;
  const scopes =
    settings.requiredScopes.length > 0
      ? settings.requiredScopes
      : Array.isArray(advertised)
        ? advertised.filter((s): s is string => typeof s === 'string')
        : [];
  return scopes.filter((scope) => scope !== 'offline_access');
}
