/**
 * Per-user credentials for 2026-07-28 clients, over raw HTTP with the real gateway process, the Keycloak-like
 * sign-in realm, a provider posing as GitHub and the stdio server that asks it whose token it holds. A client
 * that declared URL elicitation gets an input_required result whose `elicitation/create` carries the connect
 * link (2026-07-28 has no -32042 and no elicitationId); its retry (`inputResponses`, `requestState`) runs the
 * call once the user connected, asks again while they have not, and gets the text form when they declined.
 * Memory store: the database and the browser are covered by credentials.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeConfigFile } from './helpers/config-file.js';
import { FIXTURES, GatewayProcess, post } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { FakeGithub, GITHUB_CLIENT } from './support/github-provider.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { takeCredentialRetry } from '../src/credentials/elicitation.js';

type Json = Record<string, any>;
const MODERN = '2026-07-28';
const AUDIENCE = 'mcp_proxy';
const SLOW = 120_000;
const USERS = { alice: { password: 'alice', realmRoles: ['user'] }, bob: { password: 'bob', realmRoles: ['user'] } };
const SIGN_IN_CLIENT = { clientId: 'mcp-gateway-connect', clientSecret: randomBytes(16).toString('hex') };
const LINK = /^http:\/\/127\.0\.0\.1:\d+\/connect\/github\/start\?link=[A-Za-z0-9_-]{43}$/;

describe('per-user credentials for 2026-07-28 clients', () => {
  let idp: TestOpenIdProvider;
  let github: FakeGithub;
  let gateway: GatewayProcess;
  let endpoint: string;
  let nextId = 1;

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}/mcp`;
    idp = await TestOpenIdProvider.start({
      resources: [endpoint],
      audienceMapper: AUDIENCE,
      users: USERS,
      webClient: { ...SIGN_IN_CLIENT, redirectUris: [`http://127.0.0.1:${port}/connect/_signin/callback`] },
    });
    github = await FakeGithub.start([`http://127.0.0.1:${port}/connect/github/callback`], {
      alice: { password: 'alice-gh', login: 'octo-alice' },
      bob: { password: 'bob-gh', login: 'octo-bob' },
    });
    const config = {
      config: {
        credentials: {
          store: { memory: {} },
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
      binds: [{
        port,
        listeners: [{
          routes: [{
            name: 'github',
            matches: [{ path: { pathPrefix: '/mcp' } }, { path: { pathPrefix: '/.well-known' } }],
            backends: [{
              mcp: {
                targets: [{
                  name: 'github',
                  stdio: { cmd: process.execPath, args: [join(FIXTURES, 'github-user-server.mjs')], env: { GITHUB_API_URL: github.origin } },
                  credential: { provider: 'github', inject: { env: 'GITHUB_PERSONAL_ACCESS_TOKEN' } },
                }],
              },
            }],
            policies: {
              mcpAuthentication: {
                issuer: idp.issuer,
                jwksUrl: idp.jwksUrl,
                audience: AUDIENCE,
                provider: { keycloak: {} },
                resourceMetadata: { resource: endpoint },
              },
            },
          }],
        }],
      }],
    };
    const env = {
      CREDENTIALS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      GITHUB_CLIENT_SECRET: GITHUB_CLIENT.clientSecret,
      SIGN_IN_CLIENT_SECRET: SIGN_IN_CLIENT.clientSecret,
    };
    gateway = await GatewayProcess.serving(writeConfigFile('credentials-modern-', JSON.stringify(config)), env);
  }, SLOW);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([idp?.close(), github?.close()]);
  }, SLOW);

  /** One 2026-07-28 `tools/call get_me`, headers mirrored as the revision asks; the JSON-RPC answer. */
  async function getMe(token: string, capabilities: Json, extra: Json = {}): Promise<Json> {
    const id = nextId++;
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientCapabilities': capabilities,
      'io.modelcontextprotocol/clientInfo': { name: 'modern-raw', version: '1' },
    };
    const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_me', arguments: {}, ...extra, _meta } };
    const response = await post(endpoint, JSON.stringify(body), {
      'authorization': `Bearer ${token}`,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'get_me',
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as Json;
    const answers = text.split('\n').filter((line) => line.startsWith('data:')).map((line) => JSON.parse(line.slice(5)) as Json);
    return answers.filter((answer) => answer.id === id).pop()!;
  }

  /** The connect link of an input_required result, after checking its shape. */
  function linkOf(answer: Json): string {
    expect(answer.error).toBeUndefined();
    expect(answer.result).toEqual({
      resultType: 'input_required',
      inputRequests: {
        'connect-github': {
          method: 'elicitation/create',
          params: { mode: 'url', message: 'Connect your github account to continue.', url: expect.stringMatching(LINK) },
        },
      },
      requestState: 'gwc1.github',
    });
    return answer.result.inputRequests['connect-github'].params.url as string;
  }

  /** The browser signs in at the realm as the link's user (the gateway's own OIDC client); the session cookie. */
  async function realmSession(link: string, user: 'alice' | 'bob'): Promise<string> {
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const flowCookie = opened.headers.get('set-cookie')!.split(';')[0];
    const callback = await idp.login(new URL(opened.headers.get('location')!), user);
    const signedIn = await fetch(callback, { headers: { cookie: flowCookie }, redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    return signedIn.headers.getSetCookie().find((line) => line.startsWith('mcp-signin-session='))!.split(';')[0];
  }

  /** The user's browser steps over plain HTTP: realm sign-in, the confirmation POST, the provider sign-in, the callback. */
  async function connect(link: string, user: 'alice' | 'bob'): Promise<void> {
    const session = await realmSession(link, user);
    const started = await fetch(new URL('/connect/github/start', link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': session },
      body: `link=${new URL(link).searchParams.get('link')}`,
      redirect: 'manual',
    });
    expect(started.status).toBe(303);
    const callback = await github.signIn(started.headers.get('location')!, user);
    expect((await fetch(callback, { headers: { cookie: started.headers.get('set-cookie')!.split(';')[0] } })).status).toBe(200);
  }

  test('URL elicitation comes as input_required with the link; the retry asks again until alice connected, then runs as her', async () => {
    const token = await idp.userToken('alice', endpoint);
    const capabilities = { elicitation: { url: {} } };
    const first = linkOf(await getMe(token, capabilities));

    const early = await getMe(token, capabilities, { inputResponses: { 'connect-github': { action: 'accept' } }, requestState: 'gwc1.github' });
    const second = linkOf(early);
    expect(second).not.toBe(first);

    await connect(second, 'alice');
    const done = await getMe(token, capabilities, { inputResponses: { 'connect-github': { action: 'accept' } }, requestState: 'gwc1.github' });
    expect(done.error).toBeUndefined();
    expect(done.result).toMatchObject({ content: [{ type: 'text', text: 'octo-alice' }] });
    expect(done.result?.isError).toBeUndefined();
    // The stdio server asked "GitHub" with alice's token.
    expect(github.userRequests.length).toBeGreaterThan(0);

    // She disconnects and connects again: the next call runs in a process started with the new token, never in
    // the idle one still holding the old (which "GitHub" would still accept).
    const oldToken = github.userRequests[github.userRequests.length - 1];
    const origin = new URL(endpoint).origin;
    expect((await fetch(`${origin}/connect/github`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    await connect(linkOf(await getMe(token, capabilities)), 'alice');
    const again = await getMe(token, capabilities);
    expect(again.result).toMatchObject({ content: [{ type: 'text', text: 'octo-alice' }] });
    expect(github.userRequests[github.userRequests.length - 1]).not.toBe(oldToken);
  }, SLOW);

  test('a user who declines gets the text form with a link; a client without URL elicitation gets it at once', async () => {
    const token = await idp.userToken('bob', endpoint);
    const decline = { inputResponses: { 'connect-github': { action: 'decline' } }, requestState: 'gwc1.github' };
    const declined = await getMe(token, { elicitation: { url: {} } }, decline);
    expect(declined.result?.isError).toBe(true);
    expect(declined.result?.content[0].text).toMatch(/Open http:\/\/127\.0\.0\.1:\d+\/connect\/github\/start\?link=\S+ in your browser/);

    const formOnly = await getMe(token, { elicitation: { form: {} } });
    expect(formOnly.result?.isError).toBe(true);
    const link = /(http:\/\/\S+\/connect\/github\/start\?link=[A-Za-z0-9_-]{43})/.exec(formOnly.result?.content[0].text)![1];
    await connect(link, 'bob');
    expect((await getMe(token, {})).result).toMatchObject({ content: [{ type: 'text', text: 'octo-bob' }] });
  }, SLOW);

  test('the retry\'s requestState and inputResponses are the gateway\'s: they are taken off before the call goes upstream', () => {
    const params: Json = { name: 'get_me', requestState: 'gwc1.github', inputResponses: { 'connect-github': { action: 'cancel' } } };
    expect(takeCredentialRetry(params)).toEqual({ declined: true });
    expect(params).toEqual({ name: 'get_me' });
    const upstreams: Json = { name: 'x', requestState: 'the-target-own-state', inputResponses: { a: {} } };
    expect(takeCredentialRetry(upstreams)).toBeUndefined();
    expect(upstreams.requestState).toBe('the-target-own-state');
    const accepted = { requestState: 'gwc1.github', inputResponses: { 'connect-github': { action: 'accept' } } };
    expect(takeCredentialRetry(accepted)).toEqual({ declined: false });
  });
});
