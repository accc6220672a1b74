/**
 * The identity provider's URLs as clients see them (the public issuer) and as the gateway reaches them (the
 * back-channel, e.g. Keycloak's in-cluster Service). Tokens always name the public issuer; only the
 * gateway's own requests go to the back-channel, and nothing the gateway serves may name it.
 */
export class IssuerChannel {
  private readonly publicOrigin: string;
  private readonly backchannelOrigin?: string;

  /**
   * @param issuer the public issuer, exactly as in tokens' `iss`
   * @param backchannel the same issuer as the gateway reaches it; undefined when the public URL is reachable
   */
  constructor(
    readonly issuer: string,
    readonly backchannel?: string,
  ) {
    this.publicOrigin = new URL(issuer).origin;
    this.backchannelOrigin = backchannel === undefined ? undefined : new URL(backchannel).origin;
  }

  /**
   * Where the gateway fetches a URL of the provider. URLs below the issuer keep their path below the
   * back-channel issuer; other URLs on the issuer's host (RFC 8414's path-inserted metadata, which sits at
   * the host's root) keep their path on the back-channel host. Other hosts are left alone.
   */
  internal(url: string): string {
    if (this.backchannel === undefined) return url;
    return swapPrefix(url, trimSlash(this.issuer), this.backchannel) ?? swapPrefix(url, this.publicOrigin, this.backchannelOrigin!) ?? url;
  }

  /**
   * A document fetched over the back-channel, with every back-channel URL in it turned back into the public
   * one (Keycloak's `hostname-backchannel-dynamic` answers in-cluster callers with in-cluster URLs).
   */
  publicDocument<T>(document: T): T {
    if (this.backchannel === undefined) return document;
    const toPublic = (value: unknown): unknown => {
      if (typeof value === 'string') {
        return swapPrefix(value, this.backchannel!, trimSlash(this.issuer)) ?? swapPrefix(value, this.backchannelOrigin!, this.publicOrigin) ?? value;
      }
      if (Array.isArray(value)) return value.map(toPublic);
      if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPublic(item)]));
      return value;
    };
    return toPublic(document) as T;
  }
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** `url` with `from` replaced by `to` when `from` is a prefix ending at a path boundary; undefined otherwise. */
function swapPrefix(url: string, from: string, to: string): string | undefined {
  if (!url.startsWith(from)) return undefined;
  const rest = url.slice(from.length);
  return rest === '' || /^[/?#]/.test(rest) ? `${to}${rest}` : undefined;
}
