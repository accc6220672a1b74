import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { writeConfigFile } from './helpers/config-file.js';
import { GatewayProcess, post, PYTHON_SERVER, rawSession } from './helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

const SESSION_KEY = randomBytes(32).toString('hex');

describe('two gateway replicas with one session key serve one session', () => {
  let upstream: TestUpstream;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    upstream = await startStreamableServer('remote');
    const file = writeConfigFile(
      'gw-scale-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: shared
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
          - { name: remote, mcp: { host: "${upstream.url}" } }
`,
    );
    [a, b] = await Promise.all([
      GatewayProcess.serving(file, { SESSION_KEY }),
      GatewayProcess.serving(file, { SESSION_KEY }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await upstream?.close();
  });

  test('POST to A, POST to B, GET stream on B, DELETE on A', async () => {
    const seen: string[] = [];
    let posts = 0;
    // A round-robin load balancer in one function: POSTs alternate, the GET stream lands on B, DELETE on A.
    const balancer = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const method = init?.method ?? 'GET';
      const replica = method === 'GET' ? b : method === 'DELETE' ? a : posts++ % 2 === 0 ? a : b;
      const url = new URL(String(input));
      url.port = String(replica.ports[0]);
      const response = await fetch(url, init);
      seen.push(`${method} ${replica === a ? 'A' : 'B'} ${response.status}`);
      return response;
    };
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${a.ports[0]}/mcp`), { fetch: balancer });
    const client = new Client({ name: 'roaming', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.callTool({ name: 'whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'remote' }]);
    expect((await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).content).toEqual([{ type: 'text', text: '3' }]);
    expect((await client.callTool({ name: 'whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'remote' }]);
    await b.waitFor(() => seen.some((entry) => entry.startsWith('GET B')), 'the GET stream on B');
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    await client.close();

    // B still holds the session it took over, but the upstream session is gone: the client must start anew.
    const stale = await post(`${b.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }), {
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    });
    expect(stale.status).toBe(404);
    expect(((await stale.json()) as { error: { message: string } }).error.message).toMatch(/no longer knows this session/);

    expect(seen).toEqual(expect.arrayContaining(['POST A 200', 'POST B 200', 'GET B 200', 'DELETE A 200']));
    expect(seen.filter((entry) => entry.startsWith('POST B')).length).toBeGreaterThanOrEqual(2);
    // B took the session over from its id alone: the upstream was initialized once, and its session ended once.
    expect(b.logs.some((line) => line.msg === 'session resumed from its id')).toBe(true);
    expect(upstream.initializeCount).toBe(1);
    expect(upstream.deleteCount).toBe(1);
  });

  test('a session id sealed with another key is not found', async () => {
    const other = await GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER], { SESSION_KEY: randomBytes(32).toString('hex') });
    try {
      const id = await rawSession(`${other.url}/mcp`);
      const response = await post(`${a.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-06-18',
      });
      expect(response.status).toBe(404);
    } finally {
      await other.stop();
    }
  });
});

describe('sessions with stdio targets', () => {
  test('cannot move to another replica, and the 404 says why', async () => {
    const [first, second] = await Promise.all([
      GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER], { SESSION_KEY }),
      GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER], { SESSION_KEY }),
    ]);
    try {
      const id = await rawSession(`${first.url}/mcp`);
      const response = await post(`${second.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-06-18',
      });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/stdio/);
      expect(body.error.message).toMatch(/cannot move to another replica/);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
