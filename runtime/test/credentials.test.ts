/**
 * Each user's own GitHub credential, end to end with real parts: the gateway process (twice, as two replicas
 * on one real PostgreSQL), the Keycloak-like sign-in realm, a second OAuth provider posing as GitHub, a stdio
 * server that asks "GitHub" who its GITHUB_PERSONAL_ACCESS_TOKEN belongs to, the SDK client declaring URL
 * elicitation, and headless Chromium for the browser step.
 *
 * alice calls get_me → -32042 with a connect link → the browser signs in at the realm as alice (the gateway's
 * own client: the link must be opened by its user), confirms and signs in at "GitHub" →
 * callback → notifications/elicitation/complete → retry → get_me says alice's GitHub login. bob (a client
 * without URL elicitation) gets the text fallback and his own login; the second replica sees alice's
 * connection; disconnect brings the elicitation back; tampered, replayed and other users' links are refused,
 * also alice's link in a browser signed in at the realm as bob;
 * no token appears in logs, /metrics, the admin JSON or the database in clear.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitationCompleteNotificationSchema, UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser } from 'playwright-core';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, FIXTURES, GatewayProcess } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { describeIf, file } from './helpers/requirements.js';
import { CHROMIUM } from './support/browser-login.js';
import { FakeGithub, GITHUB_CLIENT } from './support/github-provider.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { POSTGRESQL, TestPostgres } from './support/postgres.js';

/** PostgreSQL, two gateways and Chromium on a busy 2-core machine: hooks and browser steps get more than the default. */
const SLOW = 120_000;

const AUDIENCE = 'mcp_proxy';
const USERS = { alice: { password: 'alice', realmRoles: ['user'] }, bob: { password: 'bob', realmRoles: ['user'] } };
const GITHUB_USERS = { alice: { password: 'alice-gh', login: 'octo-alice' }, bob: { password: 'bob-gh', login: 'octo-bob' } };
/** The gateway's own client at the realm, for signing in the browser that opens a connect link. */
const SIGN_IN_CLIENT = { clientId: 'mcp-gateway-connect', clientSecret: randomBytes(16).toString('hex') };

interface Replica {
  readonly gateway: GatewayProcess;
  readonly endpoint: string;
  readonly origin: string;
  readonly adminPort: number;
  readonly statsPort: number;
}

interface SignedIn {
  readonly client: Client;
  readonly token: string;
  /** elicitationIds of `notifications/elicitation/complete` received. */
  readonly completed: string[];
}

describeIf([POSTGRESQL, file(CHROMIUM, 'chromium')])('per-user GitHub credentials through URL elicitation', () => {
  let postgres: TestPostgres;
  let idp: TestOpenIdProvider;
  let github: FakeGithub;
  let one: Replica;
  let two: Replica;
  /** One Chromium for the file; each browser step gets a fresh context (no cookies from the one before). */
  let browser: Browser;
  const clients: Client[] = [];
  const env: NodeJS.ProcessEnv = {
    CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    GITHUB_CLIENT_SECRET: GITHUB_CLIENT.clientSecret,
    SIGN_IN_CLIENT_SECRET: SIGN_IN_CLIENT.clientSecret,
  };

  beforeAll(async () => {
    postgres = await TestPostgres.start();
    env.CREDENTIALS_DATABASE_URL = postgres.url;
    const ports = [await freePort(), await freePort()];
    const endpoints = ports.map((port) => `http://127.0.0.1:${port}/mcp`);
    idp = await TestOpenIdProvider.start({
      resources: endpoints,
      audienceMapper: AUDIENCE,
      users: USERS,
      webClient: { ...SIGN_IN_CLIENT, redirectUris: ports.map((port) => `http://127.0.0.1:${port}/connect/_signin/callback`) },
    });
    github = await FakeGithub.start(
      ports.map((port) => `http://127.0.0.1:${port}/connect/github/callback`),
      GITHUB_USERS,
    );
    [one, two] = await Promise.all(ports.map((port) => startReplica(port)));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  }, SLOW);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await Promise.all([one?.gateway.stop(), two?.gateway.stop()]);
    await Promise.all([idp?.close(), github?.close()]);
    await postgres?.stop();
    // launch() gave it a fresh, empty profile directory of its own, removed on close.
    await browser?.close();
  }, SLOW);

  async function startReplica(port: number): Promise<Replica> {
    const [adminPort, statsPort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${port}/mcp`;
    const config = {
      config: {
        adminAddr: `127.0.0.1:${adminPort}`,
        statsAddr: `127.0.0.1:${statsPort}`,
        credentials: {
          store: { postgres: { url: { env: 'CREDENTIALS_DATABASE_URL' } } },
          encryptionKey: { env: 'CREDENTIALS_ENCRYPTION_KEY' },
          providers: {
            github: {
              oauth2: {
                authorizationUrl: github.authorizationUrl,
                tokenUrl: github.tokenUrl,
                clientId: GITHUB_CLIENT.clientId,
                clientSecret: { env: 'GITHUB_CLIENT_SECRET' },
                scopes: ['openid', 'offline_access'],
              },
            },
          },
          browserSignIn: { clientId: SIGN_IN_CLIENT.clientId, clientSecret: { env: 'SIGN_IN_CLIENT_SECRET' } },
        },
      },
      binds: [
        {
          port,
          listeners: [
            {
              routes: [
                {
                  name: 'github',
                  matches: [{ path: { pathPrefix: '/mcp' } }, { path: { pathPrefix: '/.well-known' } }],
                  backends: [
                    {
                      mcp: {
                        targets: [
                          {
                            name: 'github',
                            stdio: {
                              cmd: process.execPath,
                              args: [join(FIXTURES, 'github-user-server.mjs')],
                              env: { GITHUB_API_URL: github.origin },
                            },
                            credential: { provider: 'github', inject: { env: 'GITHUB_PERSONAL_ACCESS_TOKEN' } },
                          },
                        ],
                      },
                    },
                  ],
                  policies: {
                    mcpAuthentication: {
                      issuer: idp.issuer,
                      jwksUrl: idp.jwksUrl,
                      audience: AUDIENCE,
                      provider: { keycloak: {} },
                      resourceMetadata: { resource: endpoint },
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const gateway = await GatewayProcess.serving(writeConfigFile('credentials-', JSON.stringify(config)), env);
    return { gateway, endpoint, origin: `http://127.0.0.1:${port}`, adminPort, statsPort };
  }

  async function signIn(replica: Replica, username: 'alice' | 'bob', urlElicitation: boolean): Promise<SignedIn> {
    const token = await idp.userToken(username, replica.endpoint);
    const client = new Client({ name: `creds-${username}`, version: '1.0.0' }, { capabilities: urlElicitation ? { elicitation: { url: {} } } : {} });
    const completed: string[] = [];
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      completed.push(notification.params.elicitationId);
    });
    await connectClient(replica.endpoint, client, { authorization: `Bearer ${token}` });
    clients.push(client);
    return { client, token, completed };
  }

  async function getMe(user: SignedIn): Promise<{ text: string; isError: boolean }> {
    const result = (await user.client.callTool({ name: 'get_me', arguments: {} })) as { content: Array<{ text: string }>; isError?: boolean };
    return { text: result.content[0].text, isError: result.isError === true };
  }

  async function elicitationOf(user: SignedIn): Promise<{ elicitationId: string; url: string }> {
    const error = await user.client.callTool({ name: 'get_me', arguments: {} }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UrlElicitationRequiredError);
    expect((error as UrlElicitationRequiredError).code).toBe(-32042);
    const [elicitation] = (error as UrlElicitationRequiredError).elicitations;
    expect(elicitation.mode).toBe('url');
    return elicitation as { elicitationId: string; url: string };
  }

  /**
   * The user at the browser: opens the link, signs in at the realm as `realmUser`, confirms, signs in at "GitHub",
   * lands on the gateway's callback page (or on the refusal page, where the steps stop).
   */
  async function connectInBrowser(link: string, githubUser: 'alice' | 'bob', realmUser = githubUser): Promise<string> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(90_000);
      await page.goto(link);
      // The realm's sign-in form, the confirmation page, then GitHub's sign-in form, then the gateway's callback page.
      for (let step = 0; step < 5 && !new URL(page.url()).pathname.endsWith('/callback'); step++) {
        if ((await page.locator('button').count()) === 0) break;
        if ((await page.locator('input[name=username]').count()) > 0) {
          const atRealm = new URL(page.url()).origin === idp.origin;
          await page.fill('input[name=username]', atRealm ? realmUser : githubUser);
          await page.fill('input[name=password]', atRealm ? USERS[realmUser].password : GITHUB_USERS[githubUser].password);
        }
        const before = page.url();
        await Promise.all([page.waitForURL((url) => url.href !== before, { waitUntil: 'load' }), page.click('button')]);
      }
      return await page.content();
    } finally {
      await context.close();
    }
  }

  /**
   * The realm sign-in a browser does when it opens a link, over plain HTTP: the gateway's redirect to the realm, the
   * login, the gateway's callback. Resolves with the session cookie (`name=value`) the gateway set.
   */
  async function realmSession(link: string, realmUser: 'alice' | 'bob'): Promise<string> {
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const authorize = new URL(opened.headers.get('location')!);
    expect(authorize.origin).toBe(idp.origin);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const flowCookie = opened.headers.get('set-cookie')!.split(';')[0];
    const callback = await idp.login(authorize, realmUser);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    // RFC 9207: a response naming another issuer is refused (the flow cookie is kept, so the real one still works).
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'http://127.0.0.1:1/realms/other');
    expect((await fetch(mixedUp, { headers: { cookie: flowCookie }, redirect: 'manual' })).status).toBe(400);
    const signedIn = await fetch(callback, { headers: { cookie: flowCookie }, redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(`${new URL(link).pathname}${new URL(link).search}`);
    const session = signedIn.headers.getSetCookie().find((line) => line.startsWith('mcp-signin-session='))!;
    expect(session).toMatch(/; Path=\/connect\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    return session.split(';')[0];
  }

  /** The same steps over plain HTTP (realm sign-in, confirmation POST, provider sign-in, callback with the cookie). */
  async function connectOverHttp(link: string, githubUser: 'alice' | 'bob'): Promise<Response> {
    const session = await realmSession(link, githubUser);
    const started = await fetch(new URL('/connect/github/start', link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': session },
      body: `link=${new URL(link).searchParams.get('link')}`,
      redirect: 'manual',
    });
    expect(started.status).toBe(303);
    const callback = await github.signIn(started.headers.get('location')!, githubUser);
    return fetch(callback, { headers: { cookie: started.headers.get('set-cookie')!.split(';')[0] } });
  }

  /** Waits for something the gateway does after an event (a notification); a generous bound, not a timing assertion. */
  async function eventually(condition: () => boolean, what: string): Promise<void> {
    const until = Date.now() + 60_000;
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  let alice: SignedIn;

  test('alice: tools are listed before she connects; get_me asks for GitHub by URL elicitation; after the browser step it runs as her', async () => {
    alice = await signIn(one, 'alice', true);
    const { tools } = await alice.client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('get_me');
    const elicitation = await elicitationOf(alice);
    expect(elicitation.url).toMatch(new RegExp(`^${one.origin}/connect/github/start\\?link=[A-Za-z0-9_-]{43}$`));
    const page = await connectInBrowser(elicitation.url, 'alice');
    expect(page).toContain('github connected');
    await eventually(() => alice.completed.includes(elicitation.elicitationId), 'notifications/elicitation/complete');
    expect(await getMe(alice)).toEqual({ text: 'octo-alice', isError: false });
    // The token reached "GitHub" from the stdio server, and it was alice's.
    expect(github.userRequests.length).toBeGreaterThan(0);
  }, SLOW);

  test('bob, whose client has no URL elicitation, gets the link as a tool error, connects, and acts as himself', async () => {
    const bob = await signIn(one, 'bob', false);
    const refused = await getMe(bob);
    expect(refused.isError).toBe(true);
    const link = /(http:\/\/\S+\/connect\/github\/start\?link=[A-Za-z0-9_-]{43})/.exec(refused.text)?.[1];
    expect(link).toBeDefined();
    await connectInBrowser(link!, 'bob');
    expect(await getMe(bob)).toEqual({ text: 'octo-bob', isError: false });
    expect(await getMe(alice)).toEqual({ text: 'octo-alice', isError: false });
  }, SLOW);

  test('the second replica on the same database sees alice\'s connection', async () => {
    const aliceThere = await signIn(two, 'alice', true);
    expect(await getMe(aliceThere)).toEqual({ text: 'octo-alice', isError: false });
  }, SLOW);

  test('a row copied to another user does not decrypt: bob gets an elicitation, never alice\'s GitHub identity', async () => {
    const [bobs] = await postgres.query<{ sealed: Buffer }>('SELECT sealed FROM mcp_user_credentials WHERE subject = \'bob\'');
    await postgres.query(
      'UPDATE mcp_user_credentials SET sealed = (SELECT sealed FROM mcp_user_credentials WHERE subject = \'alice\') WHERE subject = \'bob\'',
    );
    const bob = await signIn(two, 'bob', true);
    await elicitationOf(bob);
    await postgres.query('UPDATE mcp_user_credentials SET sealed = $1 WHERE subject = \'bob\'', [bobs.sealed]);
    expect(await getMe(bob)).toEqual({ text: 'octo-bob', isError: false });
  }, SLOW);

  test('tampered, replayed, other users\' and cross-browser links are refused', async () => {
    await signIn(one, 'alice', true);
    const bobToken = await idp.userToken('bob', one.endpoint);
    const aliceAgain = await signIn(one, 'alice', true);
    await fetch(`${one.origin}/connect/github`, { method: 'DELETE', headers: { authorization: `Bearer ${aliceAgain.token}` } });
    const { url } = await elicitationOf(aliceAgain);
    const secret = new URL(url).searchParams.get('link')!;
    const tampered = `${one.origin}/connect/github/start?link=${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect((await fetch(tampered)).status).toBe(400);
    // bob's session (his bearer token) opening alice's link.
    expect((await fetch(url, { headers: { authorization: `Bearer ${bobToken}` } })).status).toBe(403);
    expect((await fetch(url, {
      method: 'POST',
      headers: { 'authorization': `Bearer ${bobToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `link=${secret}`,
    })).status).toBe(403);
    // Another site's auto-submitted form (a browser sends its Origin) cannot use the link.
    const crossSite = await fetch(`${one.origin}/connect/github/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'origin': 'http://evil.example' },
      body: `link=${secret}`,
      redirect: 'manual',
    });
    expect(crossSite.status).toBe(403);
    // A browser that did not sign in at the realm is sent there; its POST is refused.
    const notSignedIn = await fetch(url, { redirect: 'manual' });
    expect(notSignedIn.status).toBe(303);
    expect(notSignedIn.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}/`));
    expect((await fetch(`${one.origin}/connect/github/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `link=${secret}`,
    })).status).toBe(403);
    const aliceBrowser = await realmSession(url, 'alice');
    // A session cookie sealed by someone without the key is ignored: back to the realm.
    expect((await fetch(url, { headers: { cookie: `mcp-signin-session=${'A'.repeat(120)}` }, redirect: 'manual' })).status).toBe(303);
    // The confirmation page names the account, without using the link up.
    const confirm = await fetch(url, { headers: { cookie: aliceBrowser } });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('alice');
    // Using it up (the browser's POST) → redirect to GitHub; then it is gone, whoever tries.
    const started = await fetch(`${one.origin}/connect/github/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': aliceBrowser },
      body: `link=${secret}`,
      redirect: 'manual',
    });
    expect(started.status).toBe(303);
    const authorize = new URL(started.headers.get('location')!);
    expect(authorize.origin).toBe(github.origin);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect((await fetch(url)).status).toBe(410);
    expect((await fetch(`${one.origin}/connect/github/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `link=${secret}`,
    })).status).toBe(410);
    // The provider's answer finished in another browser (no cookie from the start) is refused, and the state is then used up.
    const state = authorize.searchParams.get('state')!;
    const callback = await github.signIn(authorize, 'alice');
    expect(callback.searchParams.get('state')).toBe(state);
    expect((await fetch(callback)).status).toBe(403);
    expect((await fetch(callback, { headers: { cookie: started.headers.get('set-cookie')!.split(';')[0] } })).status).toBe(410);
    // A state nobody issued.
    expect((await fetch(`${one.origin}/connect/github/callback?state=${'x'.repeat(43)}&code=abc`)).status).toBe(400);
    // None of it connected alice.
    await elicitationOf(aliceAgain);
  }, SLOW);

  test('alice\'s link opened in a browser signed in at the realm as bob is refused, and nothing is stored for anyone', async () => {
    const aliceNow = await signIn(one, 'alice', true);
    await fetch(`${one.origin}/connect/github`, { method: 'DELETE', headers: { authorization: `Bearer ${aliceNow.token}` } });
    const before = await postgres.query<{ subject: string; updated: string }>(
      'SELECT subject, sealed::text AS updated FROM mcp_user_credentials ORDER BY subject',
    );
    const { url } = await elicitationOf(aliceNow);
    const issued = github.issuedTokens().length;
    const page = await connectInBrowser(url, 'bob', 'bob');
    expect(page).toContain('Cannot connect');
    expect(page).toContain('belongs to another user');
    expect(page).not.toContain('github connected');
    expect(github.issuedTokens().length).toBe(issued);
    expect(await postgres.query('SELECT subject, sealed::text AS updated FROM mcp_user_credentials ORDER BY subject')).toEqual(before);
    await elicitationOf(aliceNow);
    // The link was not used up: alice herself, in her own browser, still can.
    expect(await connectInBrowser(url, 'alice')).toContain('github connected');
    expect(await getMe(aliceNow)).toEqual({ text: 'octo-alice', isError: false });
    await fetch(`${one.origin}/connect/github`, { method: 'DELETE', headers: { authorization: `Bearer ${aliceNow.token}` } });
  }, SLOW);

  test('disconnect forgets the credential: the next call asks again, also on the other replica', async () => {
    const aliceNow = await signIn(one, 'alice', true);
    const { url } = await elicitationOf(aliceNow);
    expect((await connectOverHttp(url, 'alice')).status).toBe(200);
    expect(await getMe(aliceNow)).toEqual({ text: 'octo-alice', isError: false });
    const unauthenticated = await fetch(`${one.origin}/connect/github`, { method: 'DELETE' });
    expect(unauthenticated.status).toBe(401);
    const aliceAtTwo = await idp.userToken('alice', two.endpoint);
    const removed = await fetch(`${two.origin}/connect/github`, { method: 'DELETE', headers: { authorization: `Bearer ${aliceAtTwo}` } });
    expect(removed.status).toBe(204);
    await elicitationOf(aliceNow);
    await elicitationOf(await signIn(two, 'alice', true));
  }, SLOW);

  test('no token appears in the logs, /metrics, the admin JSON or the database in clear; the admin page lists connections', async () => {
    const tokens = [...github.issuedTokens()];
    expect(tokens.length).toBeGreaterThan(2);
    const connections = await (await fetch(`http://127.0.0.1:${one.adminPort}/api/connections`)).text();
    expect(JSON.parse(connections)).toEqual({
      store: 'postgres',
      connections: [expect.objectContaining({ issuer: idp.issuer, subject: 'bob', provider: 'github' })],
    });
    const surfaces = [
      connections,
      await (await fetch(`http://127.0.0.1:${one.adminPort}/api/status`)).text(),
      await (await fetch(`http://127.0.0.1:${two.adminPort}/api/status`)).text(),
      await (await fetch(`http://127.0.0.1:${one.statsPort}/metrics`)).text(),
      JSON.stringify(one.gateway.logs) + one.gateway.stderr,
      JSON.stringify(two.gateway.logs) + two.gateway.stderr,
    ];
    const rows = await postgres.query<{ sealed: Buffer }>('SELECT sealed FROM mcp_user_credentials');
    const pending = await postgres.query<{ sealed: Buffer }>('SELECT sealed FROM mcp_user_credentials_pending');
    const stored = [...rows, ...pending].map((row) => row.sealed.toString('latin1'));
    for (const token of tokens) {
      for (const surface of [...surfaces, ...stored]) expect(surface).not.toContain(token);
    }
    // The admin page itself, rendered: the connections table names bob and github, and nothing else of it.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${one.adminPort}/`);
    await page.waitForSelector('#connections td:has-text("bob")');
    const rendered = await page.content();
    await context.close();
    surfaces.push(rendered);
    // The client secret and encryption key stay out of the admin page too.
    for (const secret of [GITHUB_CLIENT.clientSecret, env.CREDENTIALS_ENCRYPTION_KEY!]) {
      for (const surface of surfaces) expect(surface).not.toContain(secret);
    }
  }, SLOW);
});
