import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { parseDuration } from '../config/duration.js';
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import type { McpAuthentication } from '../config/types.js';

export type AuthMode = 'strict' | 'optional' | 'permissive';
export type ProviderName = 'keycloak' | 'auth0' | 'okta' | 'generic';

/** Where the signing keys come from; `discovered` means the provider's metadata or conventions decide. */
export type KeySetSource =
  { readonly kind: 'url'; readonly url: URL } | { readonly kind: 'keys'; readonly jwks: JSONWebKeySet } | { readonly kind: 'discovered' };

/** `mcpAuthentication`, checked and with every default applied. */
export interface AuthSettings {
  readonly issuer: string;
  /** Accepted `aud` values; empty means "the resource URL", which is then fixed by `resource` or `publicUrl`. */
  readonly audiences: readonly string[];
  readonly keySet: KeySetSource;
  readonly provider: ProviderName;
  readonly mode: AuthMode;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly requiredClaims: readonly string[];
  readonly requiredScopes: readonly string[];
  /** Public origin (and optional base path) of the gateway, without trailing slash. */
  readonly publicUrl?: string;
  /** `resourceMetadata.resource`, when configured. */
  readonly resource?: string;
  /** Extra RFC 9728 fields, already in snake_case (without `resource`). */
  readonly resourceMetadata: Readonly<Record<string, unknown>>;
  readonly clientId?: string;
  /**
   * The issuer's URL as the gateway reaches it (an in-cluster Service), without trailing slash; discovery,
   * JWKS and client registration go there while tokens keep the public `issuer`.
   */
  readonly backchannelUrl?: string;
  /** Scopes a `tools/call` of each tool (by the name clients call it) needs beyond `requiredScopes`. */
  readonly toolScopes: Readonly<Record<string, readonly string[]>>;
}

const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const ASYMMETRIC = new Set(DEFAULT_ALGORITHMS);
const CLAIMS_THAT_CAN_BE_REQUIRED = new Set(['exp', 'nbf', 'aud', 'iss', 'sub', 'iat', 'jti']);

/** Reads and checks one `mcpAuthentication`; every problem is reported at once, each at its field. */
export function resolveAuthSettings(config: McpAuthentication, configPath: string): AuthSettings {
  const issues: ConfigIssue[] = [];
  const at = (field: string) => `${configPath}.${field}`;
  const problem = (field: string, message: string) => issues.push({ path: at(field), message });

  const issuer = typeof config.issuer === 'string' ? config.issuer : '';
  if (!isHttpUrl(issuer)) problem('issuer', `must be an http(s) URL, got ${JSON.stringify(config.issuer)}`);

  const provider = providerName(config.provider, () => problem('provider', 'must have exactly one of keycloak, auth0, okta'));

  const resource = typeof config.resourceMetadata?.resource === 'string' ? config.resourceMetadata.resource : undefined;
  if (config.resourceMetadata?.resource !== undefined && !isHttpUrl(resource ?? '')) {
    problem('resourceMetadata.resource', `must be an http(s) URL, got ${JSON.stringify(config.resourceMetadata.resource)}`);
  }

  let publicUrl: string | undefined;
  if (config.publicUrl !== undefined) {
    // Well-known URLs are built by inserting a segment between host and route path, so the base has no path.
    if (!isHttpUrl(config.publicUrl) || new URL(config.publicUrl).href !== `${new URL(config.publicUrl).origin}/`) {
      problem('publicUrl', `must be a scheme://host[:port] URL without path, got ${JSON.stringify(config.publicUrl)}`);
    } else {
      publicUrl = config.publicUrl.replace(/\/+$/, '');
    }
  }

  const audiences = [...(config.audiences ?? []), ...(config.audience !== undefined ? [config.audience] : [])];
  if (audiences.some((audience) => typeof audience !== 'string' || audience === '')) problem('audiences', 'audiences are non-empty strings');
  if (audiences.length === 0 && !resource && !publicUrl) {
    // The expected audience must not come from request headers: a forged Host would then pick which tokens pass.
    problem('audiences', 'set audiences (or audience), or resourceMetadata.resource / publicUrl so the resource URL can serve as audience');
  }

  const algorithms = config.algorithms ?? DEFAULT_ALGORITHMS;
  for (const [index, algorithm] of algorithms.entries()) {
    if (!ASYMMETRIC.has(algorithm)) {
      problem(
        `algorithms[${index}]`,
        `${JSON.stringify(algorithm)} is not allowed: use asymmetric algorithms (${DEFAULT_ALGORITHMS.join(', ')}); never none or HS*`,
      );
    }
  }

  let clockSkewSeconds = 30;
  if (config.clockSkew !== undefined) {
    const ms = typeof config.clockSkew === 'string' ? parseDuration(config.clockSkew) : undefined;
    if (ms === undefined) problem('clockSkew', `must be a duration such as 30s, got ${JSON.stringify(config.clockSkew)}`);
    else clockSkewSeconds = ms / 1000;
  }

  // `sub` binds sessions to their user: a token without it is refused unless requiredClaims says otherwise.
  const requiredClaims = config.jwtValidationOptions?.requiredClaims ?? ['exp', 'sub'];
  for (const [index, claim] of requiredClaims.entries()) {
    if (!CLAIMS_THAT_CAN_BE_REQUIRED.has(claim)) problem(`jwtValidationOptions.requiredClaims[${index}]`, `unknown claim ${JSON.stringify(claim)}`);
  }

  const mode = config.mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'optional' && mode !== 'permissive') problem('mode', 'must be strict, optional or permissive');

  const keySet = keySetSource(config, at, problem);

  const requiredScopes = config.requiredScopes ?? [];
  for (const [index, scope] of requiredScopes.entries()) {
    if (!isScope(scope)) problem(`requiredScopes[${index}]`, `not a valid OAuth scope: ${JSON.stringify(scope)}`);
  }
  const toolScopes: Record<string, string[]> = {};
  for (const [tool, scopes] of Object.entries(config.toolScopes ?? {})) {
    if (!Array.isArray(scopes) || scopes.length === 0) problem(`toolScopes.${tool}`, 'must be a non-empty list of scopes');
    else if (scopes.some((scope) => !isScope(scope))) problem(`toolScopes.${tool}`, `not valid OAuth scopes: ${JSON.stringify(scopes)}`);
    else toolScopes[tool] = [...scopes];
  }

  let backchannelUrl: string | undefined;
  if (config.backchannelUrl !== undefined) {
    if (!isHttpUrl(config.backchannelUrl)) problem('backchannelUrl', `must be an http(s) URL, got ${JSON.stringify(config.backchannelUrl)}`);
    else backchannelUrl = config.backchannelUrl.replace(/\/+$/, '');
  }

  if (config.clientId !== undefined && (typeof config.clientId !== 'string' || config.clientId === '')) {
    problem('clientId', 'must be a non-empty string');
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    issuer,
    audiences,
    keySet,
    provider,
    mode,
    algorithms,
    clockSkewSeconds,
    requiredClaims,
    requiredScopes,
    publicUrl,
    resource,
    resourceMetadata: snakeCaseKeys(config.resourceMetadata ?? {}),
    clientId: config.clientId,
    backchannelUrl,
    toolScopes,
  };
}

/** RFC 6749 §3.3 scope-token characters. */
function isScope(scope: unknown): scope is string {
  return typeof scope === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope);
}

function providerName(provider: McpAuthentication['provider'], invalid: () => void): ProviderName {
  if (provider === undefined) return 'generic';
  const keys = Object.keys(provider);
  if (keys.length === 1 && (keys[0] === 'keycloak' || keys[0] === 'auth0' || keys[0] === 'okta')) return keys[0];
  invalid();
  return 'generic';
}

function keySetSource(config: McpAuthentication, at: (field: string) => string, problem: (field: string, message: string) => void): KeySetSource {
  const { jwks, jwksUrl } = config;
  if (jwks !== undefined && jwksUrl !== undefined) {
    problem('jwksUrl', 'set either jwks or jwksUrl, not both');
    return { kind: 'discovered' };
  }
  const url = jwksUrl ?? (typeof jwks === 'object' ? jwks.url : undefined);
  if (url !== undefined) {
    if (!isHttpUrl(url)) problem(jwksUrl !== undefined ? 'jwksUrl' : 'jwks.url', `must be an http(s) URL, got ${JSON.stringify(url)}`);
    return isHttpUrl(url) ? { kind: 'url', url: new URL(url) } : { kind: 'discovered' };
  }
  if (typeof jwks === 'object' && jwks.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(jwks.file, 'utf8');
    } catch (error) {
      problem('jwks.file', `cannot read ${jwks.file}: ${(error as Error).message}`);
      return { kind: 'discovered' };
    }
    const parsed = parseKeySet(text, (message) => problem('jwks.file', `${jwks.file}: ${message}`));
    return parsed ? { kind: 'keys', jwks: parsed } : { kind: 'discovered' };
  }
  if (typeof jwks === 'string') {
    const parsed = parseKeySet(jwks, (message) => problem('jwks', `inline JWKS: ${message}`));
    return parsed ? { kind: 'keys', jwks: parsed } : { kind: 'discovered' };
  }
  if (jwks !== undefined) problem('jwks', `must be {url}, {file} or an inline JWKS string; ${at('jwks')} has neither`);
  return { kind: 'discovered' };
}

function parseKeySet(text: string, invalid: (message: string) => void): JSONWebKeySet | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    invalid(`not JSON (${(error as Error).message})`);
    return undefined;
  }
  const keys = (value as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((key) => key === null || typeof key !== 'object')) {
    invalid('a JWKS is an object with a non-empty "keys" array');
    return undefined;
  }
  if (keys.some((key) => 'd' in key)) {
    invalid('contains a private key ("d"); publish only public keys');
    return undefined;
  }
  return value as JSONWebKeySet;
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:';
}

/** `scopesSupported` → `scopes_supported`; the `resource` key is handled apart. */
function snakeCaseKeys(metadata: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key === 'resource') continue;
    result[key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)] = value;
  }
  return result;
}
