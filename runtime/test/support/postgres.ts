/**
 * A real PostgreSQL for tests (Debian's `postgresql`): a fresh cluster in a temporary directory, on an
 * ephemeral port, its unix socket in that directory too, stopped and deleted afterwards. As root the
 * server runs as the `postgres` user (it refuses root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import type { Requirement } from '../helpers/requirements.js';

/** Debian keeps the server programs under /usr/lib/postgresql/<major>/bin, off PATH. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (majors.length > 0) return join(root, majors[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  return found.status === 0 ? join(found.stdout.trim(), '..') : undefined;
}

export const POSTGRESQL: Requirement = {
  what: 'PostgreSQL server programs (initdb, pg_ctl)',
  debian: 'postgresql',
  present: () => binDir() !== undefined,
};

export class TestPostgres {
  private constructor(
    private readonly dir: string,
    private readonly bin: string,
    private readonly asUser: string[],
    readonly url: string,
  ) {}

  static async start(): Promise<TestPostgres> {
    const bin = binDir();
    if (!bin) throw new Error('PostgreSQL is not installed (Debian package `postgresql`)');
    const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
    const root = process.getuid?.() === 0;
    const asUser = root ? ['runuser', '-u', 'postgres', '--'] : [];
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    const run = (program: string, args: string[]) => {
      const [command, ...rest] = [...asUser, join(bin, program), ...args];
      const result = spawnSync(command, rest, { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr || result.stdout}`);
    };
    run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'test', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run('pg_ctl', ['-D', join(dir, 'data'), '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    return new TestPostgres(dir, bin, asUser, `postgres://test@127.0.0.1:${port}/postgres`);
  }

  /** Runs SQL with psql-free node-postgres; returns the rows. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    const [command, ...rest] = [...this.asUser, join(this.bin, 'pg_ctl'), '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'];
    spawnSync(command, rest, { encoding: 'utf8' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
