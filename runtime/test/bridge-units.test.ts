/**
 * The bridging core through small fakes (no processes, no sockets): the sealed requestState, the
 * conservative merge of caching hints, and a session-era request to a 2026-07-28 target across input rounds.
 */
import { randomBytes } from 'node:crypto';
import { RequestStateSeal, type BridgedRequestState } from '../src/federation/request-state.js';
import { mergeCacheHints } from '../src/federation/router.js';
import { requestStateless, statelessMeta } from '../src/federation/stateless-upstream.js';
import { McpError } from '../src/protocol/errors.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';

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
      altered[at] ^= 1;
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
  const meta = statelessMeta({ elicitation: {} }, { name: 'client', version: '1' });

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
      meta,
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
    expect(sent[0].params).toEqual({ name: 'greet', _meta: { ...meta, progressToken: 7 } });
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
    const ping = requestStateless({ jsonrpc: '2.0', id: 2, method: 'ping' }, meta, send, ask);
    await expect(ping).resolves.toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    const subscribe = requestStateless({ jsonrpc: '2.0', id: 3, method: 'resources/subscribe', params: { uri: 'a' } }, meta, send, ask);
    await expect(subscribe).rejects.toMatchObject({ code: -32601 });
    expect(sent).toEqual([]);
  });

  test("the client's refusal ends the request with its error", async () => {
    const refusal = requestStateless(
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't' } },
      meta,
      async () => inputRequired({ a: { method: 'sampling/createMessage' } }),
      async () => ({ jsonrpc: '2.0', id: 'x', error: { code: -1, message: 'User rejected sampling request' } }),
    );
    await expect(refusal).rejects.toBeInstanceOf(McpError);
    await expect(refusal).rejects.toThrow('User rejected sampling request');
  });
});
