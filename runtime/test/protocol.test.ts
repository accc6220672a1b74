import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_KINDS, McpError, type McpErrorKind } from '../src/protocol/errors.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { isStatelessRequest, mirroredHeaderRefusal, statelessRefusal, unsupportedVersionRefusal } from '../src/protocol/refusals.js';
import { MODERN_PROTOCOL, SUPPORTED_PROTOCOL_VERSIONS } from '../src/protocol/versions.js';

const META = 'io.modelcontextprotocol/protocolVersion';
const CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

function request(id: string | number, meta?: string, capabilities: unknown = {}): JsonRpcMessage {
  return { jsonrpc: '2.0', id, method: 'tools/list', params: meta === undefined ? {} : { _meta: { [META]: meta, [CAPABILITIES]: capabilities } } };
}

describe('McpError: one type that knows its HTTP status and JSON-RPC code', () => {
  test.each<[McpErrorKind, number, number]>([
    ['parse_error', 400, -32700],
    ['invalid_request', 400, -32600],
    ['session_not_found', 404, -32600],
    ['unsupported_protocol_version', 400, -32022],
    ['header_mismatch', 400, -32020],
    ['invalid_meta', 400, -32602],
    ['missing_client_capability', 400, -32021],
    ['unknown_method', 404, -32601],
    ['method_not_found', 200, -32601],
    ['invalid_params', 200, -32602],
    ['limited', 429, -32002],
    ['unavailable', 200, -32002],
    ['upstream_timeout', 200, -32001],
    ['gateway_failure', 500, -32603],
  ])('%s answers HTTP %d with code %d', (kind, httpStatus, code) => {
    const error = new McpError(kind, 'why');
    expect({ httpStatus: error.httpStatus, code: error.code }).toEqual({ httpStatus, code });
    expect(error.toResponse(7)).toEqual({ jsonrpc: '2.0', id: 7, error: { code, message: 'why' } });
  });

  test('every kind has an HTTP status and a JSON-RPC code in the ranges the specs allow', () => {
    for (const [kind, { httpStatus, code }] of Object.entries(ERROR_KINDS)) {
      expect([kind, httpStatus >= 200 && httpStatus <= 599]).toEqual([kind, true]);
      // JSON-RPC reserves -32768..-32000; MCP's own codes (-32800 cancelled) sit just outside the server range.
      expect([kind, code <= -32000 && code >= -32800]).toEqual([kind, true]);
    }
  });

  test('the table in protocol/README.md is the table in the code', () => {
    // jest's rootDir (the cwd) is the runtime package.
    const readme = readFileSync(join(process.cwd(), 'src', 'protocol', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (-\d+) \|/gm)];
    const documented = Object.fromEntries(rows.map(([, kind, httpStatus, code]) => [kind, { httpStatus: Number(httpStatus), code: Number(code) }]));
    const coded = Object.fromEntries(Object.entries(ERROR_KINDS).filter(([kind]) => kind !== 'relayed'));
    expect(documented).toEqual(coded);
  });

  test('the request id: given, or the one it was set to answer, or null', () => {
    const error = new McpError('invalid_meta', 'no _meta', { data: { field: '_meta' } });
    expect(error.toResponse().id).toBeNull();
    error.answering('req-1');
    expect(error.toResponse()).toEqual({ jsonrpc: '2.0', id: 'req-1', error: { code: -32602, message: 'no _meta', data: { field: '_meta' } } });
    expect(error.answering(undefined).id).toBe('req-1');
  });

  test("a relayed error keeps the target's code and its HTTP status", () => {
    const refusal = McpError.relayed(-32601, 'Method not found', undefined, 404);
    expect(refusal).toMatchObject({ kind: 'relayed', code: -32601, httpStatus: 404 });
    expect(McpError.relayed(-31999, 'custom')).toMatchObject({ code: -31999, httpStatus: 200 });
  });
});

describe('2026-07-28 refusals before routing', () => {
  test('the rules apply when the header or the _meta names the revision, not otherwise', () => {
    expect(isStatelessRequest(MODERN_PROTOCOL, request(1))).toBe(true);
    expect(isStatelessRequest(undefined, request(1, MODERN_PROTOCOL))).toBe(true);
    expect(isStatelessRequest('2025-11-25', request(1))).toBe(false);
    expect(isStatelessRequest(undefined, request(1))).toBe(false);
  });

  test('a matching header and _meta pass', () => {
    expect(statelessRefusal(MODERN_PROTOCOL, [request(1, MODERN_PROTOCOL)], false)).toBeUndefined();
  });

  test('a request without its _meta version: 400, -32602 (invalid params, not a header mismatch), its id echoed', () => {
    const refusal = statelessRefusal(MODERN_PROTOCOL, [request('a-1')], false)!;
    expect({ status: refusal.httpStatus, response: refusal.toResponse() }).toEqual({
      status: 400,
      response: {
        jsonrpc: '2.0',
        id: 'a-1',
        error: { code: -32602, message: `Invalid params: _meta["${META}"] is required in protocol revision ${MODERN_PROTOCOL}` },
      },
    });
  });

  test('a request without its client capabilities (or with a non-object): 400, -32602, its id echoed', () => {
    const withoutCapabilities: JsonRpcMessage = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { [META]: MODERN_PROTOCOL } } };
    const bodies = [withoutCapabilities, ...[null, [], 'sampling'].map((capabilities) => request(7, MODERN_PROTOCOL, capabilities))];
    for (const body of bodies) {
      const refusal = statelessRefusal(MODERN_PROTOCOL, [body], false)!;
      expect([refusal.httpStatus, refusal.code, refusal.toResponse().id]).toEqual([400, -32602, 7]);
      expect(refusal.message).toContain(CAPABILITIES);
    }
  });

  test('header and _meta disagreeing: 400, -32020, id echoed', () => {
    for (const header of [undefined, '2025-11-25']) {
      const refusal = statelessRefusal(header, [request(9, MODERN_PROTOCOL)], false)!;
      expect([refusal.httpStatus, refusal.code, refusal.toResponse().id]).toEqual([400, -32020, 9]);
    }
  });

  test('a batch is refused with -32600 and answers no single request (id null)', () => {
    const refusal = statelessRefusal(MODERN_PROTOCOL, [request(1, MODERN_PROTOCOL), request(2, MODERN_PROTOCOL)], true)!;
    expect([refusal.httpStatus, refusal.code, refusal.toResponse().id]).toEqual([400, -32600, null]);
  });

  test('a notification without _meta is not a request: only the header comparison applies', () => {
    const notification: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: {} };
    expect(statelessRefusal(MODERN_PROTOCOL, [notification], false)?.code).toBe(-32020);
  });

  test("an unsupported version offers the request's own era: 2026-07-28 for _meta requests, all revisions otherwise", () => {
    const modern = unsupportedVersionRefusal('2099-01-01', { messages: [request(4, '2099-01-01')], batch: false });
    expect(modern.toResponse()).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: {
        code: -32022,
        message: `Bad Request: Unsupported protocol version: 2099-01-01 (supported versions: ${MODERN_PROTOCOL})`,
        data: { supported: [MODERN_PROTOCOL], requested: '2099-01-01' },
      },
    });
    const sessionEra = unsupportedVersionRefusal('1999-01-01', { messages: [request(5)], batch: false });
    expect(sessionEra.data).toEqual({ supported: SUPPORTED_PROTOCOL_VERSIONS, requested: '1999-01-01' });
    expect(sessionEra.toResponse().id).toBe(5);
    expect(unsupportedVersionRefusal('1999-01-01').toResponse().id).toBeNull();
  });
});

describe('2026-07-28 mirrored headers (SEP-2243): Mcp-Method and Mcp-Name must match the body', () => {
  const call = (name: string): JsonRpcMessage => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } });
  const refusal = (method: string | undefined, name: string | undefined, message: JsonRpcMessage) => {
    const refused = mirroredHeaderRefusal(method, name, message);
    return refused && { status: refused.httpStatus, code: refused.code, id: refused.toResponse().id, message: refused.message };
  };

  test('matching headers pass, with whitespace around the values and names Base64-wrapped', () => {
    expect(refusal('tools/list', undefined, request(1))).toBeUndefined();
    expect(refusal(' tools/call\t', '  get_me  ', call('get_me'))).toBeUndefined();
    expect(refusal('tools/call', `=?base64?${Buffer.from('héllo').toString('base64')}?=`, call('héllo'))).toBeUndefined();
    const read: JsonRpcMessage = { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///a.txt' } };
    expect(refusal('resources/read', 'file:///a.txt', read)).toBeUndefined();
    // Only the three named methods mirror a name; a value without the whole wrapper is literal.
    expect(refusal('tools/call', '=?base64?aGk=', call('=?base64?aGk='))).toBeUndefined();
  });

  test.each<[string, string | undefined, string | undefined, JsonRpcMessage, RegExp]>([
    ['another method', 'prompts/list', undefined, request(1), /Mcp-Method header \(prompts\/list\) does not match the method \(tools\/list\)/],
    ['no Mcp-Method', undefined, undefined, request(1), /the Mcp-Method header is missing/],
    ['a method in other case (values are case-sensitive)', 'TOOLS/LIST', undefined, request(1), /does not match the method/],
    ['another name', 'tools/call', 'wrong_tool_name', call('get_me'), /Mcp-Name header \("wrong_tool_name"\) does not match params.name/],
    ['no Mcp-Name on tools/call', 'tools/call', undefined, call('get_me'), /the Mcp-Name header is missing/],
    ['a wrapped value that is not Base64', 'tools/call', '=?base64?SGVs!!!bG8=?=', call('Hello'), /not valid Base64/],
    ['Base64 with bad padding', 'tools/call', '=?base64?SGVsbG8?=', call('Hello'), /not valid Base64/],
  ])('%s: 400 with -32020 (HeaderMismatch), answering the request', (_case, method, name, message, text) => {
    expect(refusal(method, name, message)).toEqual({ status: 400, code: -32020, id: message.id, message: expect.stringMatching(text) });
  });
});
