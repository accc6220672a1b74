import type { ProviderName } from './settings.js';

export type AuthorizationServerMetadata = Record<string, unknown>;

/** What the gateway substitutes in the identity provider's metadata when it serves it under its own URL. */
export interface MetadataRewrite {
  /** Issuer identifier of the gateway's facade, i.e. the URL advertised in `authorization_servers`. */
  readonly facadeIssuer: string;
  /** The gateway's DCR proxy for this route. */
  readonly registrationProxyUrl: string;
  readonly audiences: readonly string[];
}

/**
 * The differences between identity providers, and nothing else. Adding Entra or authentik means adding
 * one of these, not touching the request handling.
 */
export interface IdentityProvider {
  readonly name: ProviderName;
  /**
   * Advertise the gateway (not the issuer) in `authorization_servers`, so clients read the rewritten
   * metadata below: needed when the provider's own metadata is unusable as is (no RFC 8707). The price: a
   * client that checks RFC 9207 `iss` in the authorization response against the facade's `issuer` fails
   * once the provider sends `iss` (see auth/DESIGN.md), so a provider whose metadata works as is says false.
   */
  readonly advertisesGatewayAsAuthorizationServer: boolean;
  /**
   * Paths on the issuer's own host that the gateway answers when the cluster routes them to it, filling
   * in what older provider versions lack: RFC 8414 path-inserted metadata and CORS on client registration.
   */
  issuerHostPaths?(issuer: string): { readonly metadata: string; readonly registration: string };
  /** JWKS URL by the provider's convention; undefined: take `jwks_uri` from its metadata. */
  conventionalJwksUrl(issuer: string): string | undefined;
  /** Where its metadata lives, tried in order. */
  metadataUrls(issuer: string): string[];
  /** Where dynamic client registration requests go; undefined when it has none. `metadata` is fetched only if asked for. */
  registrationUrl(issuer: string, metadata: () => Promise<AuthorizationServerMetadata>): Promise<string | undefined>;
  /** The metadata clients get from the gateway. */
  rewriteMetadata(metadata: AuthorizationServerMetadata, rewrite: MetadataRewrite): AuthorizationServerMetadata;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const oidcDiscoveryUrl = (issuer: string) => `${trimSlash(issuer)}/.well-known/openid-configuration`;
/** RFC 8414 §3.1: the well-known segment goes between host and the issuer's path. */
function rfc8414Url(issuer: string): string {
  const url = new URL(issuer);
  return `${url.origin}/.well-known/oauth-authorization-server${trimSlash(url.pathname)}`;
}
async function discoveredRegistration(metadata: () => Promise<AuthorizationServerMetadata>): Promise<string | undefined> {
  const { registration_endpoint: endpoint } = await metadata();
  return typeof endpoint === 'string' ? endpoint : undefined;
}

/** Rewrites every provider needs: PKCE advertised (MCP clients refuse to go on without it), DCR through the gateway. */
function commonRewrite(
  metadata: AuthorizationServerMetadata,
  rewrite: MetadataRewrite,
  options: { alwaysProxyRegistration: boolean },
): AuthorizationServerMetadata {
  const result: AuthorizationServerMetadata = { ...metadata };
  const methods = Array.isArray(metadata.code_challenge_methods_supported) ? metadata.code_challenge_methods_supported : [];
  if (!methods.includes('S256')) result.code_challenge_methods_supported = [...methods, 'S256'];
  if (options.alwaysProxyRegistration || typeof metadata.registration_endpoint === 'string') {
    result.registration_endpoint = rewrite.registrationProxyUrl;
  }
  return result;
}

/** Clients discovered this document through the gateway's URL, so that is its issuer (RFC 8414 §3.3). */
function asFacade(metadata: AuthorizationServerMetadata, rewrite: MetadataRewrite): AuthorizationServerMetadata {
  return { ...metadata, issuer: rewrite.facadeIssuer };
}

/** Providers without RFC 8707 take the audience as a query parameter of the authorization endpoint. */
function withAudienceParameter(metadata: AuthorizationServerMetadata, audiences: readonly string[]): AuthorizationServerMetadata {
  if (typeof metadata.authorization_endpoint !== 'string' || audiences.length === 0) return metadata;
  const endpoint = new URL(metadata.authorization_endpoint);
  endpoint.searchParams.set('audience', audiences[0]);
  return { ...metadata, authorization_endpoint: endpoint.href };
}

const generic: IdentityProvider = {
  name: 'generic',
  advertisesGatewayAsAuthorizationServer: false,
  conventionalJwksUrl: () => undefined,
  metadataUrls: (issuer) => [oidcDiscoveryUrl(issuer), rfc8414Url(issuer)],
  registrationUrl: (_issuer, metadata) => discoveredRegistration(metadata),
  rewriteMetadata: (metadata, rewrite) => commonRewrite(metadata, rewrite, { alwaysProxyRegistration: false }),
};

/**
 * Keycloak is named as the authorization server itself: its metadata is usable as is, and since its FAPI
 * work it sends RFC 9207 `iss`, which only matches metadata whose `issuer` is Keycloak's. What older
 * versions lack — RFC 8414 metadata (before 26.4: read OIDC discovery) and CORS on DCR (before 26.5,
 * keycloak#39629) — the gateway serves on Keycloak's own paths when those are routed to it. No RFC 8707,
 * so audiences come from an audience mapper.
 */
const keycloak: IdentityProvider = {
  name: 'keycloak',
  advertisesGatewayAsAuthorizationServer: false,
  issuerHostPaths: (issuer) => ({
    metadata: new URL(rfc8414Url(issuer)).pathname,
    registration: `${trimSlash(new URL(issuer).pathname)}/clients-registrations/openid-connect`,
  }),
  conventionalJwksUrl: (issuer) => `${trimSlash(issuer)}/protocol/openid-connect/certs`,
  metadataUrls: (issuer) => [oidcDiscoveryUrl(issuer), rfc8414Url(issuer)],
  registrationUrl: async (issuer) => `${trimSlash(issuer)}/clients-registrations/openid-connect`,
  rewriteMetadata: (metadata, rewrite) => asFacade(commonRewrite(metadata, rewrite, { alwaysProxyRegistration: true }), rewrite),
};

/** Auth0: no RFC 8707, so the audience rides on the authorization endpoint. */
const auth0: IdentityProvider = {
  name: 'auth0',
  advertisesGatewayAsAuthorizationServer: true,
  conventionalJwksUrl: (issuer) => `${trimSlash(issuer)}/.well-known/jwks.json`,
  metadataUrls: (issuer) => [oidcDiscoveryUrl(issuer), rfc8414Url(issuer)],
  registrationUrl: (_issuer, metadata) => discoveredRegistration(metadata),
  rewriteMetadata: (metadata, rewrite) =>
    asFacade(withAudienceParameter(commonRewrite(metadata, rewrite, { alwaysProxyRegistration: false }), rewrite.audiences), rewrite),
};

/** Okta: audience as for Auth0; DCR lives at the org, not the authorization server, and has no CORS. */
const okta: IdentityProvider = {
  name: 'okta',
  advertisesGatewayAsAuthorizationServer: true,
  conventionalJwksUrl: () => undefined,
  metadataUrls: (issuer) => [oidcDiscoveryUrl(issuer), rfc8414Url(issuer)],
  registrationUrl: async (issuer) => `${new URL(issuer).origin}/oauth2/v1/clients`,
  rewriteMetadata: (metadata, rewrite) =>
    asFacade(withAudienceParameter(commonRewrite(metadata, rewrite, { alwaysProxyRegistration: true }), rewrite.audiences), rewrite),
};

const PROVIDERS: Record<ProviderName, IdentityProvider> = { generic, keycloak, auth0, okta };

export function identityProvider(name: ProviderName): IdentityProvider {
  return PROVIDERS[name];
}

/** When neither configuration, convention nor metadata names a JWKS: the common default. */
export function fallbackJwksUrl(issuer: string): string {
  return `${trimSlash(issuer)}/.well-known/jwks.json`;
}
