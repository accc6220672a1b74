/**
 * A second OAuth provider posing as GitHub (panva's `oidc-provider`): an OAuth app with a client secret,
 * authorization code with PKCE S256, opaque access tokens and refresh tokens, a login form, and GitHub's
 * `GET /user` answering with the login the bearer token belongs to. Paths as GitHub's:
 *
 *   authorize  /login/oauth/authorize        token  /login/oauth/access_token        user  /user
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { memoryAdapter } from './oidc-provider.js';

export const GITHUB_CLIENT = { clientId: 'Ov23li-test-app', clientSecret: 'github-test-app-secret' } as const;

export interface GithubUser {
  readonly password: string;
  readonly login: string;
}

export class FakeGithub {
  /** Tokens `/user` was asked about (the tests check which token reached "GitHub"). */
  readonly userRequests: string[] = [];
  /** Refresh-token grants served. */
  refreshes = 0;
  /** Access-token lifetime in seconds for tokens issued from now on. */
  accessTokenTtl = 3600;
  private readonly store = new Map<string, AdapterPayload>();
  private provider!: Provider;

  static async start(redirectUris: readonly string[], users: Readonly<Record<string, GithubUser>>): Promise<FakeGithub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const github = new FakeGithub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, users);
    github.provider = github.createProvider(redirectUris);
    server.on('request', (req, res) => github.route(req, res));
    return github;
  }

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly users: Readonly<Record<string, GithubUser>>,
  ) {}

  get authorizationUrl(): string {
    return `${this.origin}/login/oauth/authorize`;
  }

  get tokenUrl(): string {
    return `${this.origin}/login/oauth/access_token`;
  }

  /** Every access token ever issued, for grepping logs and pages. */
  issuedTokens(): string[] {
    const tokens = [...this.store.keys()].filter((key) => key.startsWith('AccessToken:') || key.startsWith('RefreshToken:'));
    return tokens.map((key) => key.split(':')[1]);
  }

  /**
   * Signs `username` in at an authorization URL as a browser would (redirects, cookies, the login form) and
   * returns the redirect that leaves "GitHub" (the client's callback with `code` and `state`).
   */
  async signIn(authorizationUrl: URL | string, username: string): Promise<URL> {
    const cookies = new Map<string, string>();
    const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie } });
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
        submitted = true;
        response = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password: this.users[username]?.password ?? '' }),
        });
      }
      const location = response.headers.get('location');
      if (!location) throw new Error(`sign-in stopped at ${url} with HTTP ${response.status}`);
      url = new URL(location, url).href;
    }
    throw new Error('sign-in: too many redirects');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/user') {
      void this.user(req, res);
      return;
    }
    if (path.startsWith('/interaction/')) {
      this.handleLogin(req, res, path.slice('/interaction/'.length)).catch((error: unknown) => res.writeHead(500).end(String(error)));
      return;
    }
    void this.provider.callback()(req, res);
  }

  private async user(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    this.userRequests.push(token);
    const found = token ? await this.provider.AccessToken.find(token) : undefined;
    const user = found?.accountId ? this.users[found.accountId] : undefined;
    if (!user) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Bad credentials' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ login: user.login }));
  }

  private async handleLogin(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        '<form method="post"><input name="username"><input name="password" type="password"><button>Sign in to GitHub</button></form>',
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

  private createProvider(redirectUris: readonly string[]): Provider {
    const users = this.users;
    const configuration: Configuration = {
      adapter: memoryAdapter(this.store),
      clients: [
        {
          client_id: GITHUB_CLIENT.clientId,
          client_secret: GITHUB_CLIENT.clientSecret,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [...redirectUris],
        },
      ],
      routes: { authorization: '/login/oauth/authorize', token: '/login/oauth/access_token', jwks: '/jwks' },
      scopes: ['openid', 'offline_access'],
      pkce: { required: () => true },
      ttl: {
        AccessToken: () => this.accessTokenTtl,
        IdToken: 3600,
        Interaction: 600,
        Grant: 3600,
        Session: 3600,
        AuthorizationCode: 60,
        RefreshToken: 86400,
      },
      cookies: { keys: ['github-cookie-key'] },
      features: { devInteractions: { enabled: false } },
      // GitHub issues refresh tokens to apps with expiring tokens, whatever the scope.
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => (users[sub] ? { accountId: sub, claims: () => ({ sub }) } : undefined),
      loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        if (!oidc.session?.accountId || !oidc.client) return undefined;
        const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
        grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
        await grant.save();
        return grant;
      },
    };
    const provider = new Provider(this.origin, configuration);
    provider.on('server_error', (_ctx, error) => console.error('fake GitHub server_error', error));
    provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
      if (ctx.oidc.params?.grant_type === 'refresh_token') this.refreshes++;
    });
    return provider;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
