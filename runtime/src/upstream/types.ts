import type { UpstreamErrorReason } from '../telemetry/telemetry.js';

/** A JSON-RPC 2.0 message as it travels through the gateway: fields the gateway does not know are kept. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
  [field: string]: unknown;
}

export type TargetKind = 'stdio' | 'mcp' | 'sse';

/**
 * One live connection to one target, at the JSON-RPC message level. The gateway owns id mapping;
 * a connection only moves messages.
 */
export interface UpstreamConnection {
  readonly target: string;
  readonly kind: TargetKind;
  /** The upstream's own `Mcp-Session-Id` (Streamable HTTP targets), carried in the gateway's session id. */
  readonly sessionId: string | undefined;
  /** Every message from the upstream: responses, notifications and server-to-client requests. */
  onmessage?: (message: JsonRpcMessage) => void;
  /** The connection is gone for good (process exit, stream loss); in-flight requests must be failed with `reason`. */
  onclose?: (reason: Error) => void;
  /** Bytes of an upstream message the connection refused to hold (over its size limit). */
  ondropped?: (bytes: number) => void;
  /**
   * The `initialize` result when the connection was opened already initialized (a warm or shared stdio
   * process, see POOL.md): the session answers its client from it and sends no `initialize` upstream.
   */
  readonly initialized?: Record<string, unknown>;
  send(message: JsonRpcMessage): Promise<void>;
  setProtocolVersion(version: string): void;
  /**
   * Opens the stream for messages the server sends outside any request (Streamable HTTP's GET), once the
   * session exists; resolves when the server has answered it. Connections without one leave it out.
   */
  openStream?(): Promise<void>;
  /**
   * Ends the connection without calling `onclose`: stops the process, closes the streams. With `terminate`
   * the upstream session ends too (HTTP DELETE); without, another gateway replica may go on using it.
   */
  close(terminate?: boolean): Promise<void>;
}

/** A request that could not be served by an upstream, with the JSON-RPC code the client gets. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    public readonly code: number = -32603,
    public readonly data?: unknown,
    /** HTTP status for the client when not 200, e.g. 404 when the upstream no longer knows the session. */
    public readonly httpStatus?: number,
    /** Why, for metrics; set where the failure is first seen. */
    public readonly reason?: UpstreamErrorReason,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
