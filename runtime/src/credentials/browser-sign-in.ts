import { hkdfSync, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ConnectRefused } from './broker.js';
import { pkcePair, postForm, TokenEndpointError } from './oauth2.js';
import { Sealer } from './sealing.js';
import type { UserRef } from './store.js';

/** The callback path under /connect/; `_` cannot start a provider name, so it never shadows one. */
export const SIGN_IN_CALLBACK = '/connect/_signin/callback';
/** How long a browser stays signed in for connect pages: a second connect within minutes does not bounce again. */
const SESSION_SECONDS = 600;
/** How long the round trip to the sign-in IdP may take. */
const FLOW_SECONDS = 600;
// Not `mcp-connect-<name>`: those are the providers' own cookies, and a provider may be called `session`.
const SESSION_COOKIE = 'mcp-signin-session';
const FLOW_COOKIE = 'mcp-signin-flow';

/** What the gateway needs of the sign-in issuer: its public authorization endpoint, and token/JWKS endpoints as the gateway reaches them. */
export interface SignInIssuer {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  /** RFC 9207: the issuer announced that it sends `iss` with every authorization response. */
  readonly sendsIss: boolean;
}

/** The sign-in issuer's endpoints (discovery through its back-channel where configured). */
export type SignInDiscovery = (issuer: string) => Promise<SignInIssuer>;

/** The flow cookie's sealed contents. */
interface Flow {
  readonly issuer: string;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
  /** A path on this gateway under /connect/ to go back to (the connect page, with its link). */
  readonly returnTo: string;
  readonly expiresAt: number;
}

interface Session extends UserRef {
  readonly expiresAt: number;
}

/** What the browser gets after a step: where to go and the cookies to set. */
export interface SignInStep {
  readonly location: string;
  readonly cookies: string[];
}

/**
 * Signs the browser that opened a connect link in at the sign-in IdP (OIDC authorization code + PKCE S256,
 * `nonce`, RFC 9207 `iss`), so the connect flow can check it is the link's own user. Nothing is stored
 * server-side: the flow and the resulting session are sealed cookies (AES-256-GCM with a key derived from
 * the credential encryption key), so any replica can finish what another started.
 */
export class BrowserSignIn {
  private readonly sealer: Sealer;
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly client: { readonly clientId: string; readonly clientSecret?: string },
    encryptionKey: Buffer,
    private readonly discover: SignInDiscovery,
  ) {
    this.sealer = new Sealer(Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'mcp-gateway connect browser sign-in', 32)));
  }

  /** The user this browser signed in as, from its session cookie; undefined when none is valid for `issuer`. */
  current(cookieHeader: string | undefined, issuer: string): UserRef | undefined {
    const session = this.unseal<Session>(cookieOf(cookieHeader, SESSION_COOKIE), 'session');
    if (!session || session.expiresAt < Date.now() || session.issuer !== issuer) return undefined;
    return { issuer: session.issuer, subject: session.subject };
  }

  /** Sends the browser to `issuer` to sign in; it comes back to `returnTo` (a /connect/ path) afterwards. */
  async start(issuer: string, returnTo: string, base: string, secure: boolean): Promise<SignInStep> {
    const endpoints = await this.endpoints(issuer);
    const { verifier, challenge } = pkcePair();
    const flow: Flow = {
      issuer,
      state: randomBytes(32).toString('base64url'),
      nonce: randomBytes(32).toString('base64url'),
      verifier,
      redirectUri: `${base}${SIGN_IN_CALLBACK}`,
      returnTo,
      expiresAt: Date.now() + FLOW_SECONDS * 1000,
    };
    const url = new URL(endpoints.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.client.clientId);
    url.searchParams.set('redirect_uri', flow.redirectUri);
    url.searchParams.set('scope', 'openid');
    url.searchParams.set('state', flow.state);
    url.searchParams.set('nonce', flow.nonce);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return { location: url.toString(), cookies: [cookie(FLOW_COOKIE, this.seal(flow, 'flow'), FLOW_SECONDS, secure)] };
  }

  /**
   * The IdP sent the browser back: checks state (against this browser's flow cookie), `iss`, redeems the
   * code with the verifier, verifies the ID token (signature, issuer, audience, nonce) and starts the session.
   */
  async finish(query: URLSearchParams, cookieHeader: string | undefined, secure: boolean): Promise<SignInStep> {
    const flow = this.unseal<Flow>(cookieOf(cookieHeader, FLOW_COOKIE), 'flow');
    if (!flow || flow.expiresAt < Date.now()) {
      throw new ConnectRefused(400, 'this sign-in was not started in this browser, or took too long; open the connect link again');
    }
    if (query.get('state') !== flow.state) {
      throw new ConnectRefused(400, 'this sign-in response does not belong to this browser; open the connect link again');
    }
    const endpoints = await this.endpoints(flow.issuer);
    const iss = query.get('iss');
    // RFC 9207: an issuer that announced `iss` must send it; whatever arrives must be the one we sent the browser to (mix-up defence).
    if ((iss === null && endpoints.sendsIss) || (iss !== null && iss !== flow.issuer)) {
      throw new ConnectRefused(400, 'the sign-in response came from another issuer than the one asked');
    }
    const error = query.get('error');
    if (error) throw new ConnectRefused(403, `the sign-in was not completed (${error.slice(0, 64)}); open the connect link again`);
    const code = query.get('code') ?? '';
    if (code === '') throw new ConnectRefused(400, 'the sign-in response carries no code');
    let answer: Record<string, unknown>;
    try {
      answer = await postForm(
        endpoints.tokenEndpoint,
        { grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
        this.client.clientId,
        this.client.clientSecret,
      );
    } catch (thrown) {
      if (thrown instanceof TokenEndpointError) throw new ConnectRefused(502, `the sign-in issuer did not redeem the code (${thrown.error})`);
      throw thrown;
    }
    if (typeof answer.id_token !== 'string') throw new ConnectRefused(502, 'the sign-in issuer sent no ID token');
    let subject: string;
    try {
      const { payload } = await jwtVerify(answer.id_token, this.keySet(endpoints.jwksUri), { issuer: flow.issuer, audience: this.client.clientId });
      if (payload.nonce !== flow.nonce || typeof payload.sub !== 'string' || payload.sub === '') throw new Error('nonce or sub');
      subject = payload.sub;
    } catch {
      throw new ConnectRefused(502, 'the ID token from the sign-in issuer did not verify');
    }
    const session: Session = { issuer: flow.issuer, subject, expiresAt: Date.now() + SESSION_SECONDS * 1000 };
    return {
      location: flow.returnTo,
      cookies: [cookie(SESSION_COOKIE, this.seal(session, 'session'), SESSION_SECONDS, secure), cookie(FLOW_COOKIE, '', 0, secure)],
    };
  }

  private async endpoints(issuer: string): Promise<SignInIssuer> {
    try {
      return await this.discover(issuer);
    } catch {
      throw new ConnectRefused(502, 'the sign-in issuer cannot be reached; try again later');
    }
  }

  private keySet(jwksUri: string): JWTVerifyGetKey {
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 10_000 });
      this.keySets.set(jwksUri, keys);
    }
    return keys;
  }

  private seal(value: object, kind: 'flow' | 'session'): string {
    return this.sealer.seal(JSON.stringify(value), kind).toString('base64url');
  }

  private unseal<T>(text: string | undefined, kind: 'flow' | 'session'): T | undefined {
    if (!text) return undefined;
    const plain = this.sealer.open(Buffer.from(text, 'base64url'), kind);
    return plain === undefined ? undefined : (JSON.parse(plain) as T);
  }
}

/** HttpOnly, SameSite=Lax (the IdP's redirect back is a top-level GET), only for /connect/, Secure unless on loopback. */
function cookie(name: string, value: string, maxAge: number, secure: boolean): string {
  return `${name}=${value}; Path=/connect/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
