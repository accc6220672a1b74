import { EventEmitter } from 'node:events';
import type { ResolvedBackend } from '../../src/config/model.js';
import type { McpTarget } from '../../src/config/types.js';
import type { JsonRpcMessage } from '../../src/protocol/jsonrpc.js';
import type { CallSink } from '../../src/session/sink.js';
import type { Logger } from '../../src/telemetry/logger.js';
import type { TargetKind, UpstreamConnection } from '../../src/upstream/types.js';

type Json = Record<string, unknown>;

/** What a fake server answers a request with: a result, a JSON-RPC error, or nothing (it hangs). */
export type FakeAnswer = { result: Json } | { error: { code: number; message: string; data?: unknown } } | 'no answer';

/**
 * An upstream server in memory, at the UpstreamConnection seam the gateway talks to: it records what the
 * gateway sends and answers requests with `answer`, on a later tick as a real connection would.
 */
export class FakeUpstream implements UpstreamConnection {
  readonly sessionId = undefined;
  readonly sent: JsonRpcMessage[] = [];
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  ondropped?: (bytes: number) => void;
  /** Sees the gateway's answers to this server's own requests (sampling, elicitation…). */
  onresponse?: (message: JsonRpcMessage) => void;
  protocolVersion?: string;
  closed = false;

  constructor(
    readonly target: string,
    private readonly answer: (request: JsonRpcMessage) => FakeAnswer | Promise<FakeAnswer>,
    readonly kind: TargetKind = 'mcp',
  ) {}

  /** Requests the gateway sent, by method, with the gateway's ids. */
  requests(method?: string): JsonRpcMessage[] {
    const isRequest = (message: JsonRpcMessage) => message.id !== undefined && message.method !== undefined;
    return this.sent.filter((message) => isRequest(message) && (method === undefined || message.method === method));
  }

  async send(message: JsonRpcMessage): Promise<void> {
    this.sent.push(message);
    if (message.method === undefined) this.onresponse?.(message);
    if (message.method === undefined || message.id === undefined || message.id === null) return;
    const id = message.id;
    const answer = await this.answer(message);
    if (answer === 'no answer') return;
    setImmediate(() => this.onmessage?.({ jsonrpc: '2.0', id, ...answer }));
  }

  /** The server sends something of its own: a notification or a server-to-client request. */
  emit(message: JsonRpcMessage): void {
    this.onmessage?.(message);
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A server that lists `items` of one kind, `pageSize` per page, with its own cursors `p<N>`; answers calls by echoing. */
export function listingServer(
  listKey: 'tools' | 'prompts' | 'resources',
  items: readonly Json[],
  pageSize = Infinity,
): (request: JsonRpcMessage) => FakeAnswer {
  return (request) => {
    if (request.method === `${listKey}/list`) {
      const cursor = request.params?.cursor;
      const start = typeof cursor === 'string' ? Number(cursor.slice(1)) : 0;
      const page = items.slice(start, start + pageSize);
      const result: Json = { [listKey]: page };
      if (start + pageSize < items.length) result.nextCursor = `p${start + pageSize}`;
      return { result };
    }
    if (request.method === 'tools/call') return { result: { content: [{ type: 'text', text: `called ${String(request.params?.name)}` }] } };
    if (request.method === 'resources/read') {
      const uri = String(request.params?.uri);
      return { result: { contents: [{ uri, text: 'body' }] } };
    }
    if (request.method === 'logging/setLevel' || request.method === 'ping') return { result: {} };
    return { error: { code: -32601, message: `Method not found: ${request.method}` } };
  };
}

export function backendOf(targets: readonly string[], overrides: Partial<ResolvedBackend> = {}): ResolvedBackend {
  return {
    name: 'backend',
    targets: targets.map((name): McpTarget => ({ name, mcp: { host: `http://127.0.0.1:1/${name}` } })),
    statefulMode: 'stateful',
    prefixMode: 'conditional',
    failureMode: 'failClosed',
    stdio: { maxProcesses: 8, idleTimeoutMs: 60_000, maxRestartsPerMinute: 5, maxProcessesPerSubject: 8, maxMessageBytes: 2 ** 20, warmup: false },
    ...overrides,
  };
}

/** Collects log lines instead of printing them; tests look at them when a warning is the behaviour. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; fields?: Json }> = [];
  debug(msg: string, fields?: Json): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields?: Json): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields?: Json): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: Json): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  child(): Logger {
    return this;
  }
}

/** A CallSink that keeps what it is given: interim messages, then the response and its HTTP status. */
export class RecordingSink implements CallSink {
  readonly pushed: JsonRpcMessage[] = [];
  response?: JsonRpcMessage;
  httpStatus?: number;
  open = true;

  push(message: JsonRpcMessage): void {
    this.pushed.push(message);
  }

  finish(message: JsonRpcMessage, httpStatus = 200): void {
    this.response = message;
    this.httpStatus = httpStatus;
    this.open = false;
  }
}

/**
 * The part of a ServerResponse an SSE writer uses, in memory: the events written, and `hangUp` for a
 * client whose connection drops.
 */
export class FakeSseResponse extends EventEmitter {
  status?: number;
  headers?: Record<string, string>;
  written = '';
  destroyed = false;
  finished = false;

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }

  flushHeaders(): void {}

  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }

  end(): this {
    this.finished = true;
    return this;
  }

  hangUp(): void {
    this.destroyed = true;
    this.emit('close');
  }

  /** The SSE events written so far: their ids and JSON-RPC messages (the priming event has no data). */
  events(): Array<{ id?: string; message?: JsonRpcMessage }> {
    return this.written
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => {
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1]?.trim();
        return { id, message: data ? (JSON.parse(data) as JsonRpcMessage) : undefined };
      });
  }
}
