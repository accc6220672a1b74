import type { PooledConnection } from './pooled-connection.js';
import { SharedProcess, type SharedChannel } from './shared-process.js';
import { StdioConnection } from './stdio.js';
import { DEFAULT_POOL_PROTOCOL, poolSettingsOf, WarmPool, type ProcessSource } from './warm-pool.js';
import type { ResolvedStdioPool } from '../config/model.js';
import type { StdioTarget } from '../config/types.js';
import { McpError } from '../protocol/errors.js';
import { isSupportedVersion, LATEST_SESSION_PROTOCOL, MODERN_PROTOCOL } from '../protocol/versions.js';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';

const MINUTE_MS = 60_000;

/**
 * Bounds the stdio processes of one backend and refuses to restart a target that keeps crashing,
 * so one broken server cannot eat the pod.
 */
export interface StdioProcessInfo {
  readonly target: string;
  readonly pid?: number;
  readonly startedAt: string;
  /** `session` (one session's), `spare` (ready in the warm pool) or `shared` (serves every session). */
  readonly role: 'session' | 'spare' | 'shared';
}

/** Warm pool and shared processes of one target, for the admin page. */
export interface StdioPoolInfo {
  readonly target: string;
  readonly size: number;
  readonly readySpares: number;
  readonly shared: boolean;
  readonly sharedSessions: number;
}

type Json = Record<string, unknown>;

/**
 * The stdio processes one new session of these targets holds, for the per-subject process limit: one per
 * stdio target, none for a shared one (`pool.shared`: its sessions are channels of one process).
 */
export function processesPerSession(targets: ReadonlyArray<{ readonly stdio?: StdioTarget }>): number {
  return targets.filter((target) => target.stdio !== undefined && target.stdio.pool?.shared !== true).length;
}

export class StdioPool implements ProcessSource {
  private live = 0;
  /** Processes per target, counted from the moment they are asked for (so concurrent starts see each other). */
  private readonly perTarget = new Map<string, number>();
  private readonly warm = new Map<string, WarmPool>();
  /** Shared processes by target, then by the protocol revision they were initialized with. */
  private readonly shared = new Map<string, Map<string, SharedProcess>>();
  private draining = false;
  private readonly crashes = new Map<string, number[]>();
  /** Targets whose last process crashed: their next start is a restart. */
  private readonly crashedSinceStart = new Set<string>();
  private readonly running = new Set<{ target: string; connection: StdioConnection; startedAt: number }>();

  constructor(
    private settings: ResolvedStdioPool,
    private readonly backendName: string,
    private readonly logger: Logger,
    private readonly telemetry: Telemetry,
    /** Route name, the metrics label. */
    private readonly routeName: string = backendName,
    /** `clientInfo` of the gateway's own `initialize` (pre-initialized and shared processes). */
    private readonly clientInfo: Json = { name: 'mcp-gateway', version: '0.0.0' },
  ) {}

  /** The processes running now, for the admin page. */
  processes(): StdioProcessInfo[] {
    const spares = new Set<number | undefined>();
    for (const pool of this.warm.values()) for (const pid of pool.sparePids()) spares.add(pid);
    const shared = new Set<number | undefined>();
    for (const byVersion of this.shared.values()) for (const process of byVersion.values()) shared.add(process.pid);
    return [...this.running].map(({ target, connection, startedAt }) => ({
      target,
      pid: connection.pid,
      startedAt: new Date(startedAt).toISOString(),
      role: shared.has(connection.pid) ? 'shared' : spares.has(connection.pid) ? 'spare' : 'session',
    }));
  }

  /** Warm pools and shared processes, for the admin page. */
  poolInfo(): StdioPoolInfo[] {
    const targets = new Set([...this.warm.keys(), ...this.shared.keys()]);
    return [...targets].map((target) => ({
      target,
      size: this.warm.get(target)?.size ?? 0,
      readySpares: this.warm.get(target)?.readySpares ?? 0,
      shared: this.shared.has(target),
      sharedSessions: [...(this.shared.get(target)?.values() ?? [])].reduce((sum, process) => sum + process.sessions, 0),
    }));
  }

  /** A reload may change the limits; running processes are not touched. */
  update(settings: ResolvedStdioPool): void {
    this.settings = settings;
  }

  /**
   * Starts the warm pools (and shared processes) of these targets: called at gateway start and after a
   * reload. A pool whose target is no longer configured keeps serving the sessions it has; its spares stop.
   */
  prepare(targets: ReadonlyArray<{ readonly name: string; readonly stdio?: StdioTarget }>): void {
    if (this.draining) return;
    const wanted = new Set<string>();
    for (const { name, stdio } of targets) {
      if (!stdio) continue;
      const settings = poolSettingsOf(stdio, this.settings.maxProcesses);
      if (settings.shared) {
        wanted.add(name);
        if (!this.shared.has(name)) {
          const byVersion = new Map<string, SharedProcess>();
          this.shared.set(name, byVersion);
          const process = this.sharedProcess(name, stdio, DEFAULT_POOL_PROTOCOL);
          process.warm();
        }
        continue;
      }
      if (settings.size === 0) continue;
      wanted.add(name);
      const existing = this.warm.get(name);
      if (existing) {
        existing.update(settings);
        continue;
      }
      const pool = new WarmPool(name, stdio, settings, this, this.logger, this.clientInfo, {
        outcome: (event) => this.telemetry.stdioPoolEvent?.(this.routeName, name, event),
        spares: (count) => this.telemetry.stdioPoolSpares?.(this.routeName, name, count),
      });
      this.warm.set(name, pool);
      pool.start();
    }
    for (const [name, pool] of this.warm) {
      if (wanted.has(name)) continue;
      this.warm.delete(name);
      void pool.drain();
    }
  }

  /** SIGTERM: no process starts any more (spares, replacements, new sessions). */
  stopStarting(): void {
    this.draining = true;
  }

  /** SIGTERM, after the sessions closed: spares and shared processes stop. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([
      ...[...this.warm.values()].map((pool) => pool.drain()),
      ...[...this.shared.values()].flatMap((byVersion) => [...byVersion.values()].map((process) => process.stop())),
    ]);
  }

  countOf(target: string): number {
    return this.perTarget.get(target) ?? 0;
  }

  hasRoom(): boolean {
    return !this.draining && this.live < this.settings.maxProcesses;
  }

  /**
   * A connection for a new session: a warm spare whose handshake matches `initialize` (the client's
   * `initialize` params; the connection's `initialized` then holds the result), a channel of the shared
   * process, or a process started now. Per-subject limits are decided before this, where the session is
   * created: a process is taken from the pool only for a session that was admitted.
   */
  async start(target: string, spec: StdioTarget, initialize?: Json): Promise<StdioConnection | PooledConnection | SharedChannel> {
    const settings = poolSettingsOf(spec, this.settings.maxProcesses);
    if (settings.shared && initialize !== undefined && typeof initialize.protocolVersion === 'string' && !this.draining) {
      if (!this.shared.has(target)) this.shared.set(target, new Map());
      const process = this.sharedProcessFor(target, spec, initialize.protocolVersion);
      this.telemetry.stdioPoolEvent?.(this.routeName, target, 'shared');
      try {
        return await process.open();
      } catch (error) {
        throw error instanceof McpError ? error : new McpError('unavailable', (error as Error).message, { reason: 'connect_failed' });
      }
    }
    const pool = this.warm.get(target);
    const spare = await pool?.take(initialize);
    if (spare) return spare;
    if (settings.maxProcesses < this.settings.maxProcesses && this.countOf(target) >= settings.maxProcesses) {
      throw new McpError(
        'unavailable',
        `stdio process limit reached: target "${target}" already runs ${this.countOf(target)} processes (pool.maxProcesses = `
          + `${settings.maxProcesses}); retry later`,
        { reason: 'process_limit' },
      );
    }
    const process = await this.spawn(target, spec);
    return pool && settings.reuse ? pool.lease(process) : process;
  }

  /**
   * The shared process whose cached `initialize` result is this client's answer. A process answers only
   * clients asking for the revision it was initialized with, or for the revision it negotiated (the server
   * would answer that request the same way); any other revision gets a process initialized with it. A
   * revision the gateway does not serve is asked as the latest session revision, as a server answers an
   * unknown revision with its newest one: so the made-up revisions of one client cannot start a process each.
   */
  private sharedProcessFor(target: string, spec: StdioTarget, requested: string): SharedProcess {
    const byVersion = this.shared.get(target)!;
    const version = isSupportedVersion(requested) && requested !== MODERN_PROTOCOL ? requested : LATEST_SESSION_PROTOCOL;
    const exact = byVersion.get(version);
    if (exact) return exact;
    for (const process of byVersion.values()) if (process.negotiatedVersion === version) return process;
    return this.sharedProcess(target, spec, version);
  }

  private sharedProcess(target: string, spec: StdioTarget, protocolVersion: string): SharedProcess {
    const byVersion = this.shared.get(target)!;
    let process = byVersion.get(protocolVersion);
    if (!process) {
      const settings = poolSettingsOf(spec, this.settings.maxProcesses);
      process = new SharedProcess(target, spec, protocolVersion, this, this.logger, this.clientInfo, settings.idleTimeoutMs, {
        refused: () => this.telemetry.stdioPoolEvent?.(this.routeName, target, 'refused'),
      });
      byVersion.set(protocolVersion, process);
    }
    return process;
  }

  get liveProcesses(): number {
    return this.live;
  }

  /** Starts one process, counted against the limits and the crash-loop guard. */
  async spawn(target: string, spec: StdioTarget): Promise<StdioConnection> {
    if (this.draining) throw new McpError('unavailable', 'the gateway is shutting down', { reason: 'connect_failed' });
    if (this.live >= this.settings.maxProcesses) {
      throw new McpError(
        'unavailable',
        `stdio process limit reached: backend "${this.backendName}" already runs ${this.live} processes (stdio.maxProcesses = `
          + `${this.settings.maxProcesses}); retry later`,
        { reason: 'process_limit' },
      );
    }
    const recent = this.recentCrashes(target);
    if (recent.length > this.settings.maxRestartsPerMinute) {
      const retryInS = Math.ceil((recent[0] + MINUTE_MS - Date.now()) / 1000);
      throw new McpError(
        'unavailable',
        `stdio target "${target}" crashed ${recent.length} times in the last minute; not restarting it for ${retryInS}s`,
        { reason: 'crash_loop' },
      );
    }
    this.live++;
    this.perTarget.set(target, this.countOf(target) + 1);
    let connection: StdioConnection;
    try {
      connection = await StdioConnection.start(target, spec, this.logger, { maxMessageBytes: this.settings.maxMessageBytes });
    } catch (error) {
      this.live--;
      this.perTarget.set(target, this.countOf(target) - 1);
      this.recordCrash(target);
      throw new McpError('unavailable', (error as Error).message, { reason: 'connect_failed' });
    }
    const entry = { target, connection, startedAt: Date.now() };
    this.running.add(entry);
    this.telemetry.stdioProcessEvent?.(this.routeName, target, 'started');
    if (this.crashedSinceStart.delete(target)) this.telemetry.stdioProcessEvent?.(this.routeName, target, 'restarted');
    void connection.exit.then(({ code, signal, expected }) => {
      this.live--;
      this.perTarget.set(target, this.countOf(target) - 1);
      this.running.delete(entry);
      this.telemetry.upstreamProcessExited(target, code, signal);
      this.telemetry.stdioProcessEvent?.(this.routeName, target, 'exited');
      if (!expected) {
        this.recordCrash(target);
        this.crashedSinceStart.add(target);
      }
    });
    return connection;
  }

  private recentCrashes(target: string): number[] {
    const since = Date.now() - MINUTE_MS;
    const recent = (this.crashes.get(target) ?? []).filter((at) => at > since);
    this.crashes.set(target, recent);
    return recent;
  }

  private recordCrash(target: string): void {
    this.recentCrashes(target).push(Date.now());
  }
}
