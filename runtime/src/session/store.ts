import { createHash } from 'node:crypto';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';

const REAP_INTERVAL_MS = 15_000;
/** Ended ids remembered at most; each costs a short digest and a number. */
const MAX_TERMINATED = 100_000;

/** What the store needs of a session; federation's McpSession is one (the store sits below federation). */
export interface StoredSession {
  id: string;
  readonly context: { readonly routeName: string; readonly backend: { readonly stdio: { readonly idleTimeoutMs: number } } };
  readonly lastActivity: number;
  readonly hasStdioTargets: boolean;
  /** The session's place under the session limits; given back when it closes. */
  readonly admission?: { release(): void };
  /** Set by the store: the session calls it once when it closes. A method, so a session may name its own type. */
  onClosed?(session: StoredSession): void;
  close(reason: string): Promise<void>;
}

/** Live sessions of this process, evicted after their idle time. */
export class SessionStore<Session extends StoredSession = StoredSession> {
  private readonly sessions = new Map<string, Session>();
  /** Resumptions in progress, so concurrent requests for one unknown id rebuild it once. */
  private readonly resuming = new Map<string, Promise<Session>>();
  private readonly reaper: NodeJS.Timeout;
  /**
   * Ids the client ended with DELETE (digest → expiry). Their sealed state would let any request rebuild
   * them; MCP wants 404. Kept until the id would have expired anyway.
   */
  private readonly terminated = new Map<string, number>();

  constructor(
    private ttlMs: number,
    private readonly logger: Logger,
    private readonly telemetry: Telemetry,
  ) {
    this.reaper = setInterval(() => this.reap(), Math.min(REAP_INTERVAL_MS, ttlMs)).unref();
  }

  setTtl(ttlMs: number): void {
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Every live session, for the admin page. */
  list(): Session[] {
    return [...this.sessions.values()];
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** The session with `id`, rebuilding it with `resume` (once, however many requests ask) when this process lacks it. */
  async getOrResume(id: string, resume: () => Promise<Session>): Promise<Session> {
    const local = this.sessions.get(id);
    if (local) return local;
    let pending = this.resuming.get(id);
    if (!pending) {
      pending = resume().then((session) => {
        session.id = id;
        this.add(session);
        return session;
      });
      this.resuming.set(id, pending);
      const forget = (): void => void this.resuming.delete(id);
      pending.then(forget, forget);
    }
    return pending;
  }

  /** The client ended this session: its id gets 404 from now on, on this replica. */
  markTerminated(id: string, expiresAt: number): void {
    if (this.terminated.size >= MAX_TERMINATED) this.pruneTerminated();
    // Still full of live entries: the oldest goes (that id would be rebuilt here until it expires).
    if (this.terminated.size >= MAX_TERMINATED) this.terminated.delete(this.terminated.keys().next().value as string);
    this.terminated.set(digest(id), expiresAt);
  }

  isTerminated(id: string): boolean {
    // A session live here was not ended here (ending closes it): no digest of its id on every request.
    if (this.terminated.size === 0 || this.sessions.has(id)) return false;
    const expiresAt = this.terminated.get(digest(id));
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  private pruneTerminated(): void {
    const now = Date.now();
    for (const [key, expiresAt] of this.terminated) if (expiresAt <= now) this.terminated.delete(key);
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.telemetry.sessionOpened(session.context.routeName);
    session.onClosed = (closed) => {
      closed.admission?.release();
      if (this.sessions.get(closed.id) === closed) this.sessions.delete(closed.id);
      this.telemetry.sessionClosed(closed.context.routeName);
    };
  }

  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => session.close(reason)));
    clearInterval(this.reaper);
  }

  private reap(): void {
    const now = Date.now();
    this.pruneTerminated();
    for (const session of this.sessions.values()) {
      // A per-session stdio process also obeys the backend's idle timeout: an idle process is not kept for the full TTL.
      const limit = session.hasStdioTargets ? Math.min(this.ttlMs, session.context.backend.stdio.idleTimeoutMs) : this.ttlMs;
      if (now - session.lastActivity > limit) {
        this.logger.info('session evicted after idle time', {
          route: session.context.routeName,
          session: session.id,
          idleMs: now - session.lastActivity,
        });
        void session.close('idle timeout');
      }
    }
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
}
