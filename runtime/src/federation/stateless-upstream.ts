import { McpError } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION, MODERN_PROTOCOL } from '../protocol/versions.js';

type Json = Record<string, unknown>;

/** Input rounds one request may take before the gateway gives up on a target that keeps asking. */
const MAX_INPUT_ROUNDS = 16;

const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/**
 * Session-era requests 2026-07-28 removed: the gateway, which plays the session, answers them itself.
 * `resources/subscribe` has no stateless equivalent outside a listen stream, so it is refused, not faked.
 */
const ANSWERED_LOCALLY: Record<string, Json | undefined> = {
  'ping': {},
  'logging/setLevel': {},
  'resources/subscribe': undefined,
  'resources/unsubscribe': undefined,
};

/** The `_meta` every request to a 2026-07-28 target carries for a session-era client (BRIDGING.md). */
export function statelessMeta(clientCapabilities: Json, clientInfo: Json): Json {
  return { [META_PROTOCOL_VERSION]: MODERN_PROTOCOL, [META_CLIENT_CAPABILITIES]: clientCapabilities, [META_CLIENT_INFO]: clientInfo };
}

/** A 2026-07-28 `server/discover` result as the `initialize` result a session-era client expects. */
export function initializeFromDiscover(discover: Json, clientVersion: string, target: string): Json {
  const meta = (discover._meta ?? {}) as Json;
  const result: Json = {
    protocolVersion: clientVersion,
    capabilities: discover.capabilities ?? {},
    serverInfo: meta[META_SERVER_INFO] ?? discover.serverInfo ?? { name: target, version: 'unknown' },
  };
  if (typeof discover.instructions === 'string') result.instructions = discover.instructions;
  return result;
}

/**
 * One session-era client request to a 2026-07-28 target: sent with the stateless `_meta`; each
 * input_required result becomes server-to-client requests on the client's session (`ask`), and the
 * request is sent again with the answers and the target's `requestState`, until it completes.
 */
export async function requestStateless(
  message: JsonRpcMessage,
  meta: Json,
  send: (message: JsonRpcMessage) => Promise<JsonRpcMessage>,
  ask: (request: JsonRpcMessage) => Promise<JsonRpcMessage>,
): Promise<JsonRpcMessage> {
  const method = message.method ?? '';
  if (method in ANSWERED_LOCALLY) {
    const local = ANSWERED_LOCALLY[method];
    if (local) return { jsonrpc: '2.0', id: message.id, result: local };
    const text = `${method} is not available: the target speaks ${MODERN_PROTOCOL}, where updates come through subscriptions/listen`;
    throw new McpError('method_not_found', text);
  }
  let params: Json = { ...message.params, _meta: { ...meta, ...message.params?._meta } };
  for (let round = 0; round < MAX_INPUT_ROUNDS; round++) {
    const response = await send({ ...message, params });
    const result = response.result;
    if (result?.resultType !== 'input_required') return sessionEra(response);
    const requests = isObject(result.inputRequests) ? result.inputRequests : {};
    const inputResponses: Json = {};
    await Promise.all(
      Object.entries(requests).map(async ([key, request]) => {
        if (!isObject(request) || typeof request.method !== 'string') return;
        const answer = await ask({ jsonrpc: '2.0', method: request.method, ...(isObject(request.params) ? { params: request.params } : {}) });
        if (answer.error) throw McpError.relayed(answer.error.code, `the client refused ${request.method}: ${answer.error.message}`);
        inputResponses[key] = answer.result ?? {};
      }),
    );
    params = { ...params, inputResponses };
    if (result.requestState !== undefined) params.requestState = result.requestState;
    else delete params.requestState;
  }
  throw new McpError('internal', `the target asked for input more than ${MAX_INPUT_ROUNDS} times for one ${method}`);
}

/** What session-era clients do not know: `resultType` and the caching hints go. */
function sessionEra(response: JsonRpcMessage): JsonRpcMessage {
  if (!response.result) return response;
  const { resultType: _type, ttlMs: _ttl, cacheScope: _scope, ...result } = response.result;
  return { ...response, result };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
