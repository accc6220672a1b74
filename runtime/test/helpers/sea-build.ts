/**
 * The single executable, built once per content: sea.test.ts and bridge-portability.test.ts (which jest may
 * run at the same time, in different workers) share one build in the system temp folder, keyed by a hash
 * of everything that goes into it. A lock folder makes the second caller wait for the first build.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const RUNTIME = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PREFIX = 'mcp-gateway-sea-';
/** Cached builds nobody has used for this long are removed. */
const UNUSED_FOR_MS = 60 * 60 * 1000;
/** A lock older than this belongs to a build that died. */
const STALE_LOCK_MS = 5 * 60 * 1000;

function hashInputs(): string {
  const hash = createHash('sha256');
  hash.update(`${process.version} ${process.arch} ${process.execPath} ${statSync(process.execPath).size}\n`);
  const add = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry));
      return;
    }
    hash.update(`${path}\n`);
    hash.update(readFileSync(path));
  };
  add(join(RUNTIME, 'scripts', 'build-sea.mjs'));
  add(join(RUNTIME, 'package-lock.json'));
  add(join(RUNTIME, 'lib'));
  add(join(RUNTIME, 'schema'));
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Path of the single executable built from the compiled `lib/` (run `npx tsc --build` first). */
export async function seaExecutable(): Promise<string> {
  if (!existsSync(join(RUNTIME, 'lib', 'cli.js'))) throw new Error(`${RUNTIME}/lib/cli.js is missing: run \`npx tsc --build\` first`);
  const dir = join(tmpdir(), `${PREFIX}${hashInputs()}`);
  const executable = join(dir, 'mcp-gateway');
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 240_000;
  while (!existsSync(executable)) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for another build of the single executable (${lock})`);
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(250);
      continue;
    }
    try {
      if (existsSync(executable)) break;
      const work = `${dir}.build-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      await execFileP(process.execPath, [join(RUNTIME, 'scripts', 'build-sea.mjs'), '--out', join(work, 'mcp-gateway')], { cwd: RUNTIME, timeout: 180_000 });
      renameSync(work, dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const now = new Date();
  utimesSync(dir, now, now);
  removeUnusedBuilds(dir);
  return executable;
}

function removeUnusedBuilds(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith(PREFIX) || path === keep || name.endsWith('.lock')) continue;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > UNUSED_FOR_MS) rmSync(path, { recursive: true, force: true });
  }
}
