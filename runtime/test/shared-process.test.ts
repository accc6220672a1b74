import { SHARED_REFUSED } from '../src/protocol/errors.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import type { Logger } from '../src/telemetry/logger.js';
import { SharedProcess } from '../src/upstream/shared-process.js';
import type { StdioConnection } from '../src/upstream/stdio.js';
import type { ProcessSource } from '../src/upstream/warm-pool.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A stdio process that answers `initialize` at once, records the rest, and speaks when the test says so. */
class FakeProcess {
  readonly pid = 4242;
  readonly received: JsonRpcMessage[] = [];
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  closed = false;

  async send(message: JsonRpcMessage): Promise<void> {
    this.received.push(message);
    if (message.method === 'initialize') {
      const result = { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} } };
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: message.id, result }));
    }
  }

  /** The last request the process got with this method. */
  lastRequest(method: string): JsonRpcMessage {
    return [...this.received].reverse().find((message) => message.method === method && message.id !== undefined)!;
  }

  say(message: Omit<JsonRpcMessage, 'jsonrpc'>): void {
    this.onmessage?.({ jsonrpc: '2.0', ...message });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeSource implements ProcessSource {
  readonly started: FakeProcess[] = [];
  async spawn(): Promise<StdioConnection> {
    const process = new FakeProcess();
    this.started.push(process);
    return process as unknown as StdioConnection;
  }
  countOf(): number {
    return this.started.length;
  }
  hasRoom(): boolean {
    return true;
  }
}

async function sharedWithTwoSessions() {
  const source = new FakeSource();
  const refused: string[] = [];
  const shared = new SharedProcess('t', { cmd: 'x' }, '2025-11-25', source, quiet, { name: 'mcp-gateway', version: 'test' }, 600_000, {
    refused: (what) => refused.push(what),
  });
  const [a, b] = await Promise.all([shared.open(), shared.open()]);
  const got = { a: [] as JsonRpcMessage[], b: [] as JsonRpcMessage[] };
  a.onmessage = (message) => got.a.push(message);
  b.onmessage = (message) => got.b.push(message);
  return { shared, process: source.started[0], a, b, got, refused, source };
}

describe('SharedProcess', () => {
  test('one process, initialized once by the gateway with no client capabilities; every session gets its result', async () => {
    const { process, a, b, source } = await sharedWithTwoSessions();
    expect(source.started).toHaveLength(1);
    expect(process.received.map((message) => message.method)).toEqual(['initialize', 'notifications/initialized']);
    expect(process.received[0].params).toMatchObject({ capabilities: {}, clientInfo: { name: 'mcp-gateway' } });
    expect(a.initialized).toEqual(b.initialized);
  });

  test('the same request id from two sessions gets two process ids; each answer goes back to its session with its id', async () => {
    const { process, a, b, got } = await sharedWithTwoSessions();
    await a.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
    await b.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
    const [first, second] = process.received.filter((message) => message.method === 'tools/call');
    expect(first.id).not.toBe(second.id);
    // Answered in the other order: the ids, not the order, decide who gets what.
    process.say({ id: second.id, result: { for: 'b' } });
    process.say({ id: first.id, result: { for: 'a' } });
    expect(got.a).toEqual([{ jsonrpc: '2.0', id: 1, result: { for: 'a' } }]);
    expect(got.b).toEqual([{ jsonrpc: '2.0', id: 1, result: { for: 'b' } }]);
  });

  test('progress tokens are made unique and go back, with the session’s own token, only to the session that asked', async () => {
    const { process, a, b, got } = await sharedWithTwoSessions();
    await a.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', _meta: { progressToken: 'p' } } });
    await b.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', _meta: { progressToken: 'p' } } });
    const [fromA, fromB] = process.received.filter((message) => message.method === 'tools/call');
    const tokenA = fromA.params?._meta?.progressToken;
    expect(tokenA).not.toBe(fromB.params?._meta?.progressToken);
    process.say({ method: 'notifications/progress', params: { progressToken: tokenA, progress: 1 } });
    expect(got.a).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } }]);
    expect(got.b).toEqual([]);
  });

  test('a server-to-client request is refused to the server and reaches no session, even with exactly one call in flight', async () => {
    const { process, a, got, refused } = await sharedWithTwoSessions();
    await a.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'ask' } });
    for (const method of ['sampling/createMessage', 'elicitation/create', 'roots/list']) {
      process.say({ id: `srv-${method}`, method, params: {} });
      const answer = process.received.find((message) => message.id === `srv-${method}`)!;
      expect(answer.error).toMatchObject({ code: SHARED_REFUSED, message: expect.stringMatching(/cannot be attributed to one caller/) });
    }
    expect(got.a).toEqual([]);
    expect(got.b).toEqual([]);
    expect(refused).toEqual(['sampling/createMessage', 'elicitation/create', 'roots/list']);
    // ping is the gateway's to answer; nobody is refused for it.
    process.say({ id: 'srv-ping', method: 'ping' });
    expect(process.received.find((message) => message.id === 'srv-ping')).toEqual({ jsonrpc: '2.0', id: 'srv-ping', result: {} });
  });

  test('methods that would change every session (setLevel, subscriptions) are refused to the session, not sent', async () => {
    const { process, a, got, refused } = await sharedWithTwoSessions();
    const before = process.received.length;
    await a.send({ jsonrpc: '2.0', id: 3, method: 'logging/setLevel', params: { level: 'debug' } });
    await a.send({ jsonrpc: '2.0', id: 4, method: 'resources/subscribe', params: { uri: 'x://y' } });
    await settle();
    expect(process.received).toHaveLength(before);
    expect(got.a.map((message) => [message.id, message.error?.code])).toEqual([
      [3, SHARED_REFUSED],
      [4, SHARED_REFUSED],
    ]);
    expect(refused).toEqual(['logging/setLevel', 'resources/subscribe']);
  });

  test('log notifications are dropped; list changes go to every session', async () => {
    const { process, got } = await sharedWithTwoSessions();
    process.say({ method: 'notifications/message', params: { level: 'info', data: 'someone’s secret' } });
    process.say({ method: 'notifications/tools/list_changed' });
    expect(got.a).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
    expect(got.b).toEqual(got.a);
  });

  test('a session that ends cancels its unanswered requests upstream; a late answer reaches nobody; the process stays', async () => {
    const { process, a, b, got } = await sharedWithTwoSessions();
    await a.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
    const upstreamId = process.lastRequest('tools/call').id;
    await a.close();
    await settle();
    expect(process.received.at(-1)).toMatchObject({ method: 'notifications/cancelled', params: { requestId: upstreamId } });
    process.say({ id: upstreamId, result: {} });
    expect(got.a).toEqual([]);
    expect(got.b).toEqual([]);
    expect(process.closed).toBe(false);
    await b.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    process.say({ id: process.lastRequest('tools/list').id, result: { tools: [] } });
    expect(got.b).toEqual([{ jsonrpc: '2.0', id: 2, result: { tools: [] } }]);
  });

  test('stop ends the process and refuses new sessions', async () => {
    const { shared, process } = await sharedWithTwoSessions();
    await shared.stop();
    expect(process.closed).toBe(true);
    await expect(shared.open()).rejects.toThrow(/shutting down/);
  });
});
