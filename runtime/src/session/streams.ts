import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../upstream/types.js';

/** Events kept per stream for `Last-Event-ID` replay; older ones are dropped. */
const MAX_KEPT_EVENTS = 500;

interface StoredEvent {
  readonly seq: number;
  readonly data: string;
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
      connection: 'keep-alive',
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

  constructor(readonly id: string) {}

  get done(): boolean {
    return this.finished;
  }

  eventId(seq: number): string {
    return `${this.id}.${seq}`;
  }

  append(message: JsonRpcMessage): void {
    const seq = ++this.seq;
    const data = JSON.stringify(message);
    this.events.push({ seq, data });
    if (this.events.length > MAX_KEPT_EVENTS) this.events.shift();
    if (this.writer && !this.writer.closed) {
      this.writer.event(data, this.eventId(seq));
      this.delivered = seq;
    }
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
