import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, EVERYTHING, GatewayProcess, PYTHON_SERVER } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';
import { command, describeIf, file } from './helpers/requirements.js';
import { openSession, send } from './hostile/harness.js';

describe('stdio bridge: mcp-gateway --port P -- CMD', () => {
  describe('server-everything (Node) over stdio', () => {
    let gateway: GatewayProcess;
    let client: Client;

    beforeAll(async () => {
      gateway = await GatewayProcess.listening(['--port', '0', '--', process.execPath, EVERYTHING, 'stdio']);
      client = await connectClient(`${gateway.url}/mcp`);
    });

    afterAll(async () => {
      await client?.close();
      expect(await gateway.stop()).toBe(0);
    });

    test('initialize passes the server identity through', () => {
      expect(client.getServerVersion()?.name).toContain('everything');
      expect(client.getServerCapabilities()?.tools).toBeDefined();
    });

    test('tools/list lists every tool across all pages', async () => {
      const names = await allToolNames(client);
      expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']));
    });

    test('tools/call echo', async () => {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'through the bridge' } });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: through the bridge' }]);
    });

    test('resources/read of a listed resource', async () => {
      const { resources } = await client.listResources();
      expect(resources.length).toBeGreaterThan(0);
      const read = await client.readResource({ uri: resources[0].uri });
      expect(read.contents[0].uri).toBe(resources[0].uri);
    });

    test('prompts/get', async () => {
      const { prompts } = await client.listPrompts();
      const simple = prompts.find((prompt) => !prompt.arguments || prompt.arguments.every((argument) => !argument.required));
      expect(simple).toBeDefined();
      const prompt = await client.getPrompt({ name: simple!.name, arguments: {} });
      expect(prompt.messages.length).toBeGreaterThan(0);
    });

    test('progress notifications reach the caller before the result', async () => {
      const progress: number[] = [];
      const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, {
        onprogress: (update) => progress.push(update.progress),
      });
      expect(progress).toEqual([1, 2, 3]);
      expect(JSON.stringify(result.content)).toContain('completed');
    });

    test('notifications the server sends outside any request arrive on the GET stream', async () => {
      const received: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
        received.push(String(notification.params.level));
      });
      await client.setLoggingLevel('debug');
      await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      await client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      expect(received.length).toBeGreaterThan(0);
    });

    test.each(['/mcp/', '/', '/servers/everything'])('without --path the MCP endpoint answers on any path: %s', async (path) => {
      // The seed article's backend URL is http://localhost:8081/mcp/ (kmcp's bridge answers on any path).
      const other = await connectClient(`${gateway.url}${path}`);
      try {
        const result = await other.callTool({ name: 'echo', arguments: { message: path } });
        expect(result.content).toEqual([{ type: 'text', text: `Echo: ${path}` }]);
      } finally {
        await other.close();
      }
    });

    test('the request log names method, target and tool', async () => {
      await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'request' && line.resource === 'get-sum'), 'the get-sum log line');
      const line = gateway.logs.find((entry) => entry.msg === 'request' && entry.resource === 'get-sum')!;
      expect(line).toMatchObject({ method: 'POST', mcpMethod: 'tools/call', status: 200, route: 'bridge' });
      expect(typeof line.durationMs).toBe('number');
      expect(typeof line.session).toBe('string');
    });
  });

  describe('a Python stdio server (standard library only)', () => {
    let gateway: GatewayProcess;
    let client: Client;

    beforeAll(async () => {
      gateway = await GatewayProcess.listening(['--port', '0', '--path', '/python/mcp', '--', 'python3', PYTHON_SERVER]);
      client = await connectClient(`${gateway.url}/python/mcp`);
    });

    afterAll(async () => {
      await client?.close();
      await gateway.stop();
    });

    test('serves its tools, paginated as the server paginates', async () => {
      const first = await client.listTools();
      expect(first.tools.map((tool) => tool.name)).toEqual(['echo', 'add']);
      expect(first.nextCursor).toBeDefined();
      const second = await client.listTools({ cursor: first.nextCursor });
      expect(second.tools.map((tool) => tool.name)).toEqual(['pid', 'sleep']);
    });

    test('calls, prompts and resources', async () => {
      expect((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).content).toEqual([{ type: 'text', text: 'python says: hi' }]);
      expect((await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).content).toEqual([{ type: 'text', text: '42' }]);
      const prompt = await client.getPrompt({ name: 'greet', arguments: { who: 'gateway' } });
      expect(prompt.messages[0].content).toEqual({ type: 'text', text: 'Hello, gateway!' });
      const read = await client.readResource({ uri: 'py://motd' });
      expect(read.contents[0]).toMatchObject({ uri: 'py://motd', text: 'message of the day' });
    });

    test('the server path with a trailing slash is the same endpoint', async () => {
      const other = await connectClient(`${gateway.url}/python/mcp/`);
      try {
        expect((await other.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).content).toEqual([{ type: 'text', text: '3' }]);
      } finally {
        await other.close();
      }
    });

    test('the legacy HTTP+SSE transport answers beside the server path', async () => {
      const old = new Client({ name: 'old-client', version: '1.0.0' });
      await old.connect(new SSEClientTransport(new URL(`${gateway.url}/python/sse`)));
      try {
        expect((await old.callTool({ name: 'add', arguments: { a: 3, b: 4 } })).content).toEqual([{ type: 'text', text: '7' }]);
      } finally {
        await old.close();
      }
    });

    test('the server path is the only MCP endpoint', async () => {
      for (const path of ['/mcp', '/mcp/', '/', '/python', '/python/mcp/x', '/sse']) {
        const response = await fetch(`${gateway.url}${path}`, { method: 'POST' });
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
    });
  });
});

describe('legacy HTTP+SSE clients (2024-11-05 transport)', () => {
  test('GET /sse and POST /sse?sessionId= reach the stdio server', async () => {
    const gateway = await GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER]);
    try {
      const client = new Client({ name: 'old-client', version: '1.0.0' });
      await client.connect(new SSEClientTransport(new URL(`${gateway.url}/sse`)));
      expect(client.getServerVersion()?.name).toBe('python-fixture');
      expect((await client.callTool({ name: 'add', arguments: { a: 5, b: 6 } })).content).toEqual([{ type: 'text', text: '11' }]);
      await client.close();
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'request' && line.mcpMethod === 'tools/call'), 'the request log line');
    } finally {
      await gateway.stop();
    }
  });
});

// A server that starts in a millisecond (the bridge-portability test's static C server), so 33 sessions measure the
// bridge's admission rule and not how fast a busy machine starts 33 interpreters.
const HOST_LIBC_A = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libc.a`;
describeIf([command('gcc', 'gcc'), file(HOST_LIBC_A, 'libc6-dev')])('the bridge behind a gateway', () => {
  let work: string;
  let server: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'bridge-address-'));
    server = join(work, 'mcp-echo');
    const fixture = join(process.cwd(), 'test', 'fixtures', 'static-mcp-server.c');
    const cc = spawnSync('gcc', ['-static', '-O2', '-o', server, fixture], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // In a pod every session reaches the bridge from the gateway in front: one address. A per-client share of
  // the process ceiling (half of it, the configuration's default) would turn the 33rd user away.
  test('one client address may hold more than half of the processes the bridge allows', async () => {
    const gateway = await GatewayProcess.listening(['--port', '0', '--pool', '0', '--', server]);
    const sessions: string[] = [];
    try {
      for (let i = 0; i < 33; i++) sessions.push(await openSession(`${gateway.url}/mcp`));
      expect(new Set(sessions).size).toBe(33);
    } finally {
      await Promise.all(sessions.map((id) => send(`${gateway.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': id } })));
      await gateway.stop();
    }
  });
});
