import type { ResolvedRateLimit } from '../config/model.js';
import { McpError } from '../protocol/errors.js';
import type { LimitKind } from '../telemetry/telemetry.js';

/** Buckets remembered per route before full (idle) ones are forgotten; a full bucket is the default state. */
const MAX_BUCKETS = 10_000;

/**
 * Who a limit counts against: the token's issuer and subject, or, on routes without authentication, the
 * client's address (behind a proxy that is the proxy: anonymous clients then share one allowance).
 */
export function subjectKey(claims: Record<string, unknown> | undefined, remoteAddress: string | undefined): string {
  if (claims && typeof claims.sub === 'string') return `sub:${String(claims.iss ?? '')}\u0000${claims.sub}`;
  return `addr:${remoteAddress ?? 'unknown'}`;
}

/** A refusal: HTTP 429 with a JSON-RPC error naming the limit and the setting that sets it. */
export function limitError(kind: LimitKind, message: string, retryAfterS?: number): McpError {
  return new McpError('limited', message, { data: { limit: kind, ...(retryAfterS !== undefined ? { retryAfterSeconds: retryAfterS } : {}) } });
}

export interface AdmissionSettings {
  readonly maxSessions: number;
  readonly maxSessionsPerSubject: number;
}

/** What one admitted session holds; `release` gives it back (once, whatever calls it). */
export interface AdmissionTicket {
  release(): void;
}

/**
 * Counts sessions (global and per subject) and stdio processes per subject and backend, from the moment
 * an `initialize` starts: concurrent initializes cannot all slip through before any finished. The stdio
 * pool keeps its own global cap (`stdio.maxProcesses`); this is the per-subject share of it, kept here so
 * the pool need not know about subjects.
 */
export class Admission {
  private sessions = 0;
  private readonly perSubject = new Map<string, number>();
  /** `${backend}\0${subject}` → processes. */
  private readonly processes = new Map<string, number>();

  constructor(private settings: AdmissionSettings) {}

  update(settings: AdmissionSettings): void {
    this.settings = settings;
  }

  get activeSessions(): number {
    return this.sessions;
  }

  /**
   * Admits a session of `subject` that will run `processes` stdio processes on `backend`, or throws the
   * refusal. `poolHasRoom`: the per-subject share only applies while the pool has room; a full pool
   * refuses with its own error.
   */
  admit(
    subject: string,
    stdio: {
      readonly backend: string;
      readonly name: string;
      readonly processes: number;
      readonly maxPerSubject: number;
      readonly poolHasRoom: boolean;
    },
    counts: { readonly session: boolean } = { session: true },
  ): AdmissionTicket {
    if (counts.session) {
      if (this.sessions >= this.settings.maxSessions) {
        throw limitError(
          'sessions',
          `Too many sessions: this gateway holds ${this.sessions} (config.limits.maxSessions = ${this.settings.maxSessions}); retry later`,
        );
      }
      const held = this.perSubject.get(subject) ?? 0;
      if (held >= this.settings.maxSessionsPerSubject) {
        throw limitError(
          'subject_sessions',
          `Too many sessions for this client: it holds ${held} (config.limits.maxSessionsPerSubject = ${this.settings.maxSessionsPerSubject}); `
            + 'end some with DELETE or retry later',
        );
      }
    }
    const processKey = `${stdio.backend}\u0000${subject}`;
    const running = this.processes.get(processKey) ?? 0;
    if (stdio.processes > 0 && stdio.poolHasRoom && running + stdio.processes > stdio.maxPerSubject) {
      throw limitError(
        'subject_processes',
        `Too many stdio processes for this client on backend "${stdio.name}": it holds ${running} (stdio.maxProcessesPerSubject = `
          + `${stdio.maxPerSubject}); end a session or retry later`,
      );
    }
    if (counts.session) {
      this.sessions++;
      this.perSubject.set(subject, (this.perSubject.get(subject) ?? 0) + 1);
    }
    if (stdio.processes > 0) this.processes.set(processKey, running + stdio.processes);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (counts.session) {
          this.sessions--;
          decrement(this.perSubject, subject, 1);
        }
        if (stdio.processes > 0) decrement(this.processes, processKey, stdio.processes);
      },
    };
  }
}

function decrement(map: Map<string, number>, key: string, by: number): void {
  const left = (map.get(key) ?? 0) - by;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}

interface Bucket {
  tokens: number;
  /** Time of the last fill that counted. */
  filledAt: number;
}

/**
 * agentgateway's `localRateLimit` token buckets, one set per route: per route, per subject, or per subject
 * and tool. Tokens come back in whole fills, computed when a request arrives (no timers).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limits: readonly ResolvedRateLimit[],
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes one token from every bucket this request draws on, or none and throws the refusal when one is
   * empty. `tool` is set for `tools/call` (the name the client sent).
   */
  take(subject: string, tool?: string): void {
    const now = this.now();
    const drawn: Bucket[] = [];
    for (const [index, limit] of this.limits.entries()) {
      if (limit.per === 'tool' && tool === undefined) continue;
      const key = limit.per === 'route' ? `${index}` : limit.per === 'subject' ? `${index}\u0000${subject}` : `${index}\u0000${subject}\u0000${tool}`;
      const bucket = this.bucket(key, limit, now);
      if (bucket.tokens < 1) {
        const retryAfterS = Math.max(1, Math.ceil((bucket.filledAt + limit.fillIntervalMs - now) / 1000));
        const whose = limit.per === 'route' ? 'this route' : limit.per === 'subject' ? 'this client' : `tool "${tool}" for this client`;
        throw limitError(
          limit.per === 'route' ? 'rate_route' : limit.per === 'subject' ? 'rate_subject' : 'rate_tool',
          `Rate limit exceeded for ${whose}: ${limit.maxTokens} requests, ${limit.tokensPerFill} more every ${limit.fillIntervalMs} ms `
            + `(localRateLimit[${index}]); retry in ${retryAfterS}s`,
          retryAfterS,
        );
      }
      drawn.push(bucket);
    }
    for (const bucket of drawn) bucket.tokens--;
  }

  private bucket(key: string, limit: ResolvedRateLimit, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      // Still full: the oldest goes (its owner starts over with a full bucket, the map stays bounded).
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = { tokens: limit.maxTokens, filledAt: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const fills = Math.floor((now - bucket.filledAt) / limit.fillIntervalMs);
    if (fills > 0) {
      bucket.tokens = Math.min(limit.maxTokens, bucket.tokens + fills * limit.tokensPerFill);
      bucket.filledAt += fills * limit.fillIntervalMs;
    }
    return bucket;
  }

  /** A bucket that has refilled completely is the same as a new one: forgetting it changes nothing. */
  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      const index = Number(key.split('\u0000')[0]);
      const limit = this.limits[index];
      if (bucket.tokens + Math.floor((now - bucket.filledAt) / limit.fillIntervalMs) * limit.tokensPerFill >= limit.maxTokens) {
        this.buckets.delete(key);
      }
    }
  }
}
