/**
 * The credential broker against a real OAuth provider (the GitHub-like oidc-provider), without a gateway:
 * the connect steps' single use and expiry (the clock is set, not waited for), PKCE and state, refresh of
 * an expiring token, and sealing bound to the row.
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { FakeGithub, GITHUB_CLIENT } from './support/github-provider.js';
import { ConnectRefused, CredentialBroker } from '../src/credentials/broker.js';
import { rowContext, Sealer } from '../src/credentials/sealing.js';
import { MemoryCredentialStore } from '../src/credentials/store.js';
import { StructuredLogger } from '../src/telemetry/logger.js';

const BASE = 'http://127.0.0.1:1';
const ALICE = { issuer: 'https://idp.example/realms/mcp', subject: 'alice' };

describe('credential broker', () => {
  let github: FakeGithub;
  let broker: CredentialBroker;
  let store: MemoryCredentialStore;
  const logged: string[] = [];

  beforeAll(async () => {
    github = await FakeGithub.start([`${BASE}/connect/github/callback`], { alice: { password: 'pw', login: 'octo-alice' } });
  });

  beforeEach(() => {
    store = new MemoryCredentialStore();
    const sink = { write: (line: string) => logged.push(line) } as unknown as NodeJS.WritableStream;
    broker = new CredentialBroker(
      {
        store: { kind: 'memory' },
        encryptionKey: randomBytes(32),
        providers: new Map([
          [
            'github',
            {
              kind: 'oauth2',
              name: 'github',
              authorizationUrl: github.authorizationUrl,
              tokenUrl: github.tokenUrl,
              clientId: GITHUB_CLIENT.clientId,
              clientSecret: GITHUB_CLIENT.clientSecret,
              scopes: ['openid', 'offline_access'],
            },
          ],
        ]),
      },
      store,
      new StructuredLogger('debug', 'json', sink),
      async () => {
        throw new Error('no token exchange here');
      },
    );
  });

  afterEach(() => jest.restoreAllMocks());
  afterAll(() => github.close());

  /** alice connects: link → begin → sign-in at "GitHub" → finish with the browser's cookie. */
  async function connect(): Promise<void> {
    const link = await broker.connectLink(ALICE, 'github', BASE);
    const secret = new URL(link.url).searchParams.get('link')!;
    const { authorizationUrl, binding } = await broker.begin('github', secret, BASE);
    const callback = await github.signIn(authorizationUrl, 'alice');
    expect(callback.pathname).toBe('/connect/github/callback');
    await broker.finish('github', callback.searchParams.get('state')!, callback.searchParams.get('code')!, binding);
  }

  async function loginOf(token: string): Promise<string> {
    const response = await fetch(`${github.origin}/user`, { headers: { authorization: `Bearer ${token}` } });
    return ((await response.json()) as { login: string }).login;
  }

  test('a connected token is the user\'s; the row is sealed to issuer|subject|provider', async () => {
    github.accessTokenTtl = 3600;
    await connect();
    const token = await broker.tokenFor(ALICE, 'github', undefined);
    expect(await loginOf(token!)).toBe('octo-alice');
    expect(await broker.tokenFor({ ...ALICE, subject: 'bob' }, 'github', undefined)).toBeUndefined();
    const row = await store.get(ALICE, 'github');
    expect(row!.sealed.toString('latin1')).not.toContain(token);
    // The same sealed bytes under bob's row do not open.
    await store.put({ ...ALICE, subject: 'bob' }, 'github', row!.sealed, row!.expiresAt);
    expect(await broker.tokenFor({ ...ALICE, subject: 'bob' }, 'github', undefined)).toBeUndefined();
    expect(await broker.connections(ALICE)).toEqual({ github: true });
  });

  test('an expiring token is refreshed with the refresh token before it is handed out', async () => {
    // Shorter than the refresh margin: every use refreshes, no waiting.
    github.accessTokenTtl = 30;
    await connect();
    const refreshesBefore = github.refreshes;
    const first = await broker.tokenFor(ALICE, 'github', undefined);
    expect(github.refreshes).toBe(refreshesBefore + 1);
    expect(await loginOf(first!)).toBe('octo-alice');
    const [a, b] = await Promise.all([broker.tokenFor(ALICE, 'github', undefined), broker.tokenFor(ALICE, 'github', undefined)]);
    // Concurrent uses share one refresh (a rotated refresh token works once).
    expect(a).toBe(b);
    expect(github.refreshes).toBe(refreshesBefore + 2);
  });

  test('links and states are single-use, expire, and belong to one provider', async () => {
    const link = await broker.connectLink(ALICE, 'github', BASE);
    const secret = new URL(link.url).searchParams.get('link')!;
    await expect(broker.inspectLink('gitlab', secret)).rejects.toMatchObject({ status: 400 });
    expect(await broker.inspectLink('github', secret)).toEqual(ALICE);
    const { binding } = await broker.begin('github', secret, BASE);
    await expect(broker.begin('github', secret, BASE)).rejects.toMatchObject({ status: 410 });
    await expect(broker.finish('github', randomBytes(32).toString('base64url'), 'code', binding)).rejects.toMatchObject({ status: 400 });
    await expect(broker.inspectLink('github', 'not-a-link')).rejects.toBeInstanceOf(ConnectRefused);

    const later = await broker.connectLink(ALICE, 'github', BASE);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 11 * 60_000);
    const expired = broker.inspectLink('github', new URL(later.url).searchParams.get('link')!);
    await expect(expired).rejects.toMatchObject({ status: 410, message: expect.stringMatching(/expired/) });
  });

  test('sealing: another key or another row context does not open', () => {
    const key = randomBytes(32);
    const sealed = new Sealer(key).seal('secret-token', rowContext('iss', 'alice', 'github'));
    expect(new Sealer(key).open(sealed, rowContext('iss', 'alice', 'github'))).toBe('secret-token');
    expect(new Sealer(key).open(sealed, rowContext('iss', 'bob', 'github'))).toBeUndefined();
    expect(new Sealer(randomBytes(32)).open(sealed, rowContext('iss', 'alice', 'github'))).toBeUndefined();
    // `|` in a subject cannot make two different rows share a context.
    expect(rowContext('a|b', 'c', 'd')).not.toBe(rowContext('a', 'b|c', 'd'));
  });

  afterAll(() => {
    for (const token of github.issuedTokens()) for (const line of logged) expect(line).not.toContain(token);
  });
});
