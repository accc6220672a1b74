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
