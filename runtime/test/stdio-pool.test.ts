import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, EVERYTHING, GatewayProcess } from './helpers/gateway.js';

/**
 * A stdio server that writes what it lives through to a journal (one line per event, with its pid), so
 * a test can see which process served which session and what each process was told.
 */
function journalServer(): { script: string; journal: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pool-'));
  const journal = join(dir, 'journal');
  const script = join(dir, 'server.mjs');
  writeFileSync(journal, '');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const note = (what) => appendFileSync(${JSON.stringify(journal)}, process.pid + ' ' + what + '\\n');
note('start');
let calls = 0;
const asked = new Map();
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.method === undefined) {
    const reply = asked.get(m.id);
    if (reply) { asked.delete(m.id); reply(m); }
    return;
  }
  if (m.id === undefined) { note('notification ' + m.method); return; }
  if (m.method === 'initialize') {
    note('initialize ' + m.params.clientInfo.name + ' ' + JSON.stringify(m.params.capabilities));
    return send({ id: m.id, result: {
      protocolVersion: m.params.protocolVersion,
      capabilities: { tools: {}, logging: {}, resources: { subscribe: true } },
      serverInfo: { name: 'journal', version: '1' },
    } });
  }
  if (m.method === 'tools/list') return send({ id: m.id, result: { tools: [
    { name: 'whoami', inputSchema: { type: 'object' } },
    { name: 'ask', inputSchema: { type: 'object' } },
  ] } });
  if (m.method === 'tools/call' && m.params.name === 'whoami') {
    calls++;
    const text = process.pid + ':' + calls + ':' + (m.params.arguments?.tag ?? '');
    return setTimeout(() => send({ id: m.id, result: { content: [{ type: 'text', text }] } }), Number(m.params.arguments?.delayMs ?? 0));
  }
  if (m.method === 'tools/call' && m.params.name === 'ask') {
    const id = 'ask-' + m.id;
    asked.set(id, (answer) => {
      const text = answer.error ? 'error: ' + answer.error.message : 'roots: ' + JSON.stringify(answer.result);
      send({ id: m.id, result: { content: [{ type: 'text', text }] } });
    });
    return send({ id, method: 'roots/list' });
  }
  note('request ' + m.method);
  send({ id: m.id, result: {} });
});
process.stdin.on('end', () => { note('stdin closed'); process.exit(0); });
`,
  );
  return { script, journal };
}

function journalOf(file: string): Array<{ pid: number; event: string }> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ pid: Number(line.slice(0, line.indexOf(' '))), event: line.slice(line.indexOf(' ') + 1) }));
}

function poolConfig(script: string, pool: Record<string, unknown>): string {
  return writeConfigFile(
    'gw-pool-',
    `config:
  adminAddr: 127.0.0.1:0
binds:
- port: 0
  listeners:
  - routes:
    - name: pooled
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
          - name: journal
            stdio:
              cmd: ${JSON.stringify(process.execPath)}
              args: [${JSON.stringify(script)}]
              pool: ${JSON.stringify(pool)}
`,
  );
}

async function whoami(client: Client, args: Record<string, unknown> = {}): Promise<{ pid: number; calls: number; tag: string }> {
  const result = await client.callTool({ name: 'whoami', arguments: args });
  const [pid, calls, tag] = (result.content as Array<{ text: string }>)[0].text.split(':');
  return { pid: Number(pid), calls: Number(calls), tag };
}

/** Ends the session as a client's DELETE does, so the gateway releases its process. */
async function endSession(client: Client): Promise<void> {
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await client.close();
}

async function until(condition: () => boolean, gateway: GatewayProcess, what: string): Promise<void> {
  while (!condition()) {
    await Promise.race([
      new Promise((resolve) => setTimeout(resolve, 25)),
      gateway.exitCode().then(() => Promise.reject(new Error(`gateway exited before ${what}`))),
    ]);
  }
}

const initializedBy = (journal: string, pid: number): string[] =>
  journalOf(journal)
    .filter((entry) => entry.pid === pid && entry.event.startsWith('initialize'))
    .map((entry) => entry.event);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('warm pool of stdio processes', () => {
  test('a session takes a pre-initialized spare (no second initialize, one initialized) and a replacement starts', async () => {
    const { script, journal } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { size: 2 }));
    try {
      await until(() => journalOf(journal).filter((e) => e.event.startsWith('initialize')).length === 2, gateway, 'two spares');
      const spares = journalOf(journal).filter((e) => e.event.startsWith('initialize')).map((e) => e.pid);
      const client = await connectClient(`${gateway.url}/mcp`, new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: {} }));
      expect(client.getServerVersion()?.name).toBe('journal');
      const { pid } = await whoami(client);
      expect(spares).toContain(pid);
      // The pool's handshake was the only one, with the gateway's clientInfo; the client's `initialized` arrived once.
      expect(initializedBy(journal, pid)).toEqual(['initialize mcp-gateway {}']);
      await until(
        () => journalOf(journal).some((e) => e.pid === pid && e.event === 'notification notifications/initialized'),
        gateway,
        'initialized',
      );
      expect(journalOf(journal).filter((e) => e.pid === pid && e.event === 'notification notifications/initialized')).toHaveLength(1);
      await until(() => journalOf(journal).filter((e) => e.event === 'start').length === 3, gateway, 'a replacement spare');
      await client.close();
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('a client announcing other capabilities gets a process of its own, initialized by itself', async () => {
    const { script, journal } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { size: 1 }));
    try {
      await until(() => journalOf(journal).some((e) => e.event.startsWith('initialize')), gateway, 'the spare');
      const client = await connectClient(
        `${gateway.url}/mcp`,
        new Client({ name: 'roots-client', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } }),
      );
      const { pid } = await whoami(client);
      expect(initializedBy(journal, pid)).toEqual(['initialize roots-client {"roots":{"listChanged":true}}']);
      await client.close();
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('reuse: a clean process serves the next session; one that saw logging/setLevel is stopped, not reused', async () => {
    const { script, journal } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { size: 1, reuse: true }));
    try {
      await until(() => journalOf(journal).some((e) => e.event.startsWith('initialize')), gateway, 'the spare');
      const first = await connectClient(`${gateway.url}/mcp`);
      const a = await whoami(first);
      await endSession(first);
      const second = await connectClient(`${gateway.url}/mcp`);
      const b = await whoami(second);
      // Same process, which counted the first session's call: reuse is for servers without per-session state.
      expect(b).toEqual({ pid: a.pid, calls: 2, tag: '' });
      expect(initializedBy(journal, a.pid)).toHaveLength(1);
      expect(journalOf(journal).filter((e) => e.pid === a.pid && e.event === 'notification notifications/initialized')).toHaveLength(1);
      await second.setLoggingLevel('debug');
      await endSession(second);
      await until(() => !alive(a.pid), gateway, 'the tainted process to stop');
      await gateway.waitFor(
        () => gateway.logs.some((line) => line.msg === 'stdio process not reused' && String(line.reason).includes('logging/setLevel')),
        'the reason',
      );
      const third = await connectClient(`${gateway.url}/mcp`);
      expect((await whoami(third)).pid).not.toBe(a.pid);
      await third.close();
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('drain: SIGTERM stops the spares and every session process, and the gateway exits 0', async () => {
    const { script, journal } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { size: 2 }));
    await until(() => journalOf(journal).filter((e) => e.event.startsWith('initialize')).length === 2, gateway, 'two spares');
    const client = await connectClient(`${gateway.url}/mcp`);
    await whoami(client);
    await until(() => journalOf(journal).filter((e) => e.event.startsWith('initialize')).length === 3, gateway, 'the replacement');
    const pids = [...new Set(journalOf(journal).map((e) => e.pid))];
    expect(await gateway.stop()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    await client.close();
  });
});

describe('shared stdio process (pool.shared)', () => {
  test('sessions share one process; concurrent calls get their own answers back', async () => {
    const { script, journal } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { shared: true }));
    try {
      const clients = await Promise.all([1, 2, 3].map(() => connectClient(`${gateway.url}/mcp`)));
      // The slow call first: answers come back out of order and must still reach their callers.
      const answers = await Promise.all(clients.map((client, index) => whoami(client, { tag: `c${index}`, delayMs: (3 - index) * 100 })));
      expect(answers.map((answer) => answer.tag)).toEqual(['c0', 'c1', 'c2']);
      expect(new Set(answers.map((answer) => answer.pid)).size).toBe(1);
      expect(journalOf(journal).filter((e) => e.event.startsWith('initialize'))).toHaveLength(1);
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('a server-to-client request is refused to the server, never shown to a client; logging/setLevel is refused', async () => {
    const { script } = journalServer();
    const gateway = await GatewayProcess.serving(poolConfig(script, { shared: true }));
    try {
      const asked: string[] = [];
      const client = new Client({ name: 'roots-client', version: '1.0.0' }, { capabilities: { roots: {} } });
      client.setRequestHandler(ListRootsRequestSchema, async () => {
        asked.push('roots/list');
        return { roots: [{ uri: 'file:///secret', name: 'secret' }] };
      });
      await connectClient(`${gateway.url}/mcp`, client);
      const result = await client.callTool({ name: 'ask', arguments: {} });
      expect((result.content as Array<{ text: string }>)[0].text).toMatch(
        /^error: roots\/list refused by mcp-gateway: .*shared between sessions.*cannot be attributed to one caller/,
      );
      expect(asked).toEqual([]);
      await expect(client.setLoggingLevel('debug')).rejects.toThrow(
        /logging\/setLevel refused: target "journal" is one process shared by all sessions/,
      );
      await client.close();
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('sessions of a shared process hold no process of their own: the per-subject process limit does not stop them', async () => {
    const { script } = journalServer();
    const config = poolConfig(script, { shared: true });
    writeFileSync(config, readFileSync(config, 'utf8').replace('      - mcp:\n', '      - mcp:\n          stdio: { maxProcessesPerSubject: 1 }\n'));
    expect(readFileSync(config, 'utf8')).toContain('maxProcessesPerSubject: 1');
    const gateway = await GatewayProcess.serving(config);
    try {
      // One client address, three sessions: a limit of one process per subject would refuse the second.
      const clients = await Promise.all([1, 2, 3].map(() => connectClient(`${gateway.url}/mcp`)));
      const answers = await Promise.all(clients.map((client) => whoami(client)));
      expect(new Set(answers.map((answer) => answer.pid)).size).toBe(1);
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('the everything server shared through the real gateway: tools work for two sessions at once', async () => {
    const config = writeConfigFile(
      'gw-pool-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: everything
      backends:
      - mcp:
          targets:
          - name: everything
            stdio:
              cmd: ${JSON.stringify(process.execPath)}
              args: [${JSON.stringify(EVERYTHING)}]
              pool: { shared: true }
`,
    );
    const gateway = await GatewayProcess.serving(config);
    try {
      const [a, b] = await Promise.all([connectClient(`${gateway.url}/mcp`), connectClient(`${gateway.url}/mcp`)]);
      const [ra, rb] = await Promise.all([
        a.callTool({ name: 'echo', arguments: { message: 'from a' } }),
        b.callTool({ name: 'echo', arguments: { message: 'from b' } }),
      ]);
      expect(JSON.stringify(ra.content)).toContain('from a');
      expect(JSON.stringify(rb.content)).toContain('from b');
      await Promise.all([a.close(), b.close()]);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});
