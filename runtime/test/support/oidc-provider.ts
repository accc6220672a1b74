/**
 * A real OpenID provider (panva's `oidc-provider`) laid out like a Keycloak realm, for tests:
 *
 *   issuer         http://127.0.0.1:<port>/realms/<realm>
 *   discovery      /realms/<realm>/.well-known/openid-configuration (and oauth-authorization-server)
 *   JWKS           /realms/<realm>/protocol/openid-connect/certs
 *   authorize      /realms/<realm>/protocol/openid-connect/auth
 *   token          /realms/<realm>/protocol/openid-connect/token
 *   registration   /realms/<realm>/clients-registrations/openid-connect   (open, anonymous DCR)
 *
 * Access tokens are RFC 9068 JWTs whose `aud` is the RFC 8707 `resource` the client asked for (or, with
 * `audienceMapper`, a fixed audience as a Keycloak audience mapper sets it), carrying `realm_access.roles`
 * and `preferred_username` like Keycloak's. Users sign in through a login form that tests submit with fetch (`login`), so the whole
 * authorization-code + PKCE flow runs without a browser.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface TestUser {
  readonly password: string;
  readonly realmRoles: readonly string[];
}

export interface TestRealmOptions {
  /** Realm name; the issuer is `http://127.0.0.1:<port>/realms/<realm>`. Default `mcp`. */
  readonly realm?: string;
  /** Resource indicators (token audiences) the realm issues tokens for. Any other `resource` is `invalid_target`. */
  readonly resources: readonly string[];
  /** Scopes (space-separated) a token for any resource may carry. Default `mcp:tools`. */
  readonly resourceScope?: string;
  /**
   * Keycloak's way: an audience mapper puts this fixed `aud` in every access token, whatever `resource` the
   * client sent. Default: `aud` is the requested resource (RFC 8707).
   */
  readonly audienceMapper?: string;
  /** Access token lifetime. Default 300 s. */
  readonly accessTokenTtlSeconds?: number;
  /** Default users: `alice` (role `user`) and `admin` (roles `user`, `admin`), password = user name. */
  readonly users?: Readonly<Record<string, TestUser>>;
  /**
   * Origin in the issuer and every URL the realm advertises, as Keycloak's `KC_HOSTNAME` sets it, when it
   * differs from where the realm listens (a proxy in front, or an address the gateway cannot reach).
   * Default: the listening origin.
   */
  readonly publicOrigin?: string;
  /**
   * Keycloak 26's standard token exchange (RFC 8693) for one confidential client: it may exchange a user's
   * access token whose `aud` names it for a token whose `aud` is one of `audiences`.
   */
  readonly tokenExchange?: { readonly clientId: string; readonly clientSecret: string; readonly audiences: readonly string[] };
  /** A confidential client with Keycloak's standard flow (authorization code, `openid`), e.g. the gateway's browser sign-in. */
  readonly webClient?: { readonly clientId: string; readonly clientSecret: string; readonly redirectUris: readonly string[] };
}

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The confidential client every realm has, for client-credentials tokens. */
export const SERVICE_CLIENT = { clientId: 'test-service', clientSecret: 'test-service-secret' } as const;

const DEFAULT_USERS: Record<string, TestUser> = {
  alice: { password: 'alice', realmRoles: ['user'] },
  admin: { password: 'admin', realmRoles: ['user', 'admin'] },
};

/** Keycloak's realm-relative endpoint paths, as oidc-provider route names. */
const KEYCLOAK_ROUTES = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  jwks: '/protocol/openid-connect/certs',
  userinfo: '/protocol/openid-connect/userinfo',
  end_session: '/protocol/openid-connect/logout',
  introspection: '/protocol/openid-connect/token/introspect',
  revocation: '/protocol/openid-connect/revoke',
  registration: '/clients-registrations/openid-connect',
};

type SigningKey = JWK & { kid: string };

export class TestOpenIdProvider {
  static async start(options: TestRealmOptions): Promise<TestOpenIdProvider> {
    const server = createServer();
    // As Keycloak, which keeps idle connections open far longer than Node's 5 s default: a client that reuses a pooled
    // connection just as the server drops it gets "other side closed" (mcp-remote's token request did, on a busy CI).
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const realm = options.realm ?? 'mcp';
    const instance = new TestOpenIdProvider(server, `http://127.0.0.1:${port}`, realm, options);
    await instance.rotateSigningKey({ keepPrevious: false });
    server.on('request', (req, res) => instance.route(req, res));
    return instance;
  }

  readonly issuer: string;
  /** The issuer where the realm listens (what a gateway's back-channel URL names); the URLs below use it. */
  readonly listeningIssuer: string;
  readonly realmPath: string;
  readonly jwksUrl: string;
  readonly discoveryUrl: string;
  readonly registrationUrl: string;
  readonly tokenUrl: string;
  /** How many times the JWKS was served (tests of key caching read it). */
  jwksRequests = 0;
  /** Token exchanges granted (tests of the gateway's cache read it). */
  tokenExchanges = 0;

  private provider!: Provider;
  private signingKeys: SigningKey[] = [];
  private jwksAvailable = true;
  private discoveryAvailable = true;
  private readonly users: Readonly<Record<string, TestUser>>;
  private readonly resources: ReadonlySet<string>;
  /** Clients, grants, codes and sessions; kept across key rotations, which replace the Provider instance. */
  private readonly store = new Map<string, AdapterPayload>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    readonly realm: string,
    private readonly options: TestRealmOptions,
  ) {
    this.realmPath = `/realms/${realm}`;
    this.issuer = `${options.publicOrigin ?? origin}${this.realmPath}`;
    this.listeningIssuer = `${origin}${this.realmPath}`;
    this.jwksUrl = `${this.listeningIssuer}${KEYCLOAK_ROUTES.jwks}`;
    this.discoveryUrl = `${this.listeningIssuer}/.well-known/openid-configuration`;
    this.registrationUrl = `${this.listeningIssuer}${KEYCLOAK_ROUTES.registration}`;
    this.tokenUrl = `${this.listeningIssuer}${KEYCLOAK_ROUTES.token}`;
    this.users = options.users ?? DEFAULT_USERS;
    this.resources = new Set(options.resources);
  }

  /**
   * Signs new tokens with a fresh key. With `keepPrevious` (a normal rotation) the old keys stay in the
   * JWKS so tokens already issued keep verifying; without it they disappear (a revoked key).
   */
  async rotateSigningKey({ keepPrevious = true } = {}): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `key-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
    this.signingKeys = keepPrevious ? [jwk, ...this.signingKeys] : [jwk];
    // oidc-provider fixes its keystore at construction; state lives in `store`, so it survives the swap.
    this.provider = this.createProvider();
    return jwk.kid;
  }

  /** Simulates an outage of the JWKS endpoint (503) without touching anything else. */
  setJwksAvailable(available: boolean): void {
    this.jwksAvailable = available;
  }

  /** Simulates an outage of the discovery documents (503). */
  setDiscoveryAvailable(available: boolean): void {
    this.discoveryAvailable = available;
  }

  /** A client-credentials access token for `resource` (no user: `sub` is the client id). */
  async clientCredentialsToken(resource: string, scope = this.resourceScope): Promise<string> {
    const response = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'authorization': `Basic ${Buffer.from(`${SERVICE_CLIENT.clientId}:${SERVICE_CLIENT.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) throw new Error(`client_credentials failed: ${body.error}: ${body.error_description}`);
    return body.access_token;
  }

  /**
   * A user's access token for `resource`, through the full public-client flow: anonymous DCR, authorization
   * code with PKCE S256, the login form, and the code exchange.
   */
  async userToken(username: string, resource: string): Promise<string> {
    const redirectUri = 'http://127.0.0.1/callback';
    const registration = await fetch(this.registrationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      }),
    });
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const authorizationUrl = new URL(`${this.issuer}${KEYCLOAK_ROUTES.authorization}`);
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: this.resourceScope,
      resource,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await this.login(authorizationUrl, username);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`login did not return a code: ${callback.href}`);
    const token = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: clientId,
        code_verifier: verifier,
        resource,
      }),
    });
    const body = (await token.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!token.ok || !body.access_token) throw new Error(`code exchange failed: ${body.error}: ${body.error_description}`);
    return body.access_token;
  }

  /**
   * Signs `username` in at an authorization URL the way a browser would (following redirects, keeping
   * cookies, submitting the login form) and returns the final redirect to the client's `redirect_uri`
   * (carrying `code` and `state`, or `error`).
   */
  async login(authorizationUrl: URL | string, username: string, password = this.users[username]?.password ?? ''): Promise<URL> {
    const cookies = new Map<string, string>();
    const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair.indexOf('=');
        cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
      }
      return response;
    };
    let url = String(authorizationUrl);
    let submitted = false;
    for (let hop = 0; hop < 10; hop++) {
      if (!url.startsWith(this.origin)) return new URL(url);
      let response = await request(url);
      if (response.status === 200 && !submitted) {
        // The login page: post the credentials to the form's action, as the browser would.
        submitted = true;
        response = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password }),
        });
      }
      const location = response.headers.get('location');
      if (!location) throw new Error(`login stopped at ${url} with HTTP ${response.status}: ${await response.text()}`);
      url = new URL(location, url).href;
    }
    throw new Error('login: too many redirects');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private get resourceScope(): string {
    return this.options.resourceScope ?? 'mcp:tools';
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (!url.startsWith(`${this.realmPath}/`)) {
      res.writeHead(404).end();
      return;
    }
    const inRealm = url.slice(this.realmPath.length);
    if (inRealm.startsWith(KEYCLOAK_ROUTES.jwks)) {
      this.jwksRequests++;
      if (!this.jwksAvailable) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('JWKS temporarily unavailable');
        return;
      }
    }
    if (inRealm.startsWith('/.well-known/') && !this.discoveryAvailable) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('discovery temporarily unavailable');
      return;
    }
    if (inRealm.startsWith('/login/')) {
      this.handleLogin(req, res, inRealm.slice('/login/'.length).split('?')[0]).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
      return;
    }
    // Mounted the way express/koa-mount mount it: oidc-provider derives its mount path from originalUrl.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = inRealm;
    void this.provider.callback()(req, res);
  }

  /** Keycloak's login page, reduced to a form taking `username` and `password`. */
  private async handleLogin(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
    const details = await this.provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (details.prompt.name === 'consent') {
      // A client that sends `prompt=consent` (mcp-remote does) gets Keycloak's consent screen: one button.
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<form method="post"><button name="consent" value="yes">Yes</button></form>');
        return;
      }
      const { accountId } = details.session ?? {};
      const clientId = String(details.params.client_id);
      if (!accountId) throw new Error('consent without a signed-in user');
      const grant = new this.provider.Grant({ clientId, accountId });
      grant.addOIDCScope(String(details.params.scope ?? ''));
      for (const indicator of [details.params.resource].flat()) {
        if (typeof indicator === 'string') grant.addResourceScope(indicator, this.resourceScope);
      }
      await this.provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        '<form method="post"><input name="username"><input name="password" type="password"><button>Sign in</button></form>',
      );
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const username = form.get('username') ?? '';
    const user = this.users[username];
    if (!user || user.password !== form.get('password')) {
      await this.provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'invalid credentials' });
      return;
    }
    await this.provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }

  /**
   * The token-exchange grant as Keycloak's standard token exchange answers it: the requesting client must be
   * in the subject token's audience ("Client is not within the token audience"), the audience must be a
   * known client, and the new token names the user (`sub`) with `aud` = the requested audience.
   */
  private registerTokenExchange(provider: Provider, exchange: NonNullable<TestRealmOptions['tokenExchange']>): void {
    provider.registerGrantType(
      TOKEN_EXCHANGE_GRANT,
      async (ctx) => {
        const params = ctx.oidc.params as TokenExchangeParams;
        const fail = (status: number, error: string, description: string) => {
          ctx.status = status;
          ctx.body = { error, error_description: description };
        };
        if (ctx.oidc.client.clientId !== exchange.clientId) return fail(403, 'unauthorized_client', 'Client not allowed to exchange');
        if (params.subject_token_type !== ACCESS_TOKEN_TYPE) return fail(400, 'invalid_request', 'Invalid token type, must be access token');
        let claims: Record<string, unknown>;
        try {
          const keys = createLocalJWKSet({ keys: this.signingKeys.map(publicJwk) });
          ({ payload: claims } = await jwtVerify(params.subject_token ?? '', keys, { issuer: this.issuer }));
        } catch {
          return fail(400, 'invalid_token', 'Invalid token');
        }
        const audiences = [claims.aud].flat();
        if (!audiences.includes(exchange.clientId)) return fail(403, 'access_denied', 'Client is not within the token audience');
        if (!params.audience || !exchange.audiences.includes(params.audience)) return fail(400, 'invalid_client', 'Audience not found');
        const key = this.signingKeys[0];
        const ttl = 300;
        const scope = params.scope ?? 'profile email';
        const token = await new SignJWT({ sub: String(claims.sub), azp: exchange.clientId, scope, preferred_username: claims.preferred_username })
          .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
          .setIssuer(this.issuer)
          .setAudience(params.audience)
          .setIssuedAt()
          .setExpirationTime(`${ttl}s`)
          .setJti(randomBytes(8).toString('hex'))
          .sign(await importJWK(key, 'RS256'));
        this.tokenExchanges++;
        ctx.body = {
          'access_token': token,
          'expires_in': ttl,
          'refresh_expires_in': 0,
          'token_type': 'Bearer',
          'not-before-policy': 0,
          scope,
          'issued_token_type': ACCESS_TOKEN_TYPE,
        };
      },
      ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope'],
    );
  }

  private createProvider(): Provider {
    const resources = this.resources;
    const scope = this.resourceScope;
    const ttl = this.options.accessTokenTtlSeconds ?? 300;
    const users = this.users;
    const realmPath = this.realmPath;
    const configuration: Configuration = {
      jwks: { keys: this.signingKeys },
      adapter: memoryAdapter(this.store),
      clients: [
        {
          client_id: SERVICE_CLIENT.clientId,
          client_secret: SERVICE_CLIENT.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
        },
        ...(this.options.tokenExchange
          ? [
            {
              client_id: this.options.tokenExchange.clientId,
              client_secret: this.options.tokenExchange.clientSecret,
              grant_types: [TOKEN_EXCHANGE_GRANT],
              response_types: [],
              redirect_uris: [],
            },
          ]
          : []),
        ...(this.options.webClient
          ? [
            {
              client_id: this.options.webClient.clientId,
              client_secret: this.options.webClient.clientSecret,
              grant_types: ['authorization_code'],
              response_types: ['code' as const],
              redirect_uris: [...this.options.webClient.redirectUris],
            },
          ]
          : []),
      ],
      routes: KEYCLOAK_ROUTES,
      scopes: ['openid', 'offline_access', 'profile', 'email', 'roles', ...scope.split(' ')],
      pkce: { required: () => true },
      ttl: { AccessToken: ttl, ClientCredentials: ttl, Interaction: 600, Grant: 3600, Session: 3600, AuthorizationCode: 60, RefreshToken: 3600 },
      cookies: { keys: ['test-cookie-key'] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        registration: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx, _client, oneOf) => oneOf ?? [...resources][0],
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resourceIndicator) => {
            if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
            return {
              scope,
              audience: this.options.audienceMapper ?? resourceIndicator,
              accessTokenTTL: ttl,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      interactions: { url: (_ctx, interaction) => `${realmPath}/login/${interaction.uid}` },
      findAccount: (_ctx, sub) => (users[sub] ? { accountId: sub, claims: () => ({ sub, preferred_username: sub }) } : undefined),
      // Keycloak asks no consent of its own clients by default: grant what was asked for once the user signed in.
      loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        if (!oidc.session?.accountId || !oidc.client) return undefined;
        const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
        grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
        for (const indicator of Object.keys(oidc.resourceServers ?? {})) grant.addResourceScope(indicator, scope);
        await grant.save();
        return grant;
      },
      extraTokenClaims: (_ctx, token) => {
        const accountId = 'accountId' in token ? token.accountId : undefined;
        const user = accountId ? users[accountId] : undefined;
        return user ? { preferred_username: accountId, realm_access: { roles: [...user.realmRoles] } } : undefined;
      },
    };
    const provider = new Provider(this.issuer, configuration);
    provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));
    if (this.options.tokenExchange) this.registerTokenExchange(provider, this.options.tokenExchange);
    return provider;
  }
}

/** Keycloak's answer shape for standard token exchange: `issued_token_type`, no refresh token (`refresh_expires_in: 0`). */
interface TokenExchangeParams {
  readonly subject_token?: string;
  readonly subject_token_type?: string;
  readonly requested_token_type?: string;
  readonly audience?: string;
  readonly scope?: string;
}


/** oidc-provider's storage interface over one Map, so each test realm has its own state and no warnings. */
export function memoryAdapter(store: Map<string, AdapterPayload>): (model: string) => Adapter {
  return (model) => {
    const key = (id: string) => `${model}:${id}`;
    const find = (predicate: (payload: AdapterPayload) => boolean) => {
      for (const [k, payload] of store) if (k.startsWith(`${model}:`) && predicate(payload)) return payload;
      return undefined;
    };
    return {
      upsert: async (id, payload) => void store.set(key(id), payload),
      find: async (id) => store.get(key(id)),
      findByUid: async (uid) => find((payload) => payload.uid === uid),
      findByUserCode: async (userCode) => find((payload) => payload.userCode === userCode),
      consume: async (id) => {
        const payload = store.get(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => void store.delete(key(id)),
      revokeByGrantId: async (grantId) => {
        for (const [k, payload] of store) if (payload.grantId === grantId) store.delete(k);
      },
    };
  };
}

function publicJwk(key: SigningKey): JWK {
  const { kty, n, e, kid, alg, use } = key;
  return { kty, n, e, kid, alg, use };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
