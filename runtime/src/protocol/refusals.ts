import { McpError } from './errors.js';
import { isRequest, type JsonRpcMessage, type RequestId } from './jsonrpc.js';
import { META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION, metaProtocolVersion, MODERN_PROTOCOL, SUPPORTED_PROTOCOL_VERSIONS } from './versions.js';

/**
 * What the protocol rules refuse in a POST body before anything is routed. Pure functions of the header
 * and the parsed body, so the transport only reads and writes, and the rules are tested without a socket.
 * An error that answers a single request carries that request's id (2026-07-28 requires it).
 */

/** True when 2026-07-28's rules apply: the MCP-Protocol-Version header or the first message's `_meta` names that revision. */
export function isStatelessRequest(headerVersion: string | undefined, first: JsonRpcMessage): boolean {
  return headerVersion === MODERN_PROTOCOL || metaProtocolVersion(first.params) === MODERN_PROTOCOL;
}

/** 2026-07-28's refusal of a body (no batches, `_meta` version required and equal to the header's), or undefined. */
export function statelessRefusal(headerVersion: string | undefined, messages: readonly JsonRpcMessage[], batch: boolean): McpError | undefined {
  const first = messages[0];
  const metaVersion = metaProtocolVersion(first.params);
  let refusal: McpError | undefined;
  if (batch) {
    refusal = new McpError('invalid_request', `Invalid Request: protocol revision ${MODERN_PROTOCOL} does not allow batches`);
  } else if (metaVersion === undefined && isRequest(first)) {
    // A request without its _meta protocol version is malformed (invalid params), not a header mismatch.
    refusal = new McpError('invalid_meta', `Invalid params: _meta["${META_PROTOCOL_VERSION}"] is required in protocol revision ${MODERN_PROTOCOL}`);
  } else if (isRequest(first) && !isPlainObject(first.params?._meta?.[META_CLIENT_CAPABILITIES])) {
    // Required on every 2026-07-28 request: a bridged target never sees this _meta, so the gateway checks it.
    refusal = new McpError(
      'invalid_meta',
      `Invalid params: _meta["${META_CLIENT_CAPABILITIES}"] is required in protocol revision ${MODERN_PROTOCOL}`,
    );
  } else if (headerVersion !== metaVersion) {
    const sent = `MCP-Protocol-Version header (${headerVersion ?? 'absent'})`;
    refusal = new McpError('header_mismatch', `Bad Request: ${sent} does not match _meta protocol version (${String(metaVersion ?? 'absent')})`);
  }
  return refusal && answeringSingle(refusal, first, batch);
}

/**
 * The refusal of an MCP-Protocol-Version the gateway does not serve. A 2026-07-28-style request (per-request
 * `_meta`) is offered what server/discover lists, the stateless revision; the session-era revisions are
 * reached through initialize instead. Without a body (GET, DELETE) every revision served is offered.
 */
export function unsupportedVersionRefusal(
  requested: string,
  body?: { readonly messages: readonly JsonRpcMessage[]; readonly batch: boolean },
): McpError {
  const first = body?.messages[0];
  const stateless = first !== undefined && !body!.batch && metaProtocolVersion(first.params) !== undefined;
  const supported: readonly string[] = stateless ? [MODERN_PROTOCOL] : SUPPORTED_PROTOCOL_VERSIONS;
  const text = `Bad Request: Unsupported protocol version: ${requested} (supported versions: ${supported.join(', ')})`;
  const refusal = new McpError('unsupported_protocol_version', text, { data: { supported, requested } });
  return first ? answeringSingle(refusal, first, body.batch) : refusal;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function answeringSingle(refusal: McpError, first: JsonRpcMessage, batch: boolean): McpError {
  return !batch && isRequest(first) ? refusal.answering(first.id as RequestId) : refusal;
}

/** The body field 2026-07-28 mirrors in the `Mcp-Name` header, by method (SEP-2243). */
const MIRRORED_NAME: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const BASE64_VALUE = /^=\?base64\?(.*)\?=$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * 2026-07-28's check of the mirrored headers against the body (SEP-2243): `Mcp-Method` must equal the method
 * (values are case-sensitive), and for `tools/call`, `prompts/get` and `resources/read` `Mcp-Name` must equal
 * `params.name` or `params.uri`. Whitespace around a value is not part of it (RFC 9110 §5.5); a value wrapped as
 * `=?base64?…?=` is the UTF-8 text of that Base64, and a wrapped value that is not Base64 is refused. A missing
 * header counts as a mismatch: an intermediary routing on it would otherwise see something else than the server.
 * 400 with -32020 (`HeaderMismatch`), answering the request.
 */
export function mirroredHeaderRefusal(method: string | undefined, name: string | undefined, message: JsonRpcMessage): McpError | undefined {
  const sentMethod = method?.trim();
  let problem: string | undefined;
  if (sentMethod !== message.method) {
    problem = sentMethod === undefined
      ? 'the Mcp-Method header is missing'
      : `Mcp-Method header (${sentMethod}) does not match the method (${message.method})`;
  } else {
    const field = MIRRORED_NAME[message.method ?? ''];
    const expected = field === undefined ? undefined : message.params?.[field];
    if (typeof expected === 'string') {
      const sentName = headerText(name);
      if (sentName === undefined) {
        problem = `the Mcp-Name header is missing (params.${field} is ${JSON.stringify(expected)})`;
      } else if (sentName === null) {
        problem = 'the Mcp-Name header is wrapped as =?base64?…?= but is not valid Base64';
      } else if (sentName !== expected) {
        problem = `Mcp-Name header (${JSON.stringify(sentName)}) does not match params.${field} (${JSON.stringify(expected)})`;
      }
    }
  }
  if (problem === undefined) return undefined;
  return answeringSingle(new McpError('header_mismatch', `Bad Request: ${problem}`), message, false);
}

/** A mirrored header's value: trimmed, Base64 decoded when wrapped; null when wrapped but not Base64. */
function headerText(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const wrapped = BASE64_VALUE.exec(trimmed);
  if (!wrapped) return trimmed;
  return BASE64.test(wrapped[1]) ? Buffer.from(wrapped[1], 'base64').toString('utf8') : null;
}
