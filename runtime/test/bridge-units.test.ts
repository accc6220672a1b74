/**
 * The bridging core through small fakes (no processes, no sockets): the sealed requestState, the
 * conservative merge of caching hints, and a session-era request to a 2026-07-28 target across input rounds.
 */
import { randomBytes } from 'node:crypto';
import { FakeUpstream, RecordingLogger } from './helpers/fake-upstream.js';
import { UpstreamBridge, type BridgeCaller, type BridgeRoute } from '../src/federation/bridge.js';
import { TargetLink } from '../src/federation/link.js';
import { RequestStateSeal, type BridgedRequestState } from '../src/federation/request-state.js';
import { mergeCacheHints } from '../src/federation/router.js';
import { requestStateless, statelessMeta } from '../src/federation/stateless-upstream.js';
import { McpError } from '../src/protocol/errors.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';

type Json = Record<string, unknown>;

function meta(): Json {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
  };
}

const state: BridgedRequestState = { h: 'handle', o: '["https://issuer","alice"]', r: 'route', t: 'target', m: 'tools/call', e: Date.now() + 60_000 };

function inputRequired(inputRequests: Record<string, unknown>, requestState?: string): JsonRpcMessage {
  return { jsonrpc: '2.0', id: 1, result: { resultType: 'input_required', inputRequests, ...(requestState ? { requestState } : {}) } };
}

describe('RequestStateSeal', () => {
  const key = randomBytes(32);

  test('opens what it sealed, on any replica with the same session key', () => {
    const sealed = new RequestStateSeal(key).seal(state);
    expect(RequestStateSeal.isOurs(sealed)).toBe(true);
    expect(new RequestStateSeal(Buffer.from(key)).open(sealed)).toEqual(state);
  });

  test('refuses a state altered in any byte, sealed with another key, or expired', () => {
    const seal = new RequestStateSeal(key);
    const sealed = seal.seal(state);
    const body = Buffer.from(sealed.slice(5), 'base64url');
    for (const at of [0, 12, body.length - 1]) {
      const altered = Buffer.from(body);
      altered[at] = altered[at] === 0 ? 1 : 0;
      expect(seal.open(`gwb1.${altered.toString('base64url')}`)).toBeUndefined();
    }
    expect(new RequestStateSeal(randomBytes(32)).open(sealed)).toBeUndefined();
    expect(seal.open(seal.seal({ ...state, e: Date.now() - 1 }))).toBeUndefined();
    expect(seal.open('gwb1.')).toBeUndefined();
  });

  test("an upstream's own requestState is not taken for ours", () => {
    expect(RequestStateSeal.isOurs('opaque-server-state')).toBe(false);
    expect(RequestStateSeal.isOurs(42)).toBe(false);
  });
});

describe('mergeCacheHints', () => {
  test('the shortest ttlMs, and private unless every part is public', () => {
    const cached = { ttlMs: 300_000, cacheScope: 'public' };
    expect(mergeCacheHints([cached, { ttlMs: 5_000, cacheScope: 'public' }])).toEqual({ ttlMs: 5_000, cacheScope: 'public' });
    expect(mergeCacheHints([cached, { ttlMs: 0, cacheScope: 'private' }])).toEqual({ ttlMs: 0, cacheScope: 'private' });
  });

  test('no hint at all when a part gave none: the merged result must not be reused', () => {
    expect(mergeCacheHints([{ ttlMs: 300_000, cacheScope: 'public' }, {}])).toEqual({});
    expect(mergeCacheHints([])).toEqual({});
  });
});

describe('requestStateless (a session-era client, a 2026-07-28 target)', () => {
  const clientMeta = statelessMeta({ elicitation: {} }, { name: 'client', version: '1' });

  test('input_required rounds become requests to the client; the retry carries the answers and the target state', async () => {
    const sent: JsonRpcMessage[] = [];
    const asked: JsonRpcMessage[] = [];
    const answers: JsonRpcMessage[] = [
      inputRequired({ who: { method: 'elicitation/create', params: { message: 'name?' } } }, 's1'),
      inputRequired({ sure: { method: 'elicitation/create', params: { message: 'sure?' } } }),
      { jsonrpc: '2.0', id: 1, result: { resultType: 'complete', content: [{ type: 'text', text: 'done' }], ttlMs: 0, cacheScope: 'private' } },
    ];
    const response = await requestStateless(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'greet', _meta: { progressToken: 7 } } },
      clientMeta,
      async (message) => {
        sent.push(message);
        return answers.shift()!;
      },
      async (request) => {
        asked.push(request);
        return { jsonrpc: '2.0', id: 'x', result: { action: 'accept', content: { said: request.params?.message } } };
      },
    );
    expect(response.result).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(asked.map((request) => request.params?.message)).toEqual(['name?', 'sure?']);
    expect(sent[0].params).toEqual({ name: 'greet', _meta: { ...clientMeta, progressToken: 7 } });
    expect(sent[1].params).toMatchObject({ requestState: 's1', inputResponses: { who: { action: 'accept', content: { said: 'name?' } } } });
    // The second round gave no requestState: none is sent back.
    expect(sent[2].params).not.toHaveProperty('requestState');
    expect(sent[2].params?.inputResponses).toEqual({ sure: { action: 'accept', content: { said: 'sure?' } } });
  });

  test('session-era requests 2026-07-28 removed are answered by the gateway or refused, never sent', async () => {
    const sent: JsonRpcMessage[] = [];
    const send = async (message: JsonRpcMessage) => {
      sent.push(message);
      return message;
    };
    const ask = async () => ({ jsonrpc: '2.0' as const, id: 0, result: {} });
    const ping = requestStateless({ jsonrpc: '2.0', id: 2, method: 'ping' }, clientMeta, send, ask);
    await expect(ping).resolves.toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    const subscribe = requestStateless({ jsonrpc: '2.0', id: 3, method: 'resources/subscribe', params: { uri: 'a' } }, clientMeta, send, ask);
    await expect(subscribe).rejects.toMatchObject({ code: -32601 });
    expect(sent).toEqual([]);
  });

  test("the client's refusal ends the request with its error", async () => {
    const refusal = requestStateless(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't' } },
      clientMeta,
      async () => inputRequired({ a: { method: 'sampling/createMessage' } }),
      async () => ({ jsonrpc: '2.0', id: 'x', error: { code: -1, message: 'User rejected sampling request' } }),
    );
    await expect(refusal).rejects.toBeInstanceOf(McpError);
    await expect(refusal).rejects.toThrow('User rejected sampling request');
  });
});

describe('UpstreamBridge (a 2026-07-28 client, a session-era target): whose upstream session serves a request', () => {
  const target = { name: 'old', mcp: { host: 'http://127.0.0.1:1/mcp' } };
  let opened: FakeUpstream[];
  let route: BridgeRoute;
  let bridge: UpstreamBridge;

  /** A session-era server: initialize, a `whoami` naming the connection, and `ask`, which samples the client first. */
  function sessionEraServer(): FakeUpstream {
    const number = opened.length + 1;
    const upstream: FakeUpstream = new FakeUpstream('old', async (request) => {
      if (request.method === 'initialize') {
        return { result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'old', version: '1' } } };
      }
      if (request.method === 'server/discover') return { error: { code: -32601, message: 'Method not found' } };
      if (request.params?.name === 'ask') {
        upstream.emit({ jsonrpc: '2.0', id: `sampling-${number}`, method: 'sampling/createMessage', params: { messages: [] } });
        const answered = () => upstream.sent.find((message) => message.id === `sampling-${number}` && message.method === undefined);
        while (!answered()) await new Promise((resolve) => setImmediate(resolve));
        return { result: { content: [{ type: 'text', text: `sampled ${JSON.stringify(answered()!.result)}` }] } };
      }
      return { result: { content: [{ type: 'text', text: `connection ${number}` }] } };
    });
    opened.push(upstream);
    return upstream;
  }

  const caller = (owner: string | undefined): BridgeCaller => ({ owner, clientCapabilities: { sampling: {} }, credentials: {} });
  const call = (who: BridgeCaller, params: Json, id = 1) =>
    bridge.link(target, 0, who, route).request({ jsonrpc: '2.0', id, method: 'tools/call', params: { _meta: meta(), ...params } });
  const text = (response: JsonRpcMessage) => ((response.result?.content as Json[])[0] as Json).text;

  beforeEach(() => {
    opened = [];
    bridge = new UpstreamBridge(randomBytes(32));
    route = {
      routeId: 'route',
      pool: undefined as never,
      logger: new RecordingLogger(),
      upstreamTimeoutMs: 30_000,
      gatewayVersion: 'test',
      connect: async () => sessionEraServer(),
    };
  });

  afterEach(() => bridge.close());

  test("a signed-in caller's requests reuse its upstream session; another caller never gets it", async () => {
    const alice = caller('["https://issuer","alice"]');
    const bob = caller('["https://issuer","bob"]');
    expect(text(await call(alice, { name: 'whoami' }))).toBe('connection 1');
    expect(text(await call(alice, { name: 'whoami' }))).toBe('connection 1');
    expect(text(await call(bob, { name: 'whoami' }))).toBe('connection 2');
    expect(text(await call(alice, { name: 'whoami' }))).toBe('connection 1');
    expect(opened.map((upstream) => upstream.requests('initialize').length)).toEqual([1, 1]);
    expect(opened[0].requests('initialize')[0].params).toMatchObject({ protocolVersion: '2025-11-25', capabilities: { sampling: {} } });
  });

  test('anonymous callers get an upstream session of their own per request, closed after it', async () => {
    expect(text(await call(caller(undefined), { name: 'whoami' }))).toBe('connection 1');
    expect(text(await call(caller(undefined), { name: 'whoami' }))).toBe('connection 2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.map((upstream) => upstream.closed)).toEqual([true, true]);
  });

  test("one caller's requestState does not continue for another; the owner's retry does, with the answer upstream", async () => {
    const alice = caller('["https://issuer","alice"]');
    const first = await call(alice, { name: 'ask' });
    expect(first.result).toMatchObject({ resultType: 'input_required', inputRequests: { 'sampling-1': { method: 'sampling/createMessage' } } });
    const retry = { name: 'ask', inputResponses: { 'sampling-1': { model: 'm', role: 'assistant', content: { type: 'text', text: 'hi' } } } };
    const stolen = call(caller('["https://issuer","mallory"]'), { ...retry, requestState: first.result!.requestState }, 2);
    await expect(stolen).rejects.toMatchObject({ code: -32602 });
    const done = await call(alice, { ...retry, requestState: first.result!.requestState }, 3);
    expect(done.result).toMatchObject({ resultType: 'complete' });
    expect(text(done)).toContain('"text":"hi"');
    // The upstream got the client's answer under its own request id, nothing else.
    expect(opened[0].sent.filter((message) => message.method === undefined)).toEqual([
      { jsonrpc: '2.0', id: 'sampling-1', result: retry.inputResponses['sampling-1'] },
    ]);
  });
});

describe('TargetLink: a subscriptions/listen stream upstream', () => {
  test('has no upstream timeout: it stays open while a request sent beside it times out', async () => {
    const upstream = new FakeUpstream('new', () => 'no answer');
    const link = new TargetLink(0, 'new', upstream, 1, { upstreamMessage: () => undefined, lost: () => undefined });
    let listenSettled = false;
    const settled = () => {
      listenSettled = true;
    };
    void link
      .request({ jsonrpc: '2.0', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true } } })
      .then(settled, settled);
    await expect(link.request({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'slow' } })).rejects.toMatchObject({ code: -32001 });
    // Timers of equal length fire in the order they were set: the listen's would have fired first.
    await new Promise((resolve) => setImmediate(resolve));
    expect(listenSettled).toBe(false);
    await link.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(listenSettled).toBe(true);
  });
});
