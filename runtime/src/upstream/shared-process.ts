import type { StdioConnection } from './stdio.js';
import type { UpstreamConnection } from './types.js';
import type { ProcessSource } from './warm-pool.js';
import type { StdioTarget } from '../config/types.js';
import { SHARED_REFUSED } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { Logger } from '../telemetry/logger.js';

type Json = Record<string, unknown>;

const INITIALIZE_TIMEOUT_MS = 120_000;

/**
 * Methods a session may not send to a process other sessions use: each would change what every session
 * gets (log level) or produce messages that cannot be told apart per session (subscription updates).
 */
const REFUSED_CLIENT_METHODS: Record<string, string> = {
  'logging/setLevel': 'it would set the log level of every session',
  'resources/subscribe': 'its update notifications could not be attributed to one session',
  'resources/unsubscribe': 'subscriptions are not available on a shared process',
};

export interface SharedProcessEvents {
  /** A server-to-client request or a client method was refused because the process is shared. */
  refused?(what: string): void;
}

/**
 * One stdio process serving many sessions (`pool.shared`), for servers that keep no per-session state.
 * Every request gets an id of the process's own and progress tokens are made unique, so answers and
 * progress go back to the session that asked. Nothing is delivered on a guess: a server-to-client
 * request (sampling, elicitation, roots) cannot be tied to the caller over stdio, so it is refused with
 * an error to the server; log notifications are dropped; list changes go to every session.
 */
export class SharedProcess {
  private process?: StdioConnection;
  private starting?: Promise<{ process: StdioConnection; result: Json }>;
  private result?: Json;
  private readonly channels = new Set<SharedChannel>();
  private readonly pending = new Map<number, { channel: SharedChannel; id: string | number }>();
  private readonly progress = new Map<string, { channel: SharedChannel; token: string | number }>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly target: string,
    private readonly spec: StdioTarget,
    /** The protocol revision this process was initialized with; only clients asking for it share it. */
    readonly protocolVersion: string,
    private readonly source: ProcessSource,
    private readonly logger: Logger,
    private readonly clientInfo: Json,
    private readonly idleTimeoutMs: number,
    private readonly events: SharedProcessEvents = {},
  ) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get sessions(): number {
    return this.channels.size;
  }

  /** The revision the server answered `initialize` with, once it did; it may differ from the one asked for. */
  get negotiatedVersion(): string | undefined {
    const version = this.result?.protocolVersion;
    return typeof version === 'string' ? version : undefined;
  }

  /** Starts (and initializes) the process ahead of the first session. */
  warm(): void {
    this.ensure().catch((error: Error) => this.logger.warn('shared stdio process did not start', { target: this.target, error: error.message }));
  }

  /** A session's view of the process; its `initialized` is the result the session answers `initialize` with. */
  async open(): Promise<SharedChannel> {
    const { result } = await this.ensure();
    clearTimeout(this.idleTimer);
    const channel = new SharedChannel(this, result);
    this.channels.add(channel);
    return channel;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    const process = this.process ?? (await this.starting?.catch(() => undefined))?.process;
    await process?.close();
  }

  private ensure(): Promise<{ process: StdioConnection; result: Json }> {
    if (this.stopped) return Promise.reject(new Error('the gateway is shutting down'));
    if (this.process && this.result) return Promise.resolve({ process: this.process, result: this.result });
    this.starting ??= this.launch().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async launch(): Promise<{ process: StdioConnection; result: Json }> {
    const process = await this.source.spawn(this.target, this.spec);
    // No client's capabilities are announced: server-to-client requests are refused here anyway.
    const params = { protocolVersion: this.protocolVersion, capabilities: {}, clientInfo: this.clientInfo };
    const result = await new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to initialize within ${INITIALIZE_TIMEOUT_MS / 1000} s`)), INITIALIZE_TIMEOUT_MS);
      timer.unref();
      process.onclose = (reason) => {
        clearTimeout(timer);
        reject(reason);
      };
      process.onmessage = (message) => {
        if (message.id !== 0 || message.method !== undefined) return;
        clearTimeout(timer);
        if (message.error) reject(new Error(`initialize refused: ${message.error.message} (code ${message.error.code})`));
        else resolve(message.result ?? {});
      };
      process.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params }).catch(reject);
    }).catch(async (error: Error) => {
      await process.close();
      throw error;
    });
    await process.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    process.onmessage = (message) => this.receive(message);
    process.onclose = (reason) => this.lost(process, reason);
    if (this.stopped) {
      await process.close();
      throw new Error('the gateway is shutting down');
    }
    this.process = process;
    this.result = result;
    this.nextId = 1;
    return { process, result };
  }

  /** From a session: requests renumbered, the rest filtered. */
  send(channel: SharedChannel, message: JsonRpcMessage): Promise<void> {
    const process = this.process;
    if (!process) return Promise.reject(new Error(`stdio target "${this.target}" is not running`));
    const method = message.method;
    const isRequest = method !== undefined && message.id !== undefined && message.id !== null;
    if (isRequest) {
      const refusal = REFUSED_CLIENT_METHODS[method] ?? (method === 'initialize' ? 'the process is initialized once, by the gateway' : undefined);
      if (refusal) {
        this.events.refused?.(method);
        queueMicrotask(() =>
          channel.deliver({
            jsonrpc: '2.0',
            id: message.id,
            error: {
              code: SHARED_REFUSED,
              message: `${method} refused: target "${this.target}" is one process shared by all sessions (stdio.pool.shared), and ${refusal}`,
            },
          }),
        );
        return Promise.resolve();
      }
      const id = this.nextId++;
      this.pending.set(id, { channel, id: message.id! });
      channel.sent.set(message.id!, id);
      const token = message.params?._meta?.progressToken;
      let params = message.params;
      if (typeof token === 'string' || typeof token === 'number') {
        const unique = `${id}`;
        this.progress.set(unique, { channel, token });
        channel.tokens.set(id, unique);
        params = { ...params, _meta: { ...params!._meta, progressToken: unique } };
      }
      return process.send({ ...message, id, params });
    }
    if (method === 'notifications/cancelled') {
      const ours = channel.sent.get(message.params?.requestId as string | number);
      if (ours === undefined) return Promise.resolve();
      return process.send({ ...message, params: { ...message.params, requestId: ours } });
    }
    // `initialized` was sent by the gateway; roots and answers to server requests have no place here.
    return Promise.resolve();
  }

  /** A session ended: its unanswered requests are cancelled upstream; the process stays for the others. */
  close(channel: SharedChannel): void {
    if (!this.channels.delete(channel)) return;
    for (const ours of channel.sent.values()) {
      if (!this.pending.has(ours)) continue;
      this.forget(ours);
      this.process
        ?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: ours, reason: 'session closed' } })
        .catch(() => undefined);
    }
    if (this.channels.size === 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => {
        if (this.channels.size > 0 || !this.process) return;
        this.logger.info('shared stdio process idle: stopped until the next session', { target: this.target, pid: this.process.pid });
        const process = this.process;
        this.process = undefined;
        this.result = undefined;
        void process.close();
      }, this.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  private forget(ours: number): void {
    const entry = this.pending.get(ours);
    this.pending.delete(ours);
    const token = entry?.channel.tokens.get(ours);
    if (token !== undefined) {
      this.progress.delete(token);
      entry!.channel.tokens.delete(ours);
    }
    if (entry) entry.channel.sent.delete(entry.id);
  }

  private receive(message: JsonRpcMessage): void {
    const hasId = message.id !== undefined && message.id !== null;
    if (message.method === undefined) {
      if (typeof message.id !== 'number') return;
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.forget(message.id);
      entry.channel.deliver({ ...message, id: entry.id });
      return;
    }
    if (hasId) {
      if (message.method === 'ping') {
        this.process?.send({ jsonrpc: '2.0', id: message.id, result: {} }).catch(() => undefined);
        return;
      }
      this.events.refused?.(message.method);
      this.logger.warn('server-to-client request refused: the process is shared between sessions', { target: this.target, method: message.method });
      this.process
        ?.send({
          jsonrpc: '2.0',
          id: message.id,
          error: {
            code: SHARED_REFUSED,
            message: `${message.method} refused by mcp-gateway: this process is shared between sessions (stdio.pool.shared), so a `
              + 'server-to-client request cannot be attributed to one caller',
          },
        })
        .catch(() => undefined);
      return;
    }
    if (message.method === 'notifications/progress') {
      const token = message.params?.progressToken;
      const owner = token !== undefined ? this.progress.get(String(token)) : undefined;
      owner?.channel.deliver({ ...message, params: { ...message.params, progressToken: owner.token } });
      return;
    }
    if (message.method.endsWith('/list_changed')) {
      for (const channel of this.channels) channel.deliver(message);
      return;
    }
    this.logger.debug('notification of a shared process dropped: no session to attribute it to', { target: this.target, method: message.method });
  }

  private lost(process: StdioConnection, reason: Error): void {
    if (this.process !== process) return;
    this.process = undefined;
    this.result = undefined;
    this.pending.clear();
    this.progress.clear();
    for (const channel of [...this.channels]) {
      this.channels.delete(channel);
      channel.lost(reason);
    }
  }
}

/** One session's side of a shared process. */
export class SharedChannel implements UpstreamConnection {
  readonly kind = 'stdio' as const;
  readonly sessionId = undefined;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  /** The session's request ids → the process's. */
  readonly sent = new Map<string | number, number>();
  /** The process's request ids → the unique progress token sent with them. */
  readonly tokens = new Map<number, string>();
  private closed = false;

  constructor(
    private readonly owner: SharedProcess,
    readonly initialized: Json,
  ) {}

  get target(): string {
    return this.owner.target;
  }

  send(message: JsonRpcMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`stdio target "${this.target}" connection closed`));
    return this.owner.send(this, message);
  }

  setProtocolVersion(): void {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.owner.close(this);
  }

  deliver(message: JsonRpcMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }

  lost(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(reason);
  }
}
