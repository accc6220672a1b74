import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/**
 * Where the messages caused by one client request go: interim ones first, then its response. Federation
 * writes to it; the transport implements it (a POST's answer, a GET stream, a legacy SSE stream).
 */
export interface CallSink {
  /** A notification or server-to-client request that belongs to the request. */
  push(message: JsonRpcMessage): void;
  /** The response; `httpStatus` replaces 200 when the answer is still undecided (e.g. 404 for a vanished session). */
  finish(message: JsonRpcMessage, httpStatus?: number): void;
  /** False once nothing more can reach the client on this sink (neither live nor stored for resumption). */
  readonly open: boolean;
}
