import { requestStateless } from './stateless-upstream.js';
import { McpError, type UpstreamErrorReason } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { MODERN_PROTOCOL } from '../protocol/versions.js';
import type { CallSink } from '../session/sink.js';
import { redactText } from '../telemetry/redact.js';
import type { SpanHandle } from '../telemetry/tracing.js';
import type { UpstreamConnection } from '../upstream/types.js';

/** How long the session waits for the upstream's standalone stream to open before sending on without it. */
const STREAM_OPEN_WAIT_MS = 30_000;

/** A client request in flight; links use it to place the upstream's interim messages on the right stream. */
export interface ClientCall {
  readonly clientId: string | number;
  readonly method: string;
  readonly sink: CallSink;
  /** Upstream requests made for this call, so a client cancellation can be forwarded with the right ids. */
  readonly upstream: Array<{ readonly link: TargetLink; readonly id: number }>;
  /** Set by the router when authorization hid the item the call named. */
  denied?: boolean;
  /** The target that served it and the name there (un-prefixed), once the router knows. */
  target?: string;
  name?: string;
  /** Aborted when the client goes away (ephemeral requests): ends a listen stream or a bridged exchange. */
  readonly signal?: AbortSignal;
  /** The client request's span when tracing is on; upstream calls become its children. */
  span?: SpanHandle;
}

/** What the router needs of a link to a target: a session's own link, or the bridge's (BRIDGING.md). */
export interface RoutedLink {
  readonly name: string;
  /** Capabilities the target announced, when known. */
  readonly capabilities?: Record<string, unknown>;
  request(message: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage>;
}

interface Pending {
  readonly method: string;
  readonly call?: ClientCall;
  readonly resolve: (response: JsonRpcMessage) => void;
  readonly reject: (error: Error) => void;
  /** Undefined for a `subscriptions/listen`: the stream is meant to stay open until the client leaves. */
  timer?: NodeJS.Timeout;
}

export interface LinkEvents {
  /** A notification or server-to-client request from the upstream. */
  upstreamMessage(link: TargetLink, message: JsonRpcMessage): void;
  /** The connection is gone; pending requests have already been failed. */
  lost(link: TargetLink, reason: Error): void;
  /** A request failed for a reason of the upstream's (not the client's): metrics and target health. */
  failed?(link: TargetLink, reason: UpstreamErrorReason, message: string): void;
  /** The upstream answered a request. */
  answered?(link: TargetLink): void;
  /** A 2026-07-28 target needs the client's input (input_required): a server-to-client request on `call`'s session. */
  ask?(link: TargetLink, request: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage>;
  /** A session-era client (un)subscribes a resource of a 2026-07-28 target: served by a listen stream. */
  subscribe?(link: TargetLink, uri: string, subscribed: boolean): Promise<void>;
}

/**
 * The gateway's side of one connection to one target. It numbers the requests it sends upstream itself,
 * so ids from the client (or from several clients on a shared connection) can never collide upstream.
 */
export class TargetLink {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /**
   * Settles once everything sent with `send` (notifications, answers to the server's requests) has been
   * accepted by the upstream. Requests wait for it, so the upstream sees the client's messages in the
   * client's order: over HTTP each message is its own POST, and without this `notifications/initialized`
   * or the answer to a sampling request could arrive after the request the client sent next.
   */
  private accepted: Promise<void> = Promise.resolve();
  private lostReason?: Error;
  /** Protocol version this upstream agreed to in `initialize`. */
  protocolVersion?: string;
  /** Capabilities from `initialize`; unknown (undefined) for a session resumed from its id. */
  capabilities?: Record<string, unknown>;
  /**
   * Set when the target speaks only 2026-07-28 and the client a session-era revision: the `_meta` each
   * request carries; input_required results are turned into requests to the client (BRIDGING.md).
   */
  statelessMeta?: Record<string, unknown>;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly connection: UpstreamConnection,
    private readonly timeoutMs: number,
    private readonly events: LinkEvents,
  ) {
    connection.onmessage = (message) => this.receive(message);
    connection.onclose = (reason) => this.lose(reason);
  }

  get alive(): boolean {
    return this.lostReason === undefined;
  }

  get kind(): UpstreamConnection['kind'] {
    return this.connection.kind;
  }

  /** Client calls with a request outstanding on this link, oldest first. */
  inflightCalls(): ClientCall[] {
    const calls: ClientCall[] = [];
    for (const pending of this.pending.values()) if (pending.call && !calls.includes(pending.call)) calls.push(pending.call);
    return calls;
  }

  /** Sends `message` (a request) with an id of our own; resolves with the upstream's response, id untouched. */
  request(message: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage> {
    const meta = this.statelessMeta;
    const ask = this.events.ask;
    if (!meta || !ask) return this.requestOnce(message, call);
    const subscribe = this.events.subscribe;
    const uri = message.params?.uri;
    if (subscribe && typeof uri === 'string' && (message.method === 'resources/subscribe' || message.method === 'resources/unsubscribe')) {
      return subscribe(this, uri, message.method === 'resources/subscribe').then(() => ({ jsonrpc: '2.0', id: message.id, result: {} }));
    }
    return requestStateless(message, meta, (sent) => this.requestOnce(sent, call), (asked) => ask(this, asked, call));
  }

  private requestOnce(message: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage> {
    if (this.lostReason) return Promise.reject(new McpError('unavailable', this.lostReason.message));
    const span = call?.span?.child(`${message.method ?? ''} ${this.name}`, {
      'mcp.method.name': message.method,
      'mcp.target': this.name,
      'gen_ai.tool.name': message.method === 'tools/call' && typeof message.params?.name === 'string' ? message.params.name : undefined,
    });
    if (!span) return this.sendRequest(message, call);
    // SEP-414: the trace context rides in `_meta`, the only carrier a stdio server sees (HTTP upstreams also get headers).
    const traced = { ...message, params: { ...message.params, _meta: { ...message.params?._meta, ...span.carrier() } } };
    return this.sendRequest(traced, call).then(
      (response) => {
        span.end(response.error ? { message: response.error.message, code: response.error.code } : undefined);
        return response;
      },
      (error: Error & { code?: number }) => {
        span.end({ message: error.message, code: error.code });
        throw error;
      },
    );
  }

  private sendRequest(message: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage> {
    const id = this.nextId++;
    const method = message.method ?? '';
    call?.upstream.push({ link: this, id });
    return new Promise((resolve, reject) => {
      const timer = method === 'subscriptions/listen' ? undefined : this.timeout(id, method, reject);
      this.pending.set(id, { method, call, resolve, reject, timer });
      this.afterAccepted(() => this.connection.send({ ...message, id })).catch((error: Error & { code?: number }) => {
        const entry = this.pending.get(id);
        if (!entry) return;
        clearTimeout(entry.timer);
        this.pending.delete(id);
        if (error.code === 404 && this.connection.sessionId !== undefined) {
          // The upstream ended its session (expired, or deleted through another replica): so has ours.
          const gone = new McpError(
            'session_not_found',
            `Session not found: target "${this.name}" no longer knows this session; initialize a new one`,
          );
          reject(gone);
          this.events.failed?.(this, 'session_not_found', gone.message);
          this.lose(gone);
          return;
        }
        const refusal = this.protocolVersion === MODERN_PROTOCOL ? upstreamRefusal(error) : undefined;
        if (refusal) {
          // 2026-07-28: a server answers a request it refuses with an HTTP error status and a JSON-RPC error
          // (404/-32601 for a removed method, 400/-32602 for bad _meta…). That is its answer, relayed as it is.
          this.events.answered?.(this);
          reject(McpError.relayed(refusal.code, refusal.message, refusal.data, refusal.status));
          return;
        }
        const failure = new McpError('unavailable', `target "${this.name}" failed ${method}: ${describeFetchError(error)}`);
        this.events.failed?.(this, 'unavailable', failure.message);
        reject(failure);
      });
    });
  }

  /** Progress on a request restarts its timeout: a long job that reports progress is alive, not hung. */
  extendTimeout(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    if (pending.timer === undefined) return;
    clearTimeout(pending.timer);
    pending.timer = this.timeout(id, pending.method, pending.reject);
  }

  private timeout(id: number, method: string, reject: (error: Error) => void): NodeJS.Timeout {
    return setTimeout(() => {
      this.pending.delete(id);
      void this.connection
        .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'gateway timeout' } })
        .catch(() => undefined);
      const failure = new McpError('upstream_timeout', `target "${this.name}" did not answer ${method} within ${formatMs(this.timeoutMs)}`);
      this.events.failed?.(this, 'timeout', failure.message);
      reject(failure);
    }, this.timeoutMs);
  }

  /** Notifications and responses to server-to-client requests: no id of ours involved. */
  send(message: JsonRpcMessage): void {
    if (this.lostReason) return;
    const sent = this.afterAccepted(() => this.connection.send(message));
    this.accepted = sent.catch((error: Error) => this.events.lost(this, error));
  }

  /**
   * After the upstream accepted `initialize`: opens the stream for the server's own messages (Streamable
   * HTTP), and nothing more is sent until the server has answered it, so what the server sends on it as
   * soon as the client is initialized has somewhere to go.
   */
  initialized(): void {
    const open = this.connection.openStream;
    if (!open) return;
    // A server (or proxy) that holds the stream's headers until its first event must not stall the session.
    const opened = this.afterAccepted(() => open.call(this.connection)).catch(() => undefined);
    this.accepted = Promise.race([opened, new Promise<void>((resolve) => setTimeout(resolve, STREAM_OPEN_WAIT_MS).unref())]);
  }

  /** Runs `send` once the messages sent before it are accepted. */
  private afterAccepted(send: () => Promise<void>): Promise<void> {
    return this.accepted.then(send);
  }

  async close(terminate = false): Promise<void> {
    this.failAll(new McpError('unavailable', `session closed while target "${this.name}" was handling the request`));
    this.lostReason ??= new Error(`target "${this.name}" connection closed`);
    await this.connection.close(terminate);
  }

  private receive(message: JsonRpcMessage): void {
    if (message.method === undefined && typeof message.id === 'number') {
      const pending = this.pending.get(message.id);
      if (!pending) return; // late answer to a timed-out or cancelled request
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      this.events.answered?.(this);
      pending.resolve(message);
      return;
    }
    if (message.method === undefined) return;
    this.events.upstreamMessage(this, message);
  }

  private lose(reason: Error): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    if (!(reason instanceof McpError && reason.kind === 'session_not_found')) this.events.failed?.(this, 'connection_lost', reason.message);
    this.failAll(reason);
    this.events.lost(this, reason);
  }

  private failAll(reason: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new McpError('unavailable', `${reason.message} while handling ${pending.method}`));
      this.pending.delete(id);
    }
  }
}

/**
 * The SDK's Streamable HTTP client turns a non-2xx answer to a POST into an error with the HTTP status as
 * `code` and the body in the message; a body that is a JSON-RPC error is the server's own answer.
 */
function upstreamRefusal(error: Error & { code?: number }): { status: number; code: number; message: string; data?: unknown } | undefined {
  const marker = 'Error POSTing to endpoint: ';
  const at = error.message.indexOf(marker);
  if (typeof error.code !== 'number' || error.code < 400 || error.code > 499 || at < 0) return undefined;
  try {
    const body = JSON.parse(error.message.slice(at + marker.length)) as {
      jsonrpc?: string;
      error?: { code?: unknown; message?: unknown; data?: unknown };
    };
    if (body.jsonrpc !== '2.0' || typeof body.error?.code !== 'number' || typeof body.error.message !== 'string') return undefined;
    return { status: error.code, code: body.error.code, message: body.error.message, data: body.error.data };
  } catch {
    return undefined;
  }
}

/**
 * fetch says only "fetch failed"; the cause (ECONNREFUSED 127.0.0.1:3000) is what an operator needs. The
 * text reaches clients and logs, so it goes through the redaction; an upstream's HTTP error body (a stack
 * trace, internal names) is not the client's business: only its status is passed on.
 */
function describeFetchError(error: Error): string {
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number' && status >= 400 && status <= 599) return `upstream answered HTTP ${status}`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = cause?.message && !error.message.includes(cause.message) ? `${error.message} (${cause.message})` : error.message;
  return redactText(text);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
