import { availableParallelism } from 'node:os';
import { PooledConnection, type ProcessReturn } from './pooled-connection.js';
import type { StdioConnection } from './stdio.js';
import { parseDuration } from '../config/duration.js';
import type { StdioTarget } from '../config/types.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { LATEST_SESSION_PROTOCOL } from '../protocol/versions.js';
import type { Logger } from '../telemetry/logger.js';

type Json = Record<string, unknown>;

/** The protocol revision spares are pre-initialized with until a client shows what clients here send. */
export const DEFAULT_POOL_PROTOCOL = LATEST_SESSION_PROTOCOL;
const PREINITIALIZE_TIMEOUT_MS = 120_000;
const PREINITIALIZE_ID = 'mcp-gateway-pool';
/**
 * Spares started at once. Starting 16 servers together makes all 16 ready late (they share the CPUs);
 * a few at a time makes the first ones ready early, which is what the next sessions wait for.
 */
const CONCURRENT_STARTS = Math.max(2, availableParallelism());
/**
 * Replacements for spares that sessions took start once no session took one, and no session of the pool
 * sent anything, for this long. Started at once, they would spawn and load their modules while the
 * sessions that took spares still run their handshakes, on the same few cores: a burst of 16 new sessions
 * waited for 16 replacement start-ups.
 */
export const REFILL_QUIET_MS = 300;
/** A steady stream of sessions never leaves the pool quiet: refilling waits at most this long. */
export const REFILL_MAX_WAIT_MS = 3_000;

/** Runs `run` after `ms`; returns what cancels it. Injected so tests decide when time passes. */
export type Scheduler = (run: () => void, ms: number) => () => void;

const timerScheduler: Scheduler = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface RefillTiming {
  /** Quiet time after the last take before replacements start; 0 refills at once. */
  readonly quietMs: number;
  readonly maxWaitMs: number;
  readonly schedule: Scheduler;
  readonly now: () => number;
}

const DEFAULT_REFILL: RefillTiming = { quietMs: REFILL_QUIET_MS, maxWaitMs: REFILL_MAX_WAIT_MS, schedule: timerScheduler, now: Date.now };

export interface WarmPoolSettings {
  readonly size: number;
  readonly idleTimeoutMs: number;
  readonly maxProcesses: number;
  readonly reuse: boolean;
  readonly shared: boolean;
}

/** A target's `pool` with its defaults; `backendMax` is the backend's `stdio.maxProcesses`. */
export function poolSettingsOf(spec: StdioTarget, backendMax: number): WarmPoolSettings {
  const pool = spec.pool ?? {};
  return {
    size: pool.size ?? 0,
    idleTimeoutMs: parseDuration(pool.idleTimeout ?? '10m') ?? 600_000,
    maxProcesses: Math.min(pool.maxProcesses ?? backendMax, backendMax),
    reuse: pool.reuse ?? false,
    shared: pool.shared ?? false,
  };
}

/**
 * What must be equal for a process initialized with one client's `initialize` to serve another: the
 * protocol revision asked for and the capabilities announced. A server may act on either (answer in
 * another revision, ask for sampling or roots only when announced). `clientInfo` is informational in
 * MCP and is not compared; a pooled server sees the gateway's.
 */
export function handshakeKey(params: Json | undefined): string {
  return JSON.stringify([params?.protocolVersion ?? null, canonical(params?.capabilities ?? {})]);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Json)[key])]),
  );
}

/** What the pool needs from the backend's process accounting (StdioPool): limits, crash guard, metrics. */
export interface ProcessSource {
  /** Starts a process of this target, counted against every limit; throws when a limit is reached. */
  spawn(target: string, spec: StdioTarget): Promise<StdioConnection>;
  /** Processes of this target, running or being started (sessions and spares). */
  countOf(target: string): number;
  /** Room for one more process in the backend (`stdio.maxProcesses`). */
  hasRoom(): boolean;
}

export interface WarmPoolEvents {
  /** A session got a ready process (`hit`, `reused`), waited for none (`miss`), or a process was not taken back. */
  outcome?(event: 'hit' | 'miss' | 'reused' | 'retired'): void;
  /** Ready spares now. */
  spares?(count: number): void;
}

interface Spare {
  /** Undefined until spawned. */
  process: StdioConnection;
  readonly key: string;
  /** Undefined while the pre-initialize runs. */
  handshake?: { readonly params: Json; readonly result: Json };
  /** Resolves true once ready, false when the spare failed or was stopped. */
  readonly ready: Promise<boolean>;
  /** The process already served a session (pool.reuse). */
  readonly served: boolean;
}

/**
 * Spare processes of one stdio target, started and pre-initialized before sessions ask for them. See
 * POOL.md beside this file for what a process may carry from one session to the next.
 */
export class WarmPool {
  private readonly spares: Spare[] = [];
  /** The `initialize` params spares are prepared with: the last real client's, the gateway's `clientInfo`. */
  private params: Json;
  private idleTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Set when a spare failed to start: no refill until a session asks again, so a broken server cannot spin. */
  private refillPaused = false;
  /** Cancels the pending refill; set while sessions are taking spares (see REFILL_QUIET_MS). */
  private cancelRefill?: () => void;
  /** When the pending refill was first put off, so a steady stream of takes cannot put it off for ever. */
  private refillDeferredSince = 0;

  constructor(
    readonly target: string,
    private readonly spec: StdioTarget,
    private settings: WarmPoolSettings,
    private readonly source: ProcessSource,
    private readonly logger: Logger,
    private readonly clientInfo: Json,
    private readonly events: WarmPoolEvents = {},
    private readonly refill: RefillTiming = DEFAULT_REFILL,
  ) {
    this.params = { protocolVersion: DEFAULT_POOL_PROTOCOL, capabilities: {}, clientInfo };
  }

  get readySpares(): number {
    return this.spares.filter((spare) => spare.handshake !== undefined).length;
  }

  get size(): number {
    return this.settings.size;
  }

  /** The pids of the spares, for the admin page. */
  sparePids(): Array<number | undefined> {
    return this.spares.map((spare) => spare.process?.pid);
  }

  update(settings: WarmPoolSettings): void {
    this.settings = settings;
    this.trim();
    this.fill();
  }

  /** Starts the spares (gateway start-up). */
  start(): void {
    this.fill();
    this.armIdleTimer();
  }

  /**
   * A ready (or soon ready) process whose handshake matches `params`, or undefined: the caller starts
   * one itself. A mismatch makes later spares follow these params, on the bet that the next client is
   * like this one.
   */
  async take(params: Json | undefined): Promise<PooledConnection | undefined> {
    if (this.stopped || this.settings.size === 0 || params === undefined) return undefined;
    this.refillPaused = false;
    this.armIdleTimer();
    const key = handshakeKey(params);
    if (key !== handshakeKey(this.params)) {
      this.logger.info('stdio pool follows a new client handshake', { target: this.target, protocolVersion: params.protocolVersion });
      this.params = { protocolVersion: params.protocolVersion, capabilities: params.capabilities ?? {}, clientInfo: this.clientInfo };
      this.trim();
    }
    // Ready ones first; else the one closest to ready (the oldest), which beats starting another.
    const candidates = this.spares
      .filter((spare) => spare.key === key)
      .sort((a, b) => Number(b.handshake !== undefined) - Number(a.handshake !== undefined));
    for (const spare of candidates) {
      this.remove(spare);
      this.refillLater();
      if (!(await spare.ready) || !spare.handshake) continue;
      this.events.outcome?.(spare.served ? 'reused' : 'hit');
      const lease = new PooledConnection(this.target, spare.process, spare.handshake, (returned) => this.giveBack(returned), this.postponeRefill);
      if (spare.served) lease.markInitializedSent();
      return lease;
    }
    this.refillLater();
    this.events.outcome?.('miss');
    return undefined;
  }

  /** Wraps a process a session started itself, so `reuse` can keep it when the session ends. */
  lease(process: StdioConnection): PooledConnection {
    return new PooledConnection(this.target, process, undefined, (returned) => this.giveBack(returned), this.postponeRefill);
  }

  /** SIGTERM or route removed: stop every spare, start none. */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    this.cancelRefill?.();
    this.cancelRefill = undefined;
    // Spares still spawning stop themselves once spawned (`stopped`); wait for that too.
    await Promise.all(this.spares.splice(0).map((spare) => (spare.process ? spare.process.close() : spare.ready.then(() => spare.process?.close()))));
    this.events.spares?.(0);
  }

  private async giveBack({ process, tainted, handshake }: ProcessReturn): Promise<void> {
    const keep =
      this.settings.reuse &&
      !this.stopped &&
      tainted === undefined &&
      handshake !== undefined &&
      handshakeKey(handshake.params) === handshakeKey(this.params);
    if (keep && this.spares.length >= this.settings.size) {
      // A process given back is as good as a spare and already paid for: it replaces the newest fresh one.
      const fresh = [...this.spares].reverse().find((spare) => !spare.served);
      if (fresh) {
        this.remove(fresh);
        void fresh.ready.then(() => fresh.process?.close());
      }
    }
    if (!keep || this.spares.length >= this.settings.size) {
      if (this.settings.reuse) {
        this.events.outcome?.('retired');
        this.logger.info('stdio process not reused', { target: this.target, pid: process.pid, reason: tainted ?? 'pool full or handshake changed' });
      }
      this.refillLater();
      await process.close();
      return;
    }
    const spare: Spare = { process, key: handshakeKey(handshake.params), handshake, ready: Promise.resolve(true), served: true };
    this.watchExit(spare);
    this.spares.push(spare);
    this.events.spares?.(this.readySpares);
  }

  /**
   * A session of the pool sent something: while a refill is pending, the sessions that took spares are
   * still in their handshakes (or busy), so it waits for them too (within `maxWaitMs`).
   */
  private readonly postponeRefill = (): void => {
    if (this.cancelRefill) this.refillLater();
  };

  /**
   * Refills once sessions stop taking spares: every take puts the refill off by `quietMs`, up to
   * `maxWaitMs` after the first one. Meanwhile nothing starts, not even the next of a chain of spares.
   */
  private refillLater(): void {
    if (this.refill.quietMs <= 0) {
      this.fill();
      return;
    }
    const now = this.refill.now();
    if (!this.cancelRefill) this.refillDeferredSince = now;
    this.cancelRefill?.();
    const wait = Math.max(0, Math.min(this.refill.quietMs, this.refillDeferredSince + this.refill.maxWaitMs - now));
    this.cancelRefill = this.refill.schedule(() => {
      this.cancelRefill = undefined;
      this.fill();
    }, wait);
  }

  /** Starts spares up to `size`, within this target's and the backend's process limits. */
  private fill(): void {
    if (this.stopped || this.refillPaused || this.cancelRefill) return;
    while (
      this.spares.length < this.settings.size &&
      this.spares.filter((spare) => spare.handshake === undefined).length < CONCURRENT_STARTS &&
      this.source.countOf(this.target) < this.settings.maxProcesses &&
      this.source.hasRoom()
    ) {
      this.startSpare();
    }
  }

  private startSpare(): void {
    const params = this.params;
    const key = handshakeKey(params);
    let resolveReady!: (ready: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));
    const placeholder: Spare = { process: undefined as unknown as StdioConnection, key, ready, served: false };
    this.spares.push(placeholder);
    this.source.spawn(this.target, this.spec).then(
      (process) => {
        placeholder.process = process;
        if (this.stopped || !this.spares.includes(placeholder)) {
          void process.close();
          resolveReady(false);
          return;
        }
        this.watchExit(placeholder);
        preinitialize(process, params).then(
          (result) => {
            placeholder.handshake = { params, result };
            resolveReady(true);
            this.events.spares?.(this.readySpares);
            this.fill();
          },
          (error: Error) => {
            if (!this.stopped) {
              this.logger.warn('stdio spare failed to initialize; the pool waits for the next session before trying again', {
                target: this.target,
                error: error.message,
              });
            }
            this.refillPaused = true;
            this.remove(placeholder);
            void process.close();
            resolveReady(false);
          },
        );
      },
      (error: Error) => {
        this.logger.debug('stdio spare not started', { target: this.target, error: error.message });
        this.refillPaused = true;
        this.remove(placeholder);
        resolveReady(false);
      },
    );
  }

  /** A spare that dies while waiting leaves the pool; the next session refills it. */
  private watchExit(spare: Spare): void {
    void spare.process.exit.then(() => {
      if (this.spares.includes(spare)) {
        this.remove(spare);
        this.events.spares?.(this.readySpares);
      }
    });
  }

  /** Spares beyond `size` or prepared for another handshake are stopped. */
  private trim(): void {
    const key = handshakeKey(this.params);
    for (const spare of [...this.spares]) {
      const excess = this.spares.length > this.settings.size;
      if (spare.key === key && !excess) continue;
      this.remove(spare);
      void spare.ready.then(() => spare.process?.close());
    }
  }

  private remove(spare: Spare): void {
    const at = this.spares.indexOf(spare);
    if (at >= 0) this.spares.splice(at, 1);
    this.events.spares?.(this.readySpares);
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.settings.size === 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.spares.length === 0) return;
      this.logger.info('stdio pool idle: spares stopped until the next session', { target: this.target, spares: this.spares.length });
      this.refillPaused = true;
      for (const spare of this.spares.splice(0)) void spare.ready.then(() => spare.process?.close());
      this.events.spares?.(0);
    }, this.settings.idleTimeoutMs);
    this.idleTimer.unref();
  }
}

/**
 * Sends `initialize` and waits for the result; `notifications/initialized` is left to the real client,
 * whose own one reaches the process through the session. Anything else the process says meanwhile
 * (log lines, list changes) has no session to go to and is dropped.
 */
function preinitialize(process: StdioConnection, params: Json): Promise<Json> {
  return new Promise<Json>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer to initialize within ${PREINITIALIZE_TIMEOUT_MS / 1000} s`)),
      PREINITIALIZE_TIMEOUT_MS,
    );
    timer.unref();
    process.onclose = (reason) => {
      clearTimeout(timer);
      reject(reason);
    };
    process.onmessage = (message: JsonRpcMessage) => {
      if (message.id !== PREINITIALIZE_ID || message.method !== undefined) return;
      clearTimeout(timer);
      process.onmessage = undefined;
      process.onclose = undefined;
      if (message.error) reject(new Error(`initialize refused: ${message.error.message} (code ${message.error.code})`));
      else resolve(message.result ?? {});
    };
    process.send({ jsonrpc: '2.0', id: PREINITIALIZE_ID, method: 'initialize', params }).catch(reject);
  });
}
