import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

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
