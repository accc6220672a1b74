import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, EVERYTHING, GatewayProcess, INITIALIZE, post, PYTHON_SERVER, rawSession } from './helpers/gateway.js';

const V = { 'mcp-protocol-version': '2025-06-18' };

async function errorOf(response: Response): Promise<{ code: number; message: string }> {
  const body = (await response.json()) as { error: { code: number; message: string } };
  return body.error;
}

describe('bad input gets a clear error and the gateway keeps serving', () => {
  let gateway: GatewayProcess;
  let url: string;
  let session: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER]);
    url = `${gateway.url}/mcp`;
    session = await rawSession(url);
  });

  afterAll(async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    await gateway.stop();
  });

  const call = (body: string, headers: Record<string, string> = {}) => post(url, body, { 'mcp-session-id': session, ...V, ...headers });

  test('malformed JSON: 400 with -32700', async () => {
    const response = await call('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe(-32700);
  });

  test('not a JSON-RPC request: 400 with -32600', async () => {
    for (const body of ['{"jsonrpc":"1.0","id":1,"method":"ping"}', '42', '{"jsonrpc":"2.0","id":{},"method":"ping"}', '[]']) {
      const response = await call(body);
      expect(response.status).toBe(400);
      expect((await errorOf(response)).code).toBe(-32600);
    }
  });

  test('unknown method: -32601 from the server, passed through', async () => {
    const response = await call('{"jsonrpc":"2.0","id":7,"method":"no/such/method"}');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found: no/such/method' } });
  });

  test('unknown tool: the JSON-RPC error of the server, with the client id', async () => {
    const response = await call('{"jsonrpc":"2.0","id":"x-1","method":"tools/call","params":{"name":"nope","arguments":{}}}');
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 'x-1', error: { code: -32602, message: 'Unknown tool: nope' } });
  });

  test('oversized body: 413', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'x'.repeat(5 * 1024 * 1024) } },
    });
    const response = await call(big);
    expect(response.status).toBe(413);
    expect((await errorOf(response)).message).toMatch(/maxBodyBytes/);
  });

  test('missing session id: 400; unknown session id: 404', async () => {
    const missing = await post(url, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', V);
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).message).toMatch(/Mcp-Session-Id header is required/);
    const unknown = await post(url, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { ...V, 'mcp-session-id': 'not-a-session' });
    expect(unknown.status).toBe(404);
  });

  test('Accept without text/event-stream: 406; wrong Content-Type: 415', async () => {
    expect((await call('{"jsonrpc":"2.0","id":1,"method":"ping"}', { accept: 'application/json' })).status).toBe(406);
    expect((await call('{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'content-type': 'text/plain' })).status).toBe(415);
    const get = await fetch(url, { headers: { 'accept': 'application/json', 'mcp-session-id': session } });
    expect(get.status).toBe(406);
  });

  test('unsupported MCP-Protocol-Version: 400 naming the supported ones', async () => {
    const response = await call('{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'mcp-protocol-version': '1999-01-01' });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toMatch(/Unsupported protocol version: 1999-01-01.*2025-11-25/);
  });

  test('Origin: foreign origins get 403, loopback origins are served', async () => {
    const foreign = await call('{"jsonrpc":"2.0","id":1,"method":"ping"}', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await errorOf(foreign)).message).toMatch(/Origin https:\/\/evil.example is not allowed/);
    const local = await call('{"jsonrpc":"2.0","id":1,"method":"ping"}', { origin: 'http://localhost:5173' });
    expect(local.status).toBe(200);
  });

  test('batches: refused after 2025-03-26, answered as an array in a 2025-03-26 session', async () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 } } },
    ]);
    expect((await call(batch)).status).toBe(400);
    const init = await post(url, INITIALIZE.replace('2025-06-18', '2025-03-26'));
    const oldSession = init.headers.get('mcp-session-id')!;
    await init.text();
    const response = await post(url, batch, { 'mcp-session-id': oldSession });
    expect(response.status).toBe(200);
    const answers = (await response.json()) as Array<{ id: number; result: unknown }>;
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, 2]);
    expect(answers.find((answer) => answer.id === 2)!.result).toEqual({ content: [{ type: 'text', text: '2' }] });
  });

  test('GET and DELETE need a session; DELETE ends it', async () => {
    expect((await fetch(url, { headers: { accept: 'text/event-stream' } })).status).toBe(400);
    const doomed = await rawSession(url);
    expect((await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': doomed, ...V } })).status).toBe(200);
    const after = await post(url, '{"jsonrpc":"2.0","id":1,"method":"ping"}', { 'mcp-session-id': doomed, ...V });
    expect(after.status).toBe(404);
  });

  test('a stdio server killed mid-call fails that call with the target and signal; the next session gets a fresh process', async () => {
    const client = await connectClient(url);
    const pid = Number(((await client.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0].text);
    const pending = client.callTool({ name: 'sleep', arguments: { seconds: 30 } });
    // Kill only once the call is in the server's hands (the fixture says so on stderr, which the gateway logs).
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping'), 'the sleep call');
    process.kill(pid, 'SIGKILL');
    await expect(pending).rejects.toThrow(/stdio target "python3" was killed by SIGKILL while handling tools\/call/);
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'stdio target exited' && line.signal === 'SIGKILL'), 'the exit log line');
    await client.close();

    const next = await connectClient(url);
    const nextPid = Number(((await next.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0].text);
    expect(nextPid).not.toBe(pid);
    await next.close();
  });

  test('a stdio server that exits reports its exit code', async () => {
    const client = await connectClient(url);
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/stdio target "python3" exited with code 3/);
    await gateway.waitFor(
      () => gateway.logs.some((line) => line.msg === 'stdio target stderr' && line.stderr === 'crashing on request'),
      'the stderr line',
    );
    await client.close().catch(() => undefined);
  });
});

/**
 * The upstream timeout is tested with a call that never answers (a tool that sleeps an hour, in its own
 * thread, so the server keeps answering everything else): the limit always fires, whatever the machine's
 * load. The limit itself is generous (15 s) so that every honest request — a stdio server starting on a busy
 * 2-core machine included, whose initialize took over 5 s under `npm run test:stress` — fits well inside it.
 */
describe('limits from the configuration', () => {
  let gateway: GatewayProcess;
  let url: string;

  beforeAll(async () => {
    const file = writeConfigFile(
      'gw-limits-',
      `config:
  limits: { upstreamTimeout: 15s, maxBodyBytes: 2000 }
binds:
- port: 0
  listeners:
  - routes:
    - name: limited
      backends:
      - mcp:
          stdio: { maxProcesses: 1 }
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
    - name: everything
      matches: [{ path: { exact: /everything } }]
      backends:
      - mcp:
          targets:
          - { name: everything, stdio: { cmd: "${process.execPath}", args: ["${EVERYTHING}", stdio] } }
`,
    );
    gateway = await GatewayProcess.serving(file);
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('an upstream that does not answer in time gets a JSON-RPC error naming target, method and limit', async () => {
    const client = await connectClient(url);
    await expect(client.callTool({ name: 'sleep', arguments: { seconds: 3600 } })).rejects.toThrow(
      /target "py" did not answer tools\/call within 15s/,
    );
    // The session is still usable afterwards.
    expect((await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).content).toEqual([{ type: 'text', text: '3' }]);

    // stdio.maxProcesses: 1 and that one is taken: a second session gets a clear error, not a hang.
    const refused = await post(url, INITIALIZE);
    const body = (await refused.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/stdio process limit reached: backend "limited" already runs 1 processes/);
    await client.close();

    const bodyTooBig = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(3000) } }));
    expect(bodyTooBig.status).toBe(413);
  });

  test('progress restarts the upstream timeout: a long call that reports progress is not cut off', async () => {
    const client = await connectClient(`${gateway.url}/everything`);
    const progress: number[] = [];
    // 18 s in total, over the 15 s limit, with progress every 0.5 s: a stall would have to last 14.5 s to matter.
    const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 18, steps: 36 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(JSON.stringify(result.content)).toContain('completed');
    expect(progress).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    await client.close();
  });
});
