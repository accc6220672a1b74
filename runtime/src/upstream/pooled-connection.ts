import type { StdioConnection } from './stdio.js';
import type { UpstreamConnection } from './types.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

type Json = Record<string, unknown>;

/**
 * What a client may send that leaves state in the server beyond its session's requests: a log level,
 * subscriptions, a changed root list. A process that saw one is never handed to another session.
 */
const STATEFUL_CLIENT_METHODS = new Set(['logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'notifications/roots/list_changed']);

/** How a session's use of a pooled process ended, for the pool to decide whether it may serve again. */
export interface ProcessReturn {
  readonly process: StdioConnection;
  /** Why the process must not serve another session; undefined when it carries nothing of this one. */
  readonly tainted?: string;
  /** The `initialize` the process answered (params and result), when the gateway saw it. */
  readonly handshake?: { readonly params: Json; readonly result: Json };
}

/**
 * One session's lease of a pooled stdio process. It watches what passes, so that when the session ends
 * the pool knows whether the process still looks like a freshly initialized one; `close` hands it back
 * instead of stopping it.
 */
export class PooledConnection implements UpstreamConnection {
  readonly kind = 'stdio' as const;
  readonly sessionId = undefined;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  private tainted?: string;
  private readonly inflight = new Set<string | number>();
  private initializeRequest?: { id: string | number; params: Json };
  private handshake?: { params: Json; result: Json };
  private initializedSent: boolean;
  private closed = false;

  constructor(
    readonly target: string,
    private readonly process: StdioConnection,
    /** The pre-initialize (or previous session's) handshake; the session answers `initialize` from it. */
    handshake: { readonly params: Json; readonly result: Json } | undefined,
    /** Resolves once the process is stopped or back in the pool. */
    private readonly release: (returned: ProcessReturn) => Promise<void>,
    /** Told of every message the session sends: a pending refill waits until new sessions go quiet. */
    private readonly activity?: () => void,
  ) {
    this.handshake = handshake ? { ...handshake } : undefined;
    // A process that served a session already had its `notifications/initialized`; a second one is not sent.
    this.initializedSent = false;
    process.onmessage = (message) => this.receive(message);
    process.onclose = (reason) => this.onclose?.(reason);
  }

  /** The `initialize` result this process already gave: the session must not send another `initialize`. */
  get initialized(): Json | undefined {
    return this.handshake?.result;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Set by the pool for a process that already served a session. */
  markInitializedSent(): void {
    this.initializedSent = true;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    this.activity?.();
    const method = message.method;
    if (method !== undefined) {
      if (method === 'notifications/initialized') {
        if (this.initializedSent) return;
        this.initializedSent = true;
      } else if (STATEFUL_CLIENT_METHODS.has(method)) {
        this.tainted ??= `the session sent ${method}`;
      }
      if (message.id !== undefined && message.id !== null) {
        this.inflight.add(message.id);
        if (method === 'initialize') this.initializeRequest = { id: message.id, params: (message.params ?? {}) as Json };
      }
    }
    return this.process.send(message);
  }

  setProtocolVersion(): void {}

  /** Gives the process back to the pool, which stops it or keeps it for another session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.process.onmessage = undefined;
    this.process.onclose = undefined;
    const unanswered = this.inflight.size > 0 ? `${this.inflight.size} request(s) still unanswered` : undefined;
    const unknownHandshake = this.handshake ? undefined : 'its initialize was not seen';
    await this.release({ process: this.process, tainted: this.tainted ?? unanswered ?? unknownHandshake, handshake: this.handshake });
  }

  private receive(message: JsonRpcMessage): void {
    const hasId = message.id !== undefined && message.id !== null;
    if (message.method === undefined && hasId) {
      this.inflight.delete(message.id!);
      const initialize = this.initializeRequest;
      if (initialize && initialize.id === message.id && message.result) {
        this.handshake = { params: initialize.params, result: message.result };
        this.initializeRequest = undefined;
      }
    } else if (message.method !== undefined && hasId && message.method !== 'ping') {
      // sampling, elicitation, roots/list…: the server now knows something of this client.
      this.tainted ??= `the server sent a ${message.method} request`;
    }
    this.onmessage?.(message);
  }
}
