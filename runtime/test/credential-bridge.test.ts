/**
 * The stdio bridge with `--credential-env` (issue #14, stdio servers in a cluster): the real bridge process in
 * front of the GitHub-like stdio server, which asks "GitHub" (a loopback API here) who its
 * GITHUB_PERSONAL_ACCESS_TOKEN belongs to. SDK clients send the credential header as the gateway's
 * `credential.inject.header` does: alice's and bob's sessions get their own processes with their own tokens,
 * a new token in a session restarts its process, a request without the header is refused, the token never
 * reaches the bridge's logs.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIXTURES, GatewayProcess, INITIALIZE, post } from './helpers/gateway.js';

const HEADER = 'X-Mcp-User-Credential';
const LOGINS: Record<string, string> = { 'ghu_alice_1': 'octo-alice', 'ghu_bob_1': 'octo-bob', 'ghu_alice_2': 'octo-alice-refreshed' };

describe('bridge --credential-env: one process per session, started with its caller\'s credential', () => {
  let github: Server;
  let bridge: GatewayProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    github = createServer((req, res) => {
      const login = LOGINS[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
      res.writeHead(login ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(login ? { login } : { message: 'Bad credentials' }));
    });
    await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
    const api = `http://127.0.0.1:${(github.address() as { port: number }).port}`;
    bridge = await GatewayProcess.listening(
      ['--port', '0', '--credential-env', 'GITHUB_PERSONAL_ACCESS_TOKEN', '--', process.execPath, join(FIXTURES, 'github-user-server.mjs')],
      { GITHUB_API_URL: api },
    );
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    expect(await bridge?.stop()).toBe(0);
    await new Promise((resolve) => github?.close(resolve));
  });

  /** A client whose every request carries `headers`, read at each request (so a test can change the token). */
  async function connect(headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'gateway-as-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${bridge.url}/mcp`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }

  async function whoAmI(client: Client): Promise<string> {
    const result = await client.callTool({ name: 'get_me', arguments: {} });
    return (result.content as Array<{ text: string }>)[0].text;
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
