import type { ServerResponse } from 'node:http';
import { INTERNAL_ERROR } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/** Events kept per stream for `Last-Event-ID` replay; older ones are dropped. */
const MAX_KEPT_EVENTS = 500;

interface StoredEvent {
  readonly seq: number;
  data: string;
  /** Id of the response this event carries; a response dropped for the budget is replaced by an error, not removed. */
  readonly responseId?: string | number;
  /** Already the small stand-in error: nothing more to free. */
  stub?: boolean;
}

/**
 * The bytes one session may keep for `Last-Event-ID` replay, shared by all its streams. Over budget the
 * oldest events go first; a response among them is replaced by a short JSON-RPC error, so a client that
 * resumes learns its answer is gone instead of waiting forever.
 */
export class ReplayBudget {
  private used = 0;
  private readonly streams = new Set<EventStream>();

  constructor(
    readonly maxBytes: number,
    /** Bytes given up, for the `mcp_gateway_dropped_bytes_total` metric. */
    private readonly onDropped: (bytes: number) => void = () => undefined,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  track(stream: EventStream): void {
    this.streams.add(stream);
  }

  /** A stream the session no longer keeps: its bytes are free again. */
  release(stream: EventStream): void {
    if (this.streams.delete(stream)) this.used -= stream.keptBytes;
  }

  /** Called by a stream that now keeps `bytes` more (or fewer, when negative). */
  adjust(bytes: number): void {
    this.used += bytes;
    if (this.used <= this.maxBytes) return;
    for (const stream of this.streams) {
      while (this.used > this.maxBytes) {
        const freed = stream.shed();
        if (freed === 0) break;
        this.used -= freed;
        this.onDropped(freed);
      }
      if (this.used <= this.maxBytes) return;
    }
  }

  dropped(bytes: number): void {
    this.onDropped(bytes);
  }
}

/** What a client that resumes gets instead of a response too large to keep. */
function droppedResponse(id: string | number, bytes: number, maxBytes: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    error: {
      code: INTERNAL_ERROR,
      message: `the response (${bytes} bytes) was delivered once but not kept for replay: the session's replay buffer is limited to ${maxBytes} `
        + 'bytes (config.limits.maxReplayBytes); repeat the request',
    },
  });
}

/** An SSE response the gateway writes to; one per open HTTP connection. */
export class SseWriter {
  private ended = false;

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      this.ended = true;
    });
  }

  /** Sends the SSE headers and a priming event (2025-11-25: lets the client resume before any message). */
  open(status: number, headers: Record<string, string>, primingEventId?: string): void {
    this.res.writeHead(status, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'connection': 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (primingEventId !== undefined) this.res.write(`id: ${primingEventId}\ndata: \n\n`);
    else this.res.flushHeaders();
  }

  get closed(): boolean {
    return this.ended || this.res.destroyed;
  }

  event(data: string, id?: string): void {
    if (this.closed) return;
    this.res.write(id === undefined ? `event: message\ndata: ${data}\n\n` : `id: ${id}\nevent: message\ndata: ${data}\n\n`);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end();
  }
}

/**
 * One logical SSE stream of a session (the stream of one POST, or the standalone GET stream). It
 * outlives the HTTP connection that carries it, so a client that lost the connection can resume with
 * `Last-Event-ID` and get what it missed.
 */
export class EventStream {
  private seq = 0;
  private readonly events: StoredEvent[] = [];
  private writer?: SseWriter;
  private finished = false;
  /** Highest event a writer has been given; the GET stream re-delivers later ones to the next GET. */
  private delivered = 0;
  private kept = 0;

  constructor(
    readonly id: string,
    private readonly budget?: ReplayBudget,
  ) {
    budget?.track(this);
  }

  /** Bytes of the events this stream keeps for replay. */
  get keptBytes(): number {
    return this.kept;
  }

  get done(): boolean {
    return this.finished;
  }

  eventId(seq: number): string {
    return `${this.id}.${seq}`;
  }

  append(message: JsonRpcMessage): void {
    const seq = ++this.seq;
    const data = JSON.stringify(message);
    const responseId = message.method === undefined && message.id !== undefined && message.id !== null ? message.id : undefined;
    const event: StoredEvent = { seq, data, responseId };
    if (this.writer && !this.writer.closed) {
      this.writer.event(data, this.eventId(seq));
      this.delivered = seq;
    }
    this.events.push(event);
    this.keep(data.length);
    if (this.events.length > MAX_KEPT_EVENTS) this.keep(-this.events.shift()!.data.length);
  }

  private keep(bytes: number): void {
    this.kept += bytes;
    this.budget?.adjust(bytes);
  }

  /** Frees the oldest event that still holds bytes (a response becomes a short error); returns the bytes freed. */
  shed(): number {
    for (let index = 0; index < this.events.length; index++) {
      const event = this.events[index];
      if (event.stub) continue;
      const before = event.data.length;
      if (event.responseId === undefined) {
        this.events.splice(index, 1);
        this.kept -= before;
        return before;
      }
      const stub = droppedResponse(event.responseId, before, this.budget?.maxBytes ?? 0);
      event.stub = true;
      if (stub.length >= before) continue;
      event.data = stub;
      this.kept -= before - stub.length;
      return before - stub.length;
    }
    return 0;
  }

  /** Replays the events after `afterSeq` (default: those never delivered) and then follows the stream live. */
  attach(writer: SseWriter, afterSeq?: number): void {
    if (this.writer && this.writer !== writer) this.writer.end();
    this.writer = writer;
    const from = afterSeq ?? this.delivered;
    for (const event of this.events) {
      if (event.seq > from) writer.event(event.data, this.eventId(event.seq));
    }
    this.delivered = Math.max(this.delivered, this.seq);
    if (this.finished) writer.end();
  }

  /** The stream has no more events (the POST's responses are all written). */
  finish(): void {
    this.finished = true;
    this.writer?.end();
  }
}

export function parseEventId(id: string): { stream: string; seq: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const seq = Number(id.slice(dot + 1));
  if (!Number.isInteger(seq) || seq < 0) return undefined;
  return { stream: id.slice(0, dot), seq };
}
