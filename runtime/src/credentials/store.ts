/** Whose credential: the sign-in token's issuer and subject. */
export interface UserRef {
  readonly issuer: string;
  readonly subject: string;
}

/** A stored credential row; `sealed` is opaque here (see sealing.ts). */
export interface CredentialRow {
  readonly sealed: Buffer;
  /** When the access token expires (ms since epoch); undefined when the provider did not say. */
  readonly expiresAt?: number;
  readonly updatedAt: number;
}

/** What the admin page may show of a row: who, which provider, when. Never the token. */
export interface ConnectionSummary {
  readonly issuer: string;
  readonly subject: string;
  readonly provider: string;
  readonly updatedAt: string;
  readonly expiresAt?: string;
}

/** A pending connect step (a link not yet opened, or an OAuth `state` not yet returned); single use. */
export type PendingOutcome =
  | { readonly status: 'ok'; readonly sealed: Buffer; readonly expiresAt: number }
  | { readonly status: 'used' }
  | { readonly status: 'unknown' };

/**
 * Where credentials and pending connect steps live. Every replica of a gateway uses the same store, so a
 * link made by one can be finished at another, and a connection made at one is seen by all.
 */
export interface CredentialStore {
  readonly kind: 'postgres' | 'memory';
  /** Creates the tables when missing. */
  init(): Promise<void>;
  get(user: UserRef, provider: string): Promise<CredentialRow | undefined>;
  put(user: UserRef, provider: string, sealed: Buffer, expiresAt: number | undefined): Promise<void>;
  /** True when a row was removed. */
  delete(user: UserRef, provider: string): Promise<boolean>;
  list(limit: number): Promise<ConnectionSummary[]>;
  addPending(id: string, sealed: Buffer, expiresAt: number): Promise<void>;
  /** Reads a pending step without using it up. */
  peekPending(id: string): Promise<PendingOutcome>;
  /** Uses a pending step up, atomically: of two concurrent takes (any replicas), one gets `ok`, the other `used`. */
  takePending(id: string): Promise<PendingOutcome>;
  close(): Promise<void>;
}

/** `mcp-gateway dev` and single-process use: nothing survives the process, nothing is shared with replicas. */
export class MemoryCredentialStore implements CredentialStore {
  readonly kind = 'memory';
  private readonly rows = new Map<string, CredentialRow & { user: UserRef; provider: string }>();
  private readonly pending = new Map<string, { sealed: Buffer; expiresAt: number; used: boolean }>();

  async init(): Promise<void> {}

  async get(user: UserRef, provider: string): Promise<CredentialRow | undefined> {
    return this.rows.get(key(user, provider));
  }

  async put(user: UserRef, provider: string, sealed: Buffer, expiresAt: number | undefined): Promise<void> {
    this.rows.set(key(user, provider), { user, provider, sealed, expiresAt, updatedAt: Date.now() });
  }

  async delete(user: UserRef, provider: string): Promise<boolean> {
    return this.rows.delete(key(user, provider));
  }

  async list(limit: number): Promise<ConnectionSummary[]> {
    return [...this.rows.values()].slice(0, limit).map((row) => summary(row.user, row.provider, row.updatedAt, row.expiresAt));
  }

  async addPending(id: string, sealed: Buffer, expiresAt: number): Promise<void> {
    const now = Date.now();
    for (const [other, entry] of this.pending) if (entry.expiresAt < now) this.pending.delete(other);
    this.pending.set(id, { sealed, expiresAt, used: false });
  }

  async peekPending(id: string): Promise<PendingOutcome> {
    const entry = this.pending.get(id);
    if (!entry) return { status: 'unknown' };
    return entry.used ? { status: 'used' } : { status: 'ok', sealed: entry.sealed, expiresAt: entry.expiresAt };
  }

  async takePending(id: string): Promise<PendingOutcome> {
    const outcome = await this.peekPending(id);
    if (outcome.status === 'ok') this.pending.get(id)!.used = true;
    return outcome;
  }

  async close(): Promise<void> {}
}

function key(user: UserRef, provider: string): string {
  return JSON.stringify([user.issuer, user.subject, provider]);
}

export function summary(user: UserRef, provider: string, updatedAt: number, expiresAt: number | undefined): ConnectionSummary {
  return {
    issuer: user.issuer,
    subject: user.subject,
    provider,
    updatedAt: new Date(updatedAt).toISOString(),
    ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
  };
}
