#!/usr/bin/env node
// The conformance suite that knows MCP 2026-07-28 (`--requirements 2026-07-28`) is a pre-release of
// `@modelcontextprotocol/conformance`, while the runtime's devDependency stays on the stable 0.1.16 the
// existing comparison is pinned to. Both cannot be devDependencies under one name, so the pre-release is
// installed beside the project, like Node 22 (scripts/node22.mjs), at an exact version.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CONFORMANCE_NEXT_VERSION = '0.2.0-alpha.12';

const runtimeDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const CONFORMANCE_NEXT_PREFIX = join(runtimeDir, '.tools', 'conformance-next');
const packageDir = join(CONFORMANCE_NEXT_PREFIX, 'node_modules', '@modelcontextprotocol', 'conformance');
export const CONFORMANCE_NEXT_CLI = join(packageDir, 'dist', 'index.js');

function installedVersion() {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Returns the path of the pre-release suite's CLI (run it with Node 22), installing it first if needed. */
export function ensureConformanceNext() {
  if (installedVersion() !== CONFORMANCE_NEXT_VERSION || !existsSync(CONFORMANCE_NEXT_CLI)) {
    process.stderr.write(`installing @modelcontextprotocol/conformance@${CONFORMANCE_NEXT_VERSION} into ${CONFORMANCE_NEXT_PREFIX}\n`);
    mkdirSync(CONFORMANCE_NEXT_PREFIX, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        CONFORMANCE_NEXT_PREFIX,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--ignore-scripts',
        `@modelcontextprotocol/conformance@${CONFORMANCE_NEXT_VERSION}`,
      ],
      // npm's own output goes to stderr: callers read the CLI's path from stdout.
      { stdio: ['ignore', 2, 2], timeout: 300_000 },
    );
  }
  if (installedVersion() !== CONFORMANCE_NEXT_VERSION) {
    throw new Error(`could not install @modelcontextprotocol/conformance@${CONFORMANCE_NEXT_VERSION} into ${CONFORMANCE_NEXT_PREFIX}`);
  }
  return CONFORMANCE_NEXT_CLI;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(`${ensureConformanceNext()}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
