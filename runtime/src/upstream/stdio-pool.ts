import type { ResolvedStdioPool } from '../config/model.js';
import type { StdioTarget } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { StdioConnection } from './stdio.js';
import { UpstreamError } from './types.js';

const MINUTE_MS = 60_000;
/** JSON-RPC code for "the gateway cannot serve this right now" (implementation-defined server error range). */
export const UNAVAILABLE = -32002;

/**
 * Bounds the stdio processes of one backend and refuses to restart a target that keeps crashing,
 * so one broken server cannot eat the pod.
 */
export interface StdioProcessInfo {
  readonly target: string;
  readonly pid?: number;
  readonly startedAt: string;
}

export class StdioPool {
  private live = 0;
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
  ) {}

  /** The processes running now, for the admin page. */
  processes(): StdioProcessInfo[] {
    return [...this.running].map(({ target, connection, startedAt }) => ({ target, pid: connection.pid, startedAt: new Date(startedAt).toISOString() }));
  }

  /** A reload may change the limits; running processes are not touched. */
  update(settings: ResolvedStdioPool): void {
    this.settings = settings;
  }

  get liveProcesses(): number {
    return this.live;
  }

  async start(target: string, spec: StdioTarget): Promise<StdioConnection> {
    if (this.live >= this.settings.maxProcesses) {
      throw new UpstreamError(
        `stdio process limit reached: backend "${this.backendName}" already runs ${this.live} processes (stdio.maxProcesses = ${this.settings.maxProcesses}); retry later`,
        UNAVAILABLE,
        undefined,
        undefined,
        'process_limit',
      );
    }
    const recent = this.recentCrashes(target);
    if (recent.length > this.settings.maxRestartsPerMinute) {
      const retryInS = Math.ceil((recent[0] + MINUTE_MS - Date.now()) / 1000);
      throw new UpstreamError(
        `stdio target "${target}" crashed ${recent.length} times in the last minute; not restarting it for ${retryInS}s`,
        UNAVAILABLE,
        undefined,
        undefined,
        'crash_loop',
      );
    }
    this.live++;
    let connection: StdioConnection;
    try {
      connection = await StdioConnection.start(target, spec, this.logger, { maxMessageBytes: this.settings.maxMessageBytes });
    } catch (error) {
      this.live--;
      this.recordCrash(target);
      throw new UpstreamError((error as Error).message, UNAVAILABLE, undefined, undefined, 'connect_failed');
    }
    const entry = { target, connection, startedAt: Date.now() };
    this.running.add(entry);
    this.telemetry.stdioProcessEvent?.(this.routeName, target, 'started');
    if (this.crashedSinceStart.delete(target)) this.telemetry.stdioProcessEvent?.(this.routeName, target, 'restarted');
    void connection.exit.then(({ code, signal, expected }) => {
      this.live--;
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
