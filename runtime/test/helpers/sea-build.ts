/**
 * The single executable, built once per content: sea.test.ts and bridge-portability.test.ts (which jest may
 * run at the same time, in different workers) share one build in the system temp folder, keyed by a hash
 * of everything that goes into it. A lock folder makes the second caller wait for the first build.
 * It embeds the Node the image ships (24, from the npm registry: scripts/node-dist.mjs), for this machine's
 * architecture or for arm64 (written and run under qemu-aarch64), whichever Node runs the tests.
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

/** The Node binary the image ships, for `arch`, installed from the npm registry on first use. */
export async function shippedNode(arch: 'x64' | 'arm64' = process.arch as 'x64'): Promise<string> {
  const { stdout } = await execFileP(process.execPath, [join(RUNTIME, 'scripts', 'node-dist.mjs'), String(SHIPPED_NODE_MAJOR), arch], {
    timeout: 360_000,
  });
  return stdout.trim();
}

/** Major version of the Node in the image and the single executable (scripts/node-dist.mjs). */
export const SHIPPED_NODE_MAJOR = 24;

function hashInputs(node: string): string {
  const hash = createHash('sha256');
  hash.update(`${node} ${statSync(node).size} ${statSync(node).mtimeMs}\n`);
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
  add(join(RUNTIME, 'scripts', 'node-dist.mjs'));
  add(join(RUNTIME, 'package-lock.json'));
  add(join(RUNTIME, 'lib'));
  add(join(RUNTIME, 'schema'));
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Path of the single executable for `arch` built from the compiled `lib/` (run `npx tsc --build` first). */
export async function seaExecutable(arch: 'x64' | 'arm64' = process.arch as 'x64'): Promise<string> {
  if (!existsSync(join(RUNTIME, 'lib', 'cli.js'))) throw new Error(`${RUNTIME}/lib/cli.js is missing: run \`npx tsc --build\` first`);
  const node = await shippedNode(arch);
  const dir = join(tmpdir(), `${PREFIX}${arch}-${hashInputs(node)}`);
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
      await execFileP(process.execPath, [join(RUNTIME, 'scripts', 'build-sea.mjs'), '--node', node, '--out', join(work, 'mcp-gateway')], {
        cwd: RUNTIME,
        timeout: 180_000,
      });
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
