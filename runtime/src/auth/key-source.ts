import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import type { IssuerChannel } from './issuer-channel.js';
import type { AuthorizationServerMetadataSource } from './metadata-source.js';
import { fallbackJwksUrl, type IdentityProvider } from './provider.js';
import type { KeySetSource } from './settings.js';
import type { Logger } from '../telemetry/logger.js';

export interface RemoteKeyOptions {
  /** After a successful fetch, an unknown `kid` refetches only once this long has passed (rate limit). */
  readonly cooldownMs: number;
  /** Keys are refreshed in the background this often, so removed (revoked) keys stop working. */
  readonly refreshMs: number;
  readonly timeoutMs: number;
  readonly logger?: Logger;
}

/**
 * A JWKS fetched from a URL. An unknown `kid` refetches (rate-limited), which is how key rotation is picked up.
 * Cached keys never expire on their own: when the endpoint is down, known keys keep working and unknown
 * ones fail, because a refresh that fails leaves the cache as it was.
 */
class RemoteKeySet {
  private readonly keySet: RemoteJWKSet;
  private lastRefreshStarted?: number;

  constructor(
    readonly url: URL,
    private readonly options: RemoteKeyOptions,
  ) {
    this.keySet = createRemoteJWKSet(url, { cacheMaxAge: Infinity, cooldownDuration: options.cooldownMs, timeoutDuration: options.timeoutMs });
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    this.refreshInBackgroundWhenOld();
    const key = await this.keySet(header, token);
    this.lastRefreshStarted ??= Date.now();
    return key;
  };

  private refreshInBackgroundWhenOld(): void {
    if (this.lastRefreshStarted === undefined || this.keySet.reloading) return;
    if (Date.now() - this.lastRefreshStarted < this.options.refreshMs) return;
    this.lastRefreshStarted = Date.now();
    this.keySet.reload().catch((error: unknown) => {
      this.options.logger?.warn('JWKS refresh failed; keeping the cached keys', { jwksUrl: this.url.href, error: (error as Error).message });
    });
  }
}

/**
 * Resolves the key source of a route: keys given in the config, a configured URL, the provider's convention,
 * the `jwks_uri` of its metadata, or `{issuer}/.well-known/jwks.json` — in that order. Derived URLs go over
 * the back-channel; a configured URL is used as written.
 */
export function createKeyResolver(
  source: KeySetSource,
  channel: IssuerChannel,
  provider: IdentityProvider,
  metadata: AuthorizationServerMetadataSource,
  options: RemoteKeyOptions,
): JWTVerifyGetKey {
  if (source.kind === 'keys') return createLocalJWKSet(source.jwks);
  const { issuer } = channel;
  const conventional = provider.conventionalJwksUrl(issuer);
  const known = source.kind === 'url' ? source.url.href : conventional && channel.internal(conventional);
  if (known) return new RemoteKeySet(new URL(known), options).getKey;

  let remote: Promise<RemoteKeySet> | undefined;
  const discover = async (): Promise<RemoteKeySet> => {
    // A metadata outage propagates (and is retried on the next token) instead of pinning the fallback URL.
    const document = await metadata.get();
    const url = channel.internal(typeof document.jwks_uri === 'string' ? document.jwks_uri : fallbackJwksUrl(issuer));
    options.logger?.info('using JWKS', { issuer, jwksUrl: url });
    return new RemoteKeySet(new URL(url), options);
  };
  return async (header, token) => {
    remote ??= discover().catch((error: unknown) => {
      remote = undefined;
      throw error;
    });
    return (await remote).getKey(header, token);
  };
}
