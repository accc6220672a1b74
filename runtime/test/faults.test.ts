/**
 * Faults the other suites do not cover, against real processes: an HTTP upstream that goes away and comes
 * back, SIGTERM with calls in flight and new ones arriving, a client that drops its SSE response mid-call,
 * and a stdio server killed mid-call, each checked in the metrics and the admin JSON as well.
 * (Malformed input, timeouts and the stdio crash error text are in bad-input.test.ts; the basic drain in
 * lifecycle.test.ts.)
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, GatewayProcess, post, PYTHON_SERVER, rawSession } from './helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

/** A TCP switch in front of an upstream: `down()` refuses connections and cuts open ones, `up()` serves again on the same port. */
class Switch {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.track(client);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

function portOf(gateway: GatewayProcess, msg: string): number {
  return gateway.logs.find((line) => line.msg === msg)!.port as number;
}

/** A sample's value from the Prometheus text, 0 when the series does not exist yet. */
async function metric(gateway: GatewayProcess, name: string, labels: Record<string, string>): Promise<number> {
  const exposition = await (await fetch(`http://127.0.0.1:${portOf(gateway, 'metrics listening')}/metrics`)).text();
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

async function adminStatus(gateway: GatewayProcess): Promise<{
  sessionCount: number;
  routes: Array<{
    name: string;
    sessions: number;
    stdioProcesses: unknown[];
    targets: Array<{ name: string; health: { state: string; lastError?: string } }>;
  }>;
}> {
  return (await fetch(`http://localhost:${portOf(gateway, 'admin page listening')}/api/status`)).json() as never;
}

function text(result: unknown): string {
  return ((result as { content: Array<{ text: string }> }).content[0] ?? { text: '' }).text;
}

function configFor(httpUrl: string): string {
  return `config:
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
  drainTimeout: 20s
binds:
- port: 0
  listeners:
  - routes:
    - name: web
      matches: [{ path: { exact: /web/mcp } }]
      backends:
      - mcp:
          targets:
          - { name: web, mcp: { host: "${httpUrl}" } }
    - name: py
      matches: [{ path: { exact: /py/mcp } }]
      backends:
      - mcp:
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
`;
}

async function startGateway(httpUrl: string): Promise<GatewayProcess> {
  const file = writeConfigFile('gw-faults-', configFor(httpUrl));
  const gateway = await GatewayProcess.serving(file);
  await gateway.waitFor(
    () => gateway.logs.some((line) => line.msg === 'metrics listening') && gateway.logs.some((line) => line.msg === 'admin page listening'),
    'admin ports',
  );
  return gateway;
}

describe('faults', () => {
  let upstream: TestUpstream;
  let toggle: Switch;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    upstream = await startStreamableServer('web');
    toggle = new Switch({ host: '127.0.0.1', port: Number(new URL(upstream.url).port) });
    await toggle.up();
    gateway = await startGateway(`http://127.0.0.1:${toggle.port}/mcp`);
  });

  afterAll(async () => {
    await gateway?.stop();
    await toggle?.down();
    await upstream?.close();
  });

  test('an HTTP upstream that goes down fails calls with a clear error and is counted; once back, the same session works again', async () => {
    const client = await connectClient(`${gateway.url}/web/mcp`);
    expect(text(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
    const before = await metric(gateway, 'mcp_gateway_upstream_errors_total', { route: 'web', target: 'web', reason: 'unavailable' });

    await toggle.down();
    await expect(client.callTool({ name: 'add', arguments: { a: 2, b: 2 } })).rejects.toThrow(
      /target "web" failed tools\/call: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/,
    );
    // A new session cannot start either, and says which target is missing.
    await expect(connectClient(`${gateway.url}/web/mcp`)).rejects.toThrow(/target "web"/);
    expect(await metric(gateway, 'mcp_gateway_upstream_errors_total', { route: 'web', target: 'web', reason: 'unavailable' })).toBeGreaterThanOrEqual(
      before + 2,
    );
    expect(await metric(gateway, 'mcp_gateway_mcp_requests_total', { route: 'web', target: 'web', method: 'tools/call', outcome: 'error' })).toBe(1);
    const down = await adminStatus(gateway);
    expect(down.routes.find((route) => route.name === 'web')!.targets[0].health).toMatchObject({
      state: 'failed',
      lastError: expect.stringContaining('ECONNREFUSED'),
    });

    await toggle.up();
    expect(text(await client.callTool({ name: 'add', arguments: { a: 3, b: 4 } }))).toBe('7');
    const fresh = await connectClient(`${gateway.url}/web/mcp`);
    expect(text(await fresh.callTool({ name: 'whoami', arguments: {} }))).toBe('web');
    const back = await adminStatus(gateway);
    expect(back.routes.find((route) => route.name === 'web')!.targets[0].health.state).toBe('connected');
    await fresh.close();
    await client.close();
  });

  test('a client that drops its SSE response mid-call leaves no stray process or session once its session ends', async () => {
    const url = `${gateway.url}/py/mcp`;
    const session = await rawSession(url);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18', 'accept': 'text/event-stream, application/json' };
    const response = await post(
      url,
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { seconds: 1 } } }),
      headers,
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    await reader.read(); // the priming event: the stream is open
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping'), 'the sleep call');
    await reader.cancel();
    await gateway.waitFor(
      () => gateway.logs.some((line) => line.msg === 'request' && line.mcpMethod === 'tools/call' && line.session === `${session.slice(0, 8)}…`),
      'the dropped request to end',
    );
    // The session survives a dropped stream (the client may resume it) and keeps working.
    const again = await post(
      url,
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { message: 'still here' } } }),
      {
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-06-18',
      },
    );
    expect(await again.text()).toContain('python says: still here');
    expect((await adminStatus(gateway)).routes.find((route) => route.name === 'py')!.stdioProcesses).toHaveLength(1);

    const deleted = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } });
    expect(deleted.status).toBe(200);
    const status = await adminStatus(gateway);
    const py = status.routes.find((route) => route.name === 'py')!;
    expect({ sessions: py.sessions, processes: py.stdioProcesses.length }).toEqual({ sessions: 0, processes: 0 });
    expect(await metric(gateway, 'mcp_gateway_stdio_processes', { route: 'py', target: 'py' })).toBe(0);
    expect(await metric(gateway, 'mcp_gateway_sessions_active', { route: 'py' })).toBe(0);
  });

  test('a stdio server killed mid-call is counted as exited and lost; the next session gets a fresh, counted process', async () => {
    const labels = { route: 'py', target: 'py' };
    const startedBefore = await metric(gateway, 'mcp_gateway_stdio_process_events_total', { ...labels, event: 'started' });
    const exitedBefore = await metric(gateway, 'mcp_gateway_stdio_process_events_total', { ...labels, event: 'exited' });
    const client = await connectClient(`${gateway.url}/py/mcp`);
    const pid = Number(text(await client.callTool({ name: 'pid', arguments: {} })));
    const pending = client.callTool({ name: 'sleep', arguments: { seconds: 30 } });
    const sleeping = gateway.logs.filter((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping').length;
    await gateway.waitFor(
      () => gateway.logs.filter((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping').length > sleeping,
      'the sleep call',
    );
    process.kill(pid, 'SIGKILL');
    await expect(pending).rejects.toThrow(/killed by SIGKILL/);
    await client.close().catch(() => undefined);

    expect(await metric(gateway, 'mcp_gateway_stdio_process_events_total', { ...labels, event: 'exited' })).toBe(exitedBefore + 1);
    expect(await metric(gateway, 'mcp_gateway_upstream_errors_total', { ...labels, reason: 'connection_lost' })).toBe(1);
    expect(await metric(gateway, 'mcp_gateway_stdio_processes', labels)).toBe(0);

    const next = await connectClient(`${gateway.url}/py/mcp`);
    expect(Number(text(await next.callTool({ name: 'pid', arguments: {} })))).not.toBe(pid);
    expect(await metric(gateway, 'mcp_gateway_stdio_process_events_total', { ...labels, event: 'started' })).toBe(startedBefore + 2);
    expect(await metric(gateway, 'mcp_gateway_stdio_process_events_total', { ...labels, event: 'restarted' })).toBe(1);
    expect(await metric(gateway, 'mcp_gateway_stdio_processes', labels)).toBe(1);
    await next.close();
  });
});

describe('SIGTERM with calls in flight', () => {
  test('running calls finish, /readyz answers 503, new requests are refused, exit code 0', async () => {
    const upstream = await startStreamableServer('web');
    const gateway = await startGateway(upstream.url);
    try {
      const first = await connectClient(`${gateway.url}/py/mcp`);
      const second = await connectClient(`${gateway.url}/py/mcp`);
      const idle = await connectClient(`${gateway.url}/web/mcp`);
      const running = [first.callTool({ name: 'sleep', arguments: { seconds: 1 } }), second.callTool({ name: 'sleep', arguments: { seconds: 1 } })];
      await gateway.waitFor(
        () => gateway.logs.filter((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping').length === 2,
        'both calls',
      );
      gateway.child.kill('SIGTERM');
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'draining'), 'draining');

      expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
      const refused = await post(`${gateway.url}/web/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }), {
        'mcp-session-id': (idle.transport as { sessionId?: string }).sessionId!,
        'mcp-protocol-version': '2025-06-18',
      });
      expect(refused.status).toBe(503);
      expect(await refused.text()).toMatch(/shutting down/);
      const newSession = await post(
        `${gateway.url}/web/mcp`,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'late', version: '1' } },
        }),
      );
      expect(newSession.status).toBe(503);

      expect((await Promise.all(running)).map(text)).toEqual(['slept', 'slept']);
      expect(await gateway.exitCode()).toBe(0);
      await Promise.all([first, second, idle].map((client) => client.close().catch(() => undefined)));
    } finally {
      await gateway.stop();
      await upstream.close();
    }
  });
});
