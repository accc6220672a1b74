import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import type { Logger } from '../src/telemetry/logger.js';
import { noTelemetry } from '../src/telemetry/telemetry.js';
import type { SharedChannel } from '../src/upstream/shared-process.js';
import { StdioPool } from '../src/upstream/stdio-pool.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/**
 * A real stdio server that speaks 2025-06-18 and 2025-03-26 only: it answers any other revision with
 * 2025-06-18, as MCP servers do, and says in `instructions` which revision its `initialize` asked for.
 */
const SERVER = `
const supported = ['2025-06-18', '2025-03-26'];
let buffer = '';
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let end;
  while ((end = buffer.indexOf('\\n')) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.method !== 'initialize') continue;
    const asked = message.params.protocolVersion;
    const result = {
      protocolVersion: supported.includes(asked) ? asked : supported[0],
      capabilities: { tools: {} },
      serverInfo: { name: 'versions', version: '1.0.0' },
      instructions: 'asked ' + asked,
    };
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }) + '\\n');
  }
});
`;

const spec = { cmd: process.execPath, args: ['-e', SERVER], pool: { shared: true } };
const settings = {
  maxProcesses: 8,
  idleTimeoutMs: 60_000,
  maxRestartsPerMinute: 20,
  maxProcessesPerSubject: 8,
  maxMessageBytes: 1_048_576,
  warmup: false,
};

describe('shared stdio process: a cached initialize answers only clients it fits', () => {
  let pool: StdioPool;
  const channels: SharedChannel[] = [];

  beforeEach(() => {
    pool = new StdioPool(settings, 'backend', quiet, noTelemetry);
  });

  afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
    await pool.drain();
  });

  async function open(protocolVersion: string): Promise<{ version: unknown; asked: unknown; processes: number }> {
    const channel = (await pool.start('t', spec, { protocolVersion, capabilities: {}, clientInfo: { name: 'c', version: '1' } })) as SharedChannel;
    channels.push(channel);
    const result = channel.initialized as JsonRpcMessage['result'] & { protocolVersion?: unknown; instructions?: unknown };
    return { version: result.protocolVersion, asked: result.instructions, processes: pool.processes().filter((p) => p.role === 'shared').length };
  }

  test('the revision asked for, or the one the process negotiated, shares the process; another revision gets its own', async () => {
    // The server does not speak 2025-11-25: it answers with 2025-06-18.
    expect(await open('2025-11-25')).toEqual({ version: '2025-06-18', asked: 'asked 2025-11-25', processes: 1 });
    expect(await open('2025-11-25')).toEqual({ version: '2025-06-18', asked: 'asked 2025-11-25', processes: 1 });
    // Asking 2025-06-18 would get the same answer from the server: the process that negotiated it serves.
    expect(await open('2025-06-18')).toEqual({ version: '2025-06-18', asked: 'asked 2025-11-25', processes: 1 });
    // 2025-03-26 gets another answer from this server, so the cached one does not fit: a process of its own.
    expect(await open('2025-03-26')).toEqual({ version: '2025-03-26', asked: 'asked 2025-03-26', processes: 2 });
    expect(await open('2025-03-26')).toEqual({ version: '2025-03-26', asked: 'asked 2025-03-26', processes: 2 });
  });

  test('revisions the gateway does not serve are asked as the latest one: made-up revisions start no process each', async () => {
    const first = await open('1999-01-01');
    expect(first).toEqual({ version: '2025-06-18', asked: 'asked 2025-11-25', processes: 1 });
    expect(await open('2099-12-31')).toEqual(first);
    expect(await open('not a revision')).toEqual(first);
    expect(await open('2025-11-25')).toEqual(first);
  });
});
