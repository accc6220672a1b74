import { createHash, randomBytes } from 'node:crypto';
import type { ResolvedCredentialProvider } from '../config/model.js';

type OAuth2Settings = Extract<ResolvedCredentialProvider, { kind: 'oauth2' }>;

const TIMEOUT_MS = 15_000;

/** What a token endpoint granted; `expiresAt` in ms since epoch. */
export interface GrantedToken {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresAt?: number;
  readonly scope?: string;
}

/** A token endpoint said no; `error` is the OAuth error code, never a token. */
export class TokenEndpointError extends Error {
  constructor(
    message: string,
    readonly error: string,
  ) {
    super(message);
    this.name = 'TokenEndpointError';
  }
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The gateway as an OAuth 2.0 client of one third-party provider: authorization code + PKCE, and refresh. */
export class OAuth2Client {
  constructor(private readonly settings: OAuth2Settings) {}

  get authorizationOrigin(): string {
    return new URL(this.settings.authorizationUrl).origin;
  }

  authorizationUrl(redirectUri: string, state: string, challenge: string): string {
    const url = new URL(this.settings.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    if (this.settings.scopes.length > 0) url.searchParams.set('scope', this.settings.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  redeemCode(code: string, redirectUri: string, verifier: string): Promise<GrantedToken> {
    return this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  }

  refresh(refreshToken: string): Promise<GrantedToken> {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  private async tokenRequest(params: Record<string, string>): Promise<GrantedToken> {
    const answer = await postForm(this.settings.tokenUrl, params, this.settings.clientId, this.settings.clientSecret);
    const refreshToken = typeof answer.refresh_token === 'string' ? answer.refresh_token : undefined;
    return { ...tokenOf(answer), refreshToken: refreshToken ?? (params.grant_type === 'refresh_token' ? params.refresh_token : undefined) };
  }
}

/** The access token and its expiry from a token endpoint answer. */
export function tokenOf(answer: Record<string, unknown>): GrantedToken {
  if (typeof answer.access_token !== 'string' || answer.access_token === '') {
    throw new TokenEndpointError('the token endpoint answered without an access_token', 'invalid_response');
  }
  const expiresIn = Number(answer.expires_in);
  return {
    accessToken: answer.access_token,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined,
    scope: typeof answer.scope === 'string' ? answer.scope : undefined,
  };
}

/**
 * POSTs a form to a token endpoint with client_secret_basic (or the client id alone for public clients) and
 * returns the JSON answer. GitHub answers form-encoded unless asked for JSON, hence the Accept header.
 */
export async function postForm(
  url: string,
  params: Record<string, string>,
  clientId: string,
  clientSecret: string | undefined,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'accept': 'application/json' };
  const body = new URLSearchParams(params);
  if (clientSecret !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  } else {
    body.set('client_id', clientId);
  }
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
  } catch (error) {
    throw new TokenEndpointError(`token endpoint ${new URL(url).origin} unreachable: ${(error as Error).message}`, 'unreachable');
  }
  const text = await response.text();
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = Object.fromEntries(new URLSearchParams(text));
  }
  // GitHub answers errors with 200 and an `error` field.
  if (!response.ok || typeof answer.error === 'string') {
    const error = typeof answer.error === 'string' ? answer.error : `http_${response.status}`;
    const description = typeof answer.error_description === 'string' ? `: ${answer.error_description.slice(0, 200)}` : '';
    throw new TokenEndpointError(`token endpoint refused (${error}${description})`, error);
  }
  return answer;
}
