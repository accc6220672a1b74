import { postForm, tokenOf, TokenEndpointError, type GrantedToken } from './oauth2.js';
import type { UserRef } from './store.js';
import type { ResolvedCredentialProvider } from '../config/model.js';

type ExchangeSettings = Extract<ResolvedCredentialProvider, { kind: 'tokenExchange' }>;

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** A token is used until this long before it expires, then exchanged again. */
const EXPIRY_MARGIN_MS = 30_000;
/** Tokens without `expires_in` are kept this long. */
const DEFAULT_LIFETIME_MS = 60_000;
const MAX_CACHED = 10_000;

/**
 * RFC 8693 token exchange at the sign-in IdP, as Keycloak's standard token exchange (26.2+) answers it:
 * the user's validated access token goes in as `subject_token`, a token for `audience` comes back. The
 * user's own token never reaches the upstream. Results are cached per user until shortly before expiry.
 */
export class TokenExchanger {
  private readonly cache = new Map<string, GrantedToken & { expiresAt: number }>();
  /** Exchanges under way: concurrent calls of one user (every target at initialize) share one. */
  private readonly running = new Map<string, Promise<string>>();

  constructor(
    private readonly settings: ExchangeSettings,
    /** The issuer's token endpoint when `tokenUrl` is not configured (discovery, through the back channel). */
    private readonly discoverTokenUrl: (issuer: string) => Promise<string>,
  ) {}

  async tokenFor(user: UserRef, subjectToken: string): Promise<string> {
    const key = JSON.stringify([user.issuer, user.subject]);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.accessToken;
    let running = this.running.get(key);
    if (!running) {
      running = this.exchange(key, user, subjectToken).finally(() => this.running.delete(key));
      this.running.set(key, running);
    }
    return running;
  }

  private async exchange(key: string, user: UserRef, subjectToken: string): Promise<string> {
    const url = this.settings.tokenUrl ?? (await this.discoverTokenUrl(user.issuer));
    const params: Record<string, string> = {
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: this.settings.audience,
    };
    if (this.settings.scopes.length > 0) params.scope = this.settings.scopes.join(' ');
    const answer = await postForm(url, params, this.settings.clientId, this.settings.clientSecret);
    if (answer.issued_token_type !== undefined && answer.issued_token_type !== ACCESS_TOKEN_TYPE) {
      throw new TokenEndpointError(`token exchange issued ${String(answer.issued_token_type)}, not an access token`, 'invalid_response');
    }
    const granted = tokenOf(answer);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { ...granted, expiresAt: granted.expiresAt ?? Date.now() + DEFAULT_LIFETIME_MS });
    return granted.accessToken;
  }

  forget(user: UserRef): void {
    this.cache.delete(JSON.stringify([user.issuer, user.subject]));
  }
}
