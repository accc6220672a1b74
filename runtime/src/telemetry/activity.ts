import { shortId } from './redact.js';
import type { McpCallRecord, McpRequestRecord, Telemetry, UpstreamErrorReason } from './telemetry.js';

const RECENT_CALLS = 100;
/** Longest name, method or target kept per call: they come from clients, and the page holds a hundred calls. */
const MAX_FIELD_CHARS = 200;
/** Longest error text kept. */
const MAX_ERROR_CHARS = 300;

export interface RecentCall {
  readonly at: string;
  readonly route: string;
  readonly target: string;
  readonly method: string;
  readonly name: string;
  readonly outcome: McpCallRecord['outcome'];
  readonly durationMs: number;
  /** First characters only: a session id is a credential for its session. */
  readonly session?: string;
  readonly errorCode?: number;
  readonly error?: string;
}

export interface TargetHealth {
  /** `connected` after the last exchange succeeded, `failed` after the last one failed, `unknown` before any. */
  readonly state: 'connected' | 'failed' | 'unknown';
  readonly lastOkAt?: string;
  readonly lastErrorAt?: string;
  readonly lastError?: string;
  readonly lastErrorReason?: UpstreamErrorReason;
}

/** What the admin page shows about recent traffic: the last calls, and each target's last success or failure. */
export class ActivityRecorder implements Telemetry {
  /**
   * The last RECENT_CALLS calls, a ring written at `next` (shifting a full array moved every entry on each
   * call). `at` is kept as a number and formatted when the admin page asks: no Date per call.
   */
  private readonly calls: Array<Omit<RecentCall, 'at'> & { at: number }> = [];
  private next = 0;
  /** Characters cut from a call's fields, for the `mcp_gateway_dropped_bytes_total` metric. */
  onTruncated?: (route: string, bytes: number) => void;
  private readonly health = new Map<string, { lastOk?: number; lastError?: number; error?: string; reason?: UpstreamErrorReason }>();

  recentCalls(): readonly RecentCall[] {
    const oldestFirst = [...this.calls.slice(this.next), ...this.calls.slice(0, this.next)];
    return oldestFirst.map((call) => ({ ...call, at: new Date(call.at).toISOString() })).reverse();
  }

  targetHealth(route: string, target: string): TargetHealth {
    const entry = this.health.get(key(route, target));
    if (!entry) return { state: 'unknown' };
    const failed = entry.lastError !== undefined && (entry.lastOk === undefined || entry.lastError >= entry.lastOk);
    return {
      state: failed ? 'failed' : 'connected',
      lastOkAt: iso(entry.lastOk),
      lastErrorAt: iso(entry.lastError),
      lastError: entry.error,
      lastErrorReason: entry.reason,
    };
  }

  requestFinished(_record: McpRequestRecord): void {}
  sessionOpened(): void {}
  sessionClosed(): void {}
  upstreamProcessExited(): void {}

  callFinished(record: McpCallRecord): void {
    let cut = 0;
    const bounded = (text: string, limit = MAX_FIELD_CHARS): string => {
      if (text.length <= limit) return text;
      cut += text.length - limit;
      return `${text.slice(0, limit)}…`;
    };
    const call = {
      at: Date.now(),
      route: record.route,
      target: bounded(record.target),
      method: bounded(record.method),
      name: bounded(record.name),
      outcome: record.outcome,
      durationMs: record.durationMs,
      session: record.sessionId ? shortId(record.sessionId) : undefined,
      errorCode: record.errorCode,
      error: record.errorMessage === undefined ? undefined : bounded(record.errorMessage, MAX_ERROR_CHARS),
    };
    if (this.calls.length < RECENT_CALLS) this.calls.push(call);
    else this.calls[this.next] = call;
    this.next = (this.next + 1) % RECENT_CALLS;
    if (cut > 0) this.onTruncated?.(record.route, cut);
  }

  upstreamOk(route: string, target: string): void {
    this.entry(route, target).lastOk = Date.now();
  }

  upstreamError(route: string, target: string, reason: UpstreamErrorReason, message: string): void {
    const entry = this.entry(route, target);
    entry.lastError = Date.now();
    entry.error = message.slice(0, MAX_ERROR_CHARS);
    entry.reason = reason;
  }

  private entry(route: string, target: string): { lastOk?: number; lastError?: number; error?: string; reason?: UpstreamErrorReason } {
    let entry = this.health.get(key(route, target));
    if (!entry) {
      entry = {};
      this.health.set(key(route, target), entry);
    }
    return entry;
  }
}

function key(route: string, target: string): string {
  return `${route}\u0000${target}`;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
