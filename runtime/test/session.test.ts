import type { ServerResponse } from 'node:http';
import {
  backendOf,
  FakeSseResponse,
  FakeUpstream,
  listingServer,
  RecordingLogger,
  RecordingSink,
  type FakeAnswer,
} from './helpers/fake-upstream.js';
import type { ResolvedBackend } from '../src/config/model.js';
import { McpSession, type BackendContext } from '../src/federation/session.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { MODERN_PROTOCOL } from '../src/protocol/versions.js';
import { SseWriter } from '../src/session/streams.js';
import { noTelemetry, type Telemetry } from '../src/telemetry/telemetry.js';
import { StdioPool } from '../src/upstream/stdio-pool.js';

type Json = Record<string, unknown>;
type Server = (request: JsonRpcMessage, upstream: FakeUpstream) => FakeAnswer | Promise<FakeAnswer>;

const FACTS = { headers: {}, method: 'POST', path: '/mcp' };

/** A server that also does the initialize handshake, answering with the revision it was offered. */
function initializing(server: Server): Server {
  return (request, upstream) =>
    request.method === 'initialize'
      ? { result: { protocolVersion: request.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: upstream.target } } }
      : server(request, upstream);
}

const opened: McpSession[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((session) => session.close('test over', true)));
});

/** A session whose targets are in-memory upstreams (BackendContext.connect), no process and no socket. */
function sessionWith(
  servers: Record<string, Server>,
  options: { ephemeral?: boolean; maxReplayBytes?: number; upstreamTimeoutMs?: number; backend?: Partial<ResolvedBackend> } = {},
) {
  const upstreams = new Map<string, FakeUpstream>();
  for (const [name, server] of Object.entries(servers)) {
    const upstream: FakeUpstream = new FakeUpstream(name, (request) => server(request, upstream));
    upstreams.set(name, upstream);
  }
  const logger = new RecordingLogger();
  const dropped: number[] = [];
  const telemetry: Telemetry = { ...noTelemetry, bytesDropped: (_route, _what, bytes) => void dropped.push(bytes) };
  const backend = backendOf([...upstreams.keys()], options.backend);
  const context: BackendContext = {
    routeId: 'route-id',
    routeName: 'route',
    backend,
    pool: new StdioPool(backend.stdio, backend.name, logger, telemetry),
    logger,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 10_000,
    maxReplayBytes: options.maxReplayBytes ?? 2 ** 20,
    gatewayVersion: '0.0.0-test',
    telemetry,
    connect: async (target) => upstreams.get(target.name)!,
  };
  const session = new McpSession(context, { ephemeral: options.ephemeral });
  opened.push(session);
  return { session, upstreams, dropped };
}

async function call(session: McpSession, id: string | number, method: string, params: Json = {}): Promise<RecordingSink> {
  const sink = new RecordingSink();
  await session.handleRequest({ jsonrpc: '2.0', id, method, params }, sink, FACTS);
  return sink;
}

const modern = (params: Json = {}): Json => ({ ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL } });

describe('session: answers carry the client id and the status the error kind says', () => {
  test('2026-07-28: an unknown method is answered 404 / -32601 with the request id, and no target is opened', async () => {
    const { session, upstreams } = sessionWith({ a: listingServer('tools', []), b: listingServer('tools', []) }, { ephemeral: true });
    session.prepareEphemeral(MODERN_PROTOCOL, false);
    const sink = await call(session, 'req-17', 'resources/frobnicate', modern());
    expect({ status: sink.httpStatus, response: sink.response }).toEqual({
      status: 404,
      response: { jsonrpc: '2.0', id: 'req-17', error: { code: -32601, message: 'Method not found: resources/frobnicate' } },
    });
    for (const upstream of upstreams.values()) expect(upstream.sent).toEqual([]);
  });

  test("2026-07-28 to a lone target: no handshake, the client's id back, the gateway's own id upstream", async () => {
    const { session, upstreams } = sessionWith({ only: listingServer('tools', [{ name: 'add' }]) }, { ephemeral: true });
    session.prepareEphemeral(MODERN_PROTOCOL, false);
    const sink = await call(session, 0, 'tools/list', modern());
    expect(sink.response).toEqual({ jsonrpc: '2.0', id: 0, result: { tools: [{ name: 'add' }] } });
    const upstream = upstreams.get('only')!;
    expect(upstream.sent.map((message) => message.method)).toEqual(['tools/list']);
    expect(upstream.protocolVersion).toBe(MODERN_PROTOCOL);
  });

  test('a session-era client in stateless mode: the gateway performs the handshake the client never sent', async () => {
    const { session, upstreams } = sessionWith({ only: initializing(listingServer('tools', [])) }, { ephemeral: true });
    session.prepareEphemeral('2025-11-25', true);
    await call(session, 1, 'tools/list');
    expect(upstreams.get('only')!.sent.map((message) => message.method)).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
  });

  test('a target that never answers: -32001 in band, with the client id', async () => {
    const { session } = sessionWith({ slow: () => 'no answer' }, { ephemeral: true, upstreamTimeoutMs: 20 });
    session.prepareEphemeral(MODERN_PROTOCOL, false);
    const sink = await call(session, 'slow-1', 'tools/list', modern());
    expect(sink.httpStatus).toBe(200);
    expect(sink.response).toMatchObject({ id: 'slow-1', error: { code: -32001, message: 'target "slow" did not answer tools/list within 20ms' } });
  });
});

describe('session: relaying between client and targets', () => {
  test("a server-to-client request goes out on the call's stream under a gateway id; the answer goes back under the server's", async () => {
    let answered!: (message: JsonRpcMessage) => void;
    const sampled = new Promise<JsonRpcMessage>((resolve) => (answered = resolve));
    const asking: Server = async (request, upstream) => {
      if (request.method !== 'tools/call') return listingServer('tools', [{ name: 'ask' }])(request);
      upstream.onresponse = answered;
      upstream.emit({ jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage', params: { messages: [] } });
      const reply = await sampled;
      return { result: { content: [{ type: 'text', text: String((reply.result as Json).model) }] } };
    };
    const { session, upstreams } = sessionWith({ a: initializing(listingServer('tools', [])), b: initializing(asking) });
    const params = { protocolVersion: '2025-11-25', capabilities: { sampling: {} } };
    await session.initialize({ jsonrpc: '2.0', id: 0, method: 'initialize', params });
    const sink = new RecordingSink();
    const done = session.handleRequest({ jsonrpc: '2.0', id: 'c-1', method: 'tools/call', params: { name: 'b_ask' } }, sink, FACTS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.pushed).toEqual([{ jsonrpc: '2.0', id: 'b.1', method: 'sampling/createMessage', params: { messages: [] } }]);
    expect(session.handleResponse({ jsonrpc: '2.0', id: 'b.1', result: { model: 'm-1' } })).toBe(true);
    await done;
    const answers = upstreams.get('b')!.sent.filter((message) => message.method === undefined);
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 'srv-1', result: { model: 'm-1' } }]);
    expect(sink.response).toEqual({ jsonrpc: '2.0', id: 'c-1', result: { content: [{ type: 'text', text: 'm-1' }] } });
    // An answer is relayed once: a replayed or forged one for the same id goes nowhere.
    expect(session.handleResponse({ jsonrpc: '2.0', id: 'b.1', result: { model: 'again' } })).toBe(false);
    expect(upstreams.get('a')!.sent.filter((message) => message.method === undefined)).toEqual([]);
  });

  test("the client's cancellation reaches the target under the gateway's id and ends the call with -32800", async () => {
    const { session, upstreams } = sessionWith({ a: initializing((request) => (request.method === 'tools/call' ? 'no answer' : { result: {} })) });
    await session.initialize({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } });
    const sink = new RecordingSink();
    const done = session.handleRequest({ jsonrpc: '2.0', id: 'long', method: 'tools/call', params: { name: 'wait' } }, sink, FACTS);
    await new Promise((resolve) => setImmediate(resolve));
    const upstreamId = upstreams.get('a')!.requests('tools/call')[0].id;
    session.handleNotification({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'long', reason: 'user' } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.response).toEqual({ jsonrpc: '2.0', id: 'long', error: { code: -32800, message: 'request cancelled by the client' } });
    const forwarded = upstreams.get('a')!.sent.at(-1);
    expect(forwarded).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: upstreamId, reason: 'user' } });
    await done;
  });
});

describe('session: what a target sends on its own', () => {
  test('progress reaches the call whose token it carries, even with two calls in flight on the same target', async () => {
    const { session, upstreams } = sessionWith({ a: initializing((request) => (request.method === 'tools/call' ? 'no answer' : { result: {} })) });
    await session.initialize({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } });
    const first = new RecordingSink();
    const second = new RecordingSink();
    const callWith = (id: string, token: string, sink: RecordingSink) =>
      session.handleRequest({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', _meta: { progressToken: token } } }, sink, FACTS);
    const calls = [callWith('c-1', 'tok-1', first), callWith('c-2', 'tok-2', second)];
    await new Promise((resolve) => setImmediate(resolve));
    const progress: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-2', progress: 1, total: 2 } };
    upstreams.get('a')!.emit(progress);
    expect(second.pushed).toEqual([progress]);
    expect(first.pushed).toEqual([]);
    await session.close('test over', true);
    await Promise.all(calls);
  });

  test("a resource update names the resource as the client knows it: with the target's prefix", async () => {
    const { session, upstreams } = sessionWith({
      a: initializing(() => ({ result: {} })),
      b: initializing((request) => (request.method === 'tools/call' ? 'no answer' : { result: {} })),
    });
    await session.initialize({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } });
    const sink = new RecordingSink();
    const pending = session.handleRequest({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'b_wait' } }, sink, FACTS);
    await new Promise((resolve) => setImmediate(resolve));
    upstreams.get('b')!.emit({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///x' } });
    expect(sink.pushed).toEqual([{ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'b+file:///x' } }]);
    await session.close('test over', true);
    await pending;
  });
});

describe('session: event replay (Last-Event-ID)', () => {
  const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `event ${n}` } });

  function writer(): { res: FakeSseResponse; writer: SseWriter } {
    const res = new FakeSseResponse();
    return { res, writer: new SseWriter(res as unknown as ServerResponse) };
  }

  test("a client that lost a POST's stream resumes after the last event it saw and gets only the rest", async () => {
    const { session } = sessionWith({ a: listingServer('tools', []) });
    const stream = session.openPostStream();
    const first = writer();
    stream.attach(first.writer, 0);
    stream.append(note(1));
    stream.append(note(2));
    first.res.hangUp();
    stream.append(note(3));
    stream.append({ jsonrpc: '2.0', id: 'c-9', result: {} });
    expect(first.res.events().map((event) => event.id)).toEqual([`${stream.id}.1`, `${stream.id}.2`]);
    const second = writer();
    session.attachStream(second.writer, `${stream.id}.2`);
    expect(second.res.events()).toEqual([
      { id: `${stream.id}.3`, message: note(3) },
      { id: `${stream.id}.4`, message: { jsonrpc: '2.0', id: 'c-9', result: {} } },
    ]);
  });

  test('a Last-Event-ID of a stream the session never had falls back to the standalone stream, from its start', () => {
    const { session } = sessionWith({ a: listingServer('tools', []) });
    session.standaloneSink().push(note(1));
    const late = writer();
    session.attachStream(late.writer, 'p999.4');
    expect(late.res.events().map((event) => event.message)).toEqual([note(1)]);
  });

  test('over the replay budget the oldest events go first, and a response becomes a short error instead of vanishing', () => {
    const big = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x'.repeat(300), n } });
    const response: JsonRpcMessage = { jsonrpc: '2.0', id: 'r-1', result: { content: [{ type: 'text', text: 'y'.repeat(1000) }] } };
    const { session, dropped } = sessionWith({ a: listingServer('tools', []) }, { maxReplayBytes: 800 });
    const stream = session.openPostStream();
    stream.append(big(1));
    stream.append(response);
    stream.append(big(2));
    expect(dropped.length).toBeGreaterThan(0);
    const resumed = writer();
    session.attachStream(resumed.writer, `${stream.id}.0`);
    const replayed = resumed.res.events();
    // big(1) is gone; the response (seq 2) is still there, as an error naming the limit; big(2) is whole.
    expect(replayed.map((event) => event.id)).toEqual([`${stream.id}.2`, `${stream.id}.3`]);
    expect(replayed[0].message).toMatchObject({ id: 'r-1', error: { code: -32603 } });
    expect(String(replayed[0].message?.error?.message)).toContain('config.limits.maxReplayBytes');
    expect(replayed[1].message).toEqual(big(2));
    expect(stream.keptBytes).toBeLessThanOrEqual(800);
  });

  test("the budget is the session's, shared by its streams: the oldest stream's events go first", () => {
    const { session } = sessionWith({ a: listingServer('tools', []) }, { maxReplayBytes: 400 });
    const older = session.openPostStream();
    const newer = session.openPostStream();
    older.append(note(1));
    for (let n = 2; n < 40; n++) newer.append(note(n));
    expect(older.keptBytes + newer.keptBytes).toBeLessThanOrEqual(400);
    expect(older.keptBytes).toBe(0);
    const resumed = writer();
    session.attachStream(resumed.writer, `${newer.id}.0`);
    const events = resumed.res.events();
    expect(events.at(-1)?.message).toEqual(note(39));
    expect(events.length).toBeLessThan(38);
  });
});
