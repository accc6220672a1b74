import type { Pool } from 'pg';
import { summary, type ConnectionSummary, type CredentialRow, type CredentialStore, type PendingOutcome, type UserRef } from './store.js';

/**
 * The store replicas share: one PostgreSQL table of sealed credentials keyed by (issuer, subject,
 * provider), and one of pending connect steps. Tables are created on start when missing, under an
 * advisory lock so replicas starting together do not race.
 */
export class PostgresCredentialStore implements CredentialStore {
  readonly kind = 'postgres';
  private readonly pending: string;

  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
  ) {
    this.pending = `${table}_pending`;
  }

  /** node-postgres is loaded only when a postgres store is configured. */
  static async connect(url: string, table: string): Promise<PostgresCredentialStore> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection must not crash the gateway; the next query reconnects.
    pool.on('error', () => undefined);
    return new PostgresCredentialStore(pool, table);
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.table]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        issuer text NOT NULL,
        subject text NOT NULL,
        provider text NOT NULL,
        sealed bytea NOT NULL,
        expires_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject, provider))`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.pending} (
        id text PRIMARY KEY,
        sealed bytea NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz)`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async get(user: UserRef, provider: string): Promise<CredentialRow | undefined> {
    const { rows } = await this.pool.query<{ sealed: Buffer; expires_at: Date | null; updated_at: Date }>(
      `SELECT sealed, expires_at, updated_at FROM ${this.table} WHERE issuer = $1 AND subject = $2 AND provider = $3`,
      [user.issuer, user.subject, provider],
    );
    const row = rows[0];
    return row ? { sealed: row.sealed, expiresAt: row.expires_at?.getTime(), updatedAt: row.updated_at.getTime() } : undefined;
  }

  async put(user: UserRef, provider: string, sealed: Buffer, expiresAt: number | undefined): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (issuer, subject, provider, sealed, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (issuer, subject, provider) DO UPDATE SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at, updated_at = now()`,
      [user.issuer, user.subject, provider, sealed, expiresAt !== undefined ? new Date(expiresAt) : null],
    );
  }

  async delete(user: UserRef, provider: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM ${this.table} WHERE issuer = $1 AND subject = $2 AND provider = $3`, [
      user.issuer,
      user.subject,
      provider,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async list(limit: number): Promise<ConnectionSummary[]> {
    const { rows } = await this.pool.query<{ issuer: string; subject: string; provider: string; expires_at: Date | null; updated_at: Date }>(
      `SELECT issuer, subject, provider, expires_at, updated_at FROM ${this.table} ORDER BY issuer, subject, provider LIMIT $1`,
      [limit],
    );
    return rows.map((row) =>
      summary({ issuer: row.issuer, subject: row.subject }, row.provider, row.updated_at.getTime(), row.expires_at?.getTime()),
    );
  }

  async addPending(id: string, sealed: Buffer, expiresAt: number): Promise<void> {
    // Expired steps are swept here, a few at a time, so the table stays small without a timer.
    await this.pool.query(
      `DELETE FROM ${this.pending} WHERE id IN (SELECT id FROM ${this.pending} WHERE expires_at < now() - interval '1 hour' LIMIT 100)`,
    );
    await this.pool.query(`INSERT INTO ${this.pending} (id, sealed, expires_at) VALUES ($1, $2, $3)`, [id, sealed, new Date(expiresAt)]);
  }

  async peekPending(id: string): Promise<PendingOutcome> {
    const { rows } = await this.pool.query<{ sealed: Buffer; expires_at: Date; used_at: Date | null }>(
      `SELECT sealed, expires_at, used_at FROM ${this.pending} WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return { status: 'unknown' };
    return row.used_at ? { status: 'used' } : { status: 'ok', sealed: row.sealed, expiresAt: row.expires_at.getTime() };
  }

  async takePending(id: string): Promise<PendingOutcome> {
    const { rows } = await this.pool.query<{ sealed: Buffer; expires_at: Date }>(
      `UPDATE ${this.pending} SET used_at = now() WHERE id = $1 AND used_at IS NULL RETURNING sealed, expires_at`,
      [id],
    );
    if (rows[0]) return { status: 'ok', sealed: rows[0].sealed, expiresAt: rows[0].expires_at.getTime() };
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.pending} WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0 ? { status: 'used' } : { status: 'unknown' };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
