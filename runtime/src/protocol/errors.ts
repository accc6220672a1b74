import type { JsonRpcMessage, RequestId } from './jsonrpc.js';

/** JSON-RPC 2.0 codes (spec §5.1). */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** Server error range: the upstream did not answer in time. */
export const UPSTREAM_TIMEOUT = -32001;
/** Server error range: "cannot serve this right now" (target down, stdio pool full, a limit reached). */
export const UNAVAILABLE = -32002;
/** Server error range: a request a shared stdio process cannot take on behalf of one session. */
export const SHARED_REFUSED = -32003;
/** 2026-07-28: the MCP-Protocol-Version header and the request's `_meta` disagree. */
export const HEADER_MISMATCH = -32020;
/** 2026-07-28: the request needs a client capability the client did not declare. */
export const MISSING_CLIENT_CAPABILITY = -32021;
/** 2026-07-28 names this code for an unsupported protocol version; older revisions leave the code open. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;
/** MCP: the request was cancelled (answer to a client's `notifications/cancelled`). */
export const REQUEST_CANCELLED = -32800;

/** Why an upstream failed, for metrics and target health; set where the failure is first seen. */
export type UpstreamErrorReason =
  | 'connect_failed'
  | 'unavailable'
  | 'timeout'
  | 'connection_lost'
  | 'session_not_found'
  | 'process_limit'
  | 'crash_loop';

/**
 * Every way the gateway refuses or fails a request, with the HTTP status and JSON-RPC code the client
 * gets. Status 200 means the error travels in band, as the JSON-RPC response to the request. The table
 * is the contract documented in README.md beside this file.
 */
export const ERROR_KINDS = {
  /** The body is not JSON. */
  parse_error: { httpStatus: 400, code: PARSE_ERROR },
  /** Not a JSON-RPC message, a batch where none is allowed, no session id, too deep… */
  invalid_request: { httpStatus: 400, code: INVALID_REQUEST },
  /** An HTTP method the endpoint does not serve. */
  method_not_allowed: { httpStatus: 405, code: INVALID_REQUEST },
  /** Accept lacks application/json or text/event-stream. */
  not_acceptable: { httpStatus: 406, code: INVALID_REQUEST },
  /** Content-Type is not application/json. */
  unsupported_media_type: { httpStatus: 415, code: INVALID_REQUEST },
  /** The body is over `config.limits.maxBodyBytes`, or a batch over `maxBatchSize`. */
  payload_too_large: { httpStatus: 413, code: INVALID_REQUEST },
  /** The body did not arrive within `config.limits.bodyTimeout`. */
  body_timeout: { httpStatus: 408, code: INVALID_REQUEST },
  /** The session id is unknown, ended, expired, someone else's, or cannot be rebuilt here. */
  session_not_found: { httpStatus: 404, code: INVALID_REQUEST },
  /** MCP-Protocol-Version names a revision the gateway does not serve. */
  unsupported_protocol_version: { httpStatus: 400, code: UNSUPPORTED_PROTOCOL_VERSION },
  /** 2026-07-28: header and `_meta` protocol versions disagree. */
  header_mismatch: { httpStatus: 400, code: HEADER_MISMATCH },
  /** 2026-07-28: `_meta` of the request is missing or malformed. */
  invalid_meta: { httpStatus: 400, code: INVALID_PARAMS },
  /** 2026-07-28: a method the gateway does not serve (SEP-2575: HTTP 404 too). */
  unknown_method: { httpStatus: 404, code: METHOD_NOT_FOUND },
  /** Session-era revisions: a method nobody serves (200: a 404 there would say the session is gone). */
  method_not_found: { httpStatus: 200, code: METHOD_NOT_FOUND },
  /** Unknown (or hidden) tool, prompt or resource, bad cursor, a name several targets serve. */
  invalid_params: { httpStatus: 200, code: INVALID_PARAMS },
  /** 2026-07-28: the request needs a client capability the client did not declare. */
  missing_client_capability: { httpStatus: 400, code: MISSING_CLIENT_CAPABILITY },
  /** A session or rate limit refused the request (`data.limit` names it; Retry-After when known). */
  limited: { httpStatus: 429, code: UNAVAILABLE },
  /** A target is down, its stdio pool full, its process crash-looping, or the gateway draining. */
  unavailable: { httpStatus: 200, code: UNAVAILABLE },
  /** A shared stdio process refused a per-session request. */
  shared_refused: { httpStatus: 200, code: SHARED_REFUSED },
  /** A target did not answer within `upstreamTimeout`. */
  upstream_timeout: { httpStatus: 200, code: UPSTREAM_TIMEOUT },
  /** The client cancelled the request. */
  cancelled: { httpStatus: 200, code: REQUEST_CANCELLED },
  /** The request was taken but could not be completed (session closed under it, state too large). */
  internal: { httpStatus: 200, code: INTERNAL_ERROR },
  /** A bug: the gateway failed outside any request's handling. */
  gateway_failure: { httpStatus: 500, code: INTERNAL_ERROR },
  /** No route of the listener matches the request, or a well-known path nobody serves. */
  no_route: { httpStatus: 404, code: INVALID_REQUEST },
  /** The Origin (or, on loopback, the Host) is not allowed: CORS or DNS-rebinding protection. */
  origin_rejected: { httpStatus: 403, code: INVALID_REQUEST },
  /** SIGTERM: the gateway drains and takes no new requests (another replica will). */
  shutting_down: { httpStatus: 503, code: INTERNAL_ERROR },
  /** A target's own error, passed on with its code (and its HTTP status when it refused with one). */
  relayed: { httpStatus: 200, code: INTERNAL_ERROR },
} as const satisfies Record<string, { readonly httpStatus: number; readonly code: number }>;

export type McpErrorKind = keyof typeof ERROR_KINDS;

export interface McpErrorOptions {
  /** JSON-RPC `error.data`. */
  readonly data?: unknown;
  /** Why an upstream failed, for metrics; set where the failure is first seen. */
  readonly reason?: UpstreamErrorReason;
  /** Id of the request the error answers, when known. */
  readonly id?: RequestId;
}

/**
 * The gateway's one error type for requests it cannot serve: it knows the HTTP status and the JSON-RPC
 * code the client gets (from its kind, see ERROR_KINDS), so no layer has to translate.
 */
export class McpError extends Error {
  /** From the kind's row of ERROR_KINDS; only `relayed` errors carry a target's own. */
  private answer: { readonly httpStatus: number; readonly code: number };
  readonly data?: unknown;
  readonly reason?: UpstreamErrorReason;
  /** Id of the request the error answers; the transport fills it in once it has read the body. */
  id?: RequestId;

  constructor(
    readonly kind: McpErrorKind,
    message: string,
    options: McpErrorOptions = {},
  ) {
    super(message);
    this.name = 'McpError';
    this.answer = ERROR_KINDS[kind];
    this.data = options.data;
    this.reason = options.reason;
    this.id = options.id;
  }

  /**
   * A target's JSON-RPC error, passed on as it is: its code and, when it refused over HTTP (2026-07-28:
   * 404/-32601, 400/-32602…), its status.
   */
  static relayed(code: number, message: string, data?: unknown, httpStatus = 200): McpError {
    const error = new McpError('relayed', message, { data });
    error.answer = { httpStatus, code };
    return error;
  }

  /** The JSON-RPC error code the client gets. */
  get code(): number {
    return this.answer.code;
  }

  /** The HTTP status of the answer; 200 when the error travels in band. */
  get httpStatus(): number {
    return this.answer.httpStatus;
  }

  /** The same error, now answering request `id`. */
  answering(id: RequestId | undefined): this {
    if (id !== undefined) this.id = id;
    return this;
  }

  /** The JSON-RPC response that carries this error; `id` defaults to the request it answers (else null). */
  toResponse(id: RequestId | null | undefined = this.id): JsonRpcMessage {
    const error: { code: number; message: string; data?: unknown } = { code: this.code, message: this.message };
    if (this.data !== undefined) error.data = this.data;
    return { jsonrpc: '2.0', id: id ?? null, error };
  }
}
