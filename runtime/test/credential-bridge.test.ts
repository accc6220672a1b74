/**
 * The stdio bridge with `--credential-env` (issue #14, stdio servers in a cluster): the real bridge process in
 * front of the GitHub-like stdio server, which asks "GitHub" (a loopback API here) who its
 * GITHUB_PERSONAL_ACCESS_TOKEN belongs to.
 *
 * First the whole chain as a cluster runs it: the signed-in gateway (token exchange at a Keycloak-like realm,
 * memory store) whose target is the bridge with `credential.inject.header`; alice's and bob's sessions get
 * their own processes with their own tokens. Then the bridge alone, with SDK clients sending the header as the
 * gateway does: a new token in a session restarts its process, a request without the header is refused, the
 * token never reaches the bridge's logs, pool options are refused at start-up.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, FIXTURES, GatewayProcess, INITIALIZE, post } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';

const HEADER = 'X-Mcp-User-Credential';
const LOGINS: Record<string, string> = { ghu_alice_1: 'octo-alice', ghu_bob_1: 'octo-bob', ghu_alice_2: 'octo-alice-refreshed' };

/** "GitHub": `/user` names whom the bearer token belongs to (`tokens`), or the `sub` of a JWT, as `octo-<sub>`. */
async function startGithubApi(tokens: Record<string, string>, seen: string[] = []): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    seen.push(token);
    let login = tokens[token];
    if (!login && token.startsWith('ey')) login = `octo-${String(decodeJwt(token).sub)}`;
    res.writeHead(login ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(login ? { login } : { message: 'Bad credentials' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

function bridgeArgs(): string[] {
  return ['--port', '0', '--credential-env', 'GITHUB_PERSONAL_ACCESS_TOKEN', '--', process.execPath, join(FIXTURES, 'github-user-server.mjs')];
}

async function whoAmI(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'get_me', arguments: {} });
  return (result.content as Array<{ text: string }>)[0].text;
}

describe('gateway → bridge: each signed-in user\'s stdio process runs with that user\'s own token', () => {
  const AUDIENCE = 'mcp_proxy';
  const EXCHANGE = { clientId: AUDIENCE, clientSecret: 'exchange-secret', audiences: ['github'] };
  let idp: TestOpenIdProvider;
  let github: { server: Server; url: string };
  const seen: string[] = [];
  let bridge: GatewayProcess;
  let gateway: GatewayProcess;
  let endpoint: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}/mcp`;
    idp = await TestOpenIdProvider.start({
      resources: [endpoint],
      audienceMapper: AUDIENCE,
      users: { alice: { password: 'alice', realmRoles: ['user'] }, bob: { password: 'bob', realmRoles: ['user'] } },
      tokenExchange: EXCHANGE,
    });
    github = await startGithubApi({}, seen);
    bridge = await GatewayProcess.listening(bridgeArgs(), { GITHUB_API_URL: github.url });
    const config = {
      config: {
        credentials: {
          store: { memory: {} },
          encryptionKey: { value: randomBytes(32).toString('base64') },
          providers: { github: { tokenExchange: { clientId: EXCHANGE.clientId, clientSecret: { env: 'EXCHANGE_SECRET' }, audience: 'github' } } },
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
                  matches: [{ path: { pathPrefix: '/mcp' } }],
                  backends: [
                    {
                      mcp: {
                        targets: [
                          {
                            name: 'github',
                            mcp: { host: `${bridge.url}/mcp` },
                            // What CredentialInjection.env renders: the token alone, in the bridge's header.
                            credential: { provider: 'github', inject: { header: HEADER, prefix: '' } },
                          },
                        ],
                      },
                    },
                  ],
                  policies: { mcpAuthentication: { issuer: idp.issuer, jwksUrl: idp.jwksUrl, audience: AUDIENCE, provider: { keycloak: {} } } },
                },
              ],
            },
          ],
        },
      ],
    };
    gateway = await GatewayProcess.serving(writeConfigFile('credential-bridge-', JSON.stringify(config)), { EXCHANGE_SECRET: EXCHANGE.clientSecret });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await gateway?.stop();
    await bridge?.stop();
    await idp?.close();
    await new Promise((resolve) => github?.server.close(resolve));
  });

  async function signedIn(user: 'alice' | 'bob'): Promise<{ client: Client; token: string }> {
    const token = await idp.userToken(user, endpoint);
    const client = await connectClient(endpoint, new Client({ name: `bridge-${user}`, version: '1.0.0' }), { authorization: `Bearer ${token}` });
    clients.push(client);
    return { client, token };
  }

  test('alice and bob, signed in at the same time, reach GitHub as themselves through their own processes', async () => {
    const [alice, bob] = await Promise.all([signedIn('alice'), signedIn('bob')]);
    expect(await Promise.all([whoAmI(alice.client), whoAmI(bob.client), whoAmI(alice.client)])).toEqual(['octo-alice', 'octo-bob', 'octo-alice']);
    // "GitHub" saw exchanged tokens for its audience, never a user's sign-in token.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const token of seen) {
      expect(decodeJwt(token)).toMatchObject({ aud: 'github', azp: EXCHANGE.clientId });
      expect([alice.token, bob.token]).not.toContain(token);
    }
    const tokens = new Set(seen);
    expect(tokens.size).toBe(2);
    // The bridge started one process per session with a credential, and logged none of the tokens.
    const bridgeOutput = JSON.stringify(bridge.logs) + bridge.stderr;
    for (const token of tokens) expect(bridgeOutput).not.toContain(token);
  });
});

describe('bridge --credential-env: one process per session, started with its caller\'s credential', () => {
  let github: { server: Server; url: string };
  let bridge: GatewayProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    github = await startGithubApi(LOGINS);
    bridge = await GatewayProcess.listening(bridgeArgs(), { GITHUB_API_URL: github.url });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    expect(await bridge?.stop()).toBe(0);
    await new Promise((resolve) => github?.server.close(resolve));
  });

  /** A client whose every request carries `headers`, read at each request (so a test can change the token). */
  async function connect(headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'gateway-as-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }

  test('alice and bob, at the same time, each act as themselves', async () => {
    const [alice, bob] = await Promise.all([connect({ [HEADER]: 'ghu_alice_1' }), connect({ [HEADER]: 'ghu_bob_1' })]);
    expect(await Promise.all([whoAmI(alice), whoAmI(bob), whoAmI(alice)])).toEqual(['octo-alice', 'octo-bob', 'octo-alice']);
  });

  test('a new token in a session restarts its process with it: the old process serves no request of the new one', async () => {
    const headers = { [HEADER]: 'ghu_alice_1' };
    const alice = await connect(headers);
    expect(await whoAmI(alice)).toBe('octo-alice');
    headers[HEADER] = 'ghu_alice_2';
    expect(await whoAmI(alice)).toBe('octo-alice-refreshed');
    await bridge.waitFor(() => bridge.logs.some((line) => line.msg === 'stdio target restarted with the user\'s credential'), 'the restart');
  });

  test('initialize and later requests without the header are refused with a JSON-RPC error naming it', async () => {
    const response = await post(`${bridge.url}/mcp`, INITIALIZE);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(-32600);
    expect(body.error.message).toContain('x-mcp-user-credential');

    const opened = await post(`${bridge.url}/mcp`, INITIALIZE, { [HEADER]: 'ghu_bob_1' });
    expect(opened.status).toBe(200);
    await opened.text();
    const session = opened.headers.get('mcp-session-id')!;
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const refused = await post(`${bridge.url}/mcp`, list, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
    expect(refused.status).toBe(400);
    await refused.text();
  });

  test('no token reaches the bridge\'s output', () => {
    const output = JSON.stringify(bridge.logs) + bridge.stderr + bridge.stdout;
    expect(bridge.logs.length).toBeGreaterThan(0);
    for (const token of Object.keys(LOGINS)) expect(output).not.toContain(token);
  });

  test.each([['--shared'], ['--pool', '2'], ['--pool-reuse']])('%s with --credential-env is refused at start-up', async (...flags) => {
    const refused = GatewayProcess.start(['--port', '0', '--credential-env', 'TOKEN', ...flags, '--', process.execPath, '-e', '0']);
    expect(await refused.exitCode()).toBe(2);
    expect(refused.stderr).toContain(`--credential-env excludes ${flags[0]}`);
  });
});

describe('bridge --credential-optional: users who have not connected yet get a process without the variable', () => {
  let github: { server: Server; url: string };
  let bridge: GatewayProcess;
  let client: Client | undefined;

  beforeAll(async () => {
    github = await startGithubApi(LOGINS);
    const args = bridgeArgs();
    bridge = await GatewayProcess.listening([...args.slice(0, 4), '--credential-optional', ...args.slice(4)], { GITHUB_API_URL: github.url });
  });

  afterAll(async () => {
    await client?.close();
    expect(await bridge?.stop()).toBe(0);
    await new Promise((resolve) => github?.server.close(resolve));
  });

  test('no header: tools listed, no token; connected: restarted with it; disconnected: restarted without it', async () => {
    const headers: Record<string, string> = {};
    client = new Client({ name: 'gateway-as-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }));
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['get_me']);
    expect(await whoAmI(client)).toBe('GITHUB_PERSONAL_ACCESS_TOKEN is not set');
    headers[HEADER] = 'ghu_alice_1';
    expect(await whoAmI(client)).toBe('octo-alice');
    delete headers[HEADER];
    expect(await whoAmI(client)).toBe('GITHUB_PERSONAL_ACCESS_TOKEN is not set');
  });
});
