import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { CallSink } from '../session/sink.js';
import type { EventStream } from '../session/streams.js';
import { SseWriter } from '../session/streams.js';

export interface PostResponderOptions {
  /** Number of responses the POST owes (1, or the requests of a 2025-03-26 batch). */
  readonly expected: number;
  readonly batch: boolean;
  readonly headers: Record<string, string>;
  /** Stateful sessions keep SSE events for `Last-Event-ID` resumption; undefined when there is no session. */
  readonly openStream?: () => EventStream;
  /** The client ranked text/event-stream above application/json in Accept: answer with SSE even for one response. */
  readonly preferSse?: boolean;
  /** Hold interim messages until the response (initialize: the session id header is not known before). */
  readonly holdInterim?: boolean;
  /** Sees every response, e.g. to record error codes for the access log. */
  readonly onFinish?: (message: JsonRpcMessage) => void;
}

/**
 * Answers one POST. It stays undecided until the first message: a lone response goes out as
 * `application/json` (cheapest for clients and proxies); anything that must stream first switches the
 * answer to SSE.
 */
export class PostResponder implements CallSink {
  private mode: 'pending' | 'sse' | 'done' = 'pending';
  private remaining: number;
  private readonly held: JsonRpcMessage[] = [];
  private readonly responses: JsonRpcMessage[] = [];
  private readonly extraHeaders: Record<string, string> = {};
  private stream?: EventStream;
  private writer?: SseWriter;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: PostResponderOptions,
  ) {
    this.remaining = options.expected;
  }

  get open(): boolean {
    if (this.mode === 'done') return false;
    if (this.stream) return true;
    return !this.res.destroyed;
  }

  setHeader(name: string, value: string): void {
    this.extraHeaders[name] = value;
  }

  push(message: JsonRpcMessage): void {
    if (this.mode === 'done') return;
    if (this.options.holdInterim && this.mode === 'pending') {
      this.held.push(message);
      return;
    }
    if (this.mode === 'pending') this.startSse();
    this.write(message);
  }

  finish(message: JsonRpcMessage, httpStatus = 200): void {
    if (this.mode === 'done') return;
    this.options.onFinish?.(message);
    this.remaining--;
    if (this.mode === 'pending') {
      this.responses.push(message);
      if (this.remaining > 0) return;
      if (this.held.length === 0 && (!this.options.preferSse || httpStatus !== 200)) {
        sendJson(
          this.res,
          this.options.batch ? 200 : httpStatus,
          { ...this.options.headers, ...this.extraHeaders },
          JSON.stringify(this.options.batch ? this.responses : this.responses[0]),
        );
        this.mode = 'done';
        return;
      }
      this.startSse();
    } else {
      this.write(message);
    }
    if (this.remaining <= 0) {
      if (this.stream) this.stream.finish();
      else this.writer?.end();
      this.mode = 'done';
    }
  }

  private startSse(): void {
    this.mode = 'sse';
    this.writer = new SseWriter(this.res);
    this.stream = this.options.openStream?.();
    this.writer.open(200, { ...this.options.headers, ...this.extraHeaders }, this.stream?.eventId(0));
    this.stream?.attach(this.writer, 0);
    // Whatever waited for the decision goes out first, in arrival order: held interim messages, then responses.
    for (const message of this.held.splice(0)) this.write(message);
    for (const message of this.responses.splice(0)) this.write(message);
  }

  private write(message: JsonRpcMessage): void {
    if (this.stream) this.stream.append(message);
    else this.writer?.event(JSON.stringify(message));
  }
}

/**
 * One JSON answer with its Content-Length: without it Node (headers written first) falls back to chunked
 * encoding, three writes instead of one, and the client has to de-chunk.
 */
export function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
