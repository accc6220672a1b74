#!/usr/bin/env node
// Builds the gateway as a Node single executable application (SEA): one file that runs where there is
// no Node, which the stdio init container copies into a shared emptyDir (`mcp-gateway --copy-self`).
//
//   node scripts/build-sea.mjs [--entry lib/cli.js] [--out .sea/mcp-gateway] [--node PATH]
//
// Steps: esbuild bundles the compiled ESM CLI and all its dependencies into one CommonJS file (a SEA main
// script must be CommonJS and may only `require` builtins); `node --experimental-sea-config` turns it
// into a blob; the blob is injected into a copy of the Node binary with postject. Run after `tsc`.
// --node is the Node binary to embed (default: the one running this script; the image's build stage runs
// Node 24 of its own architecture). The blob is written by that same binary, as SEA requires: an arm64
// Node on an x86-64 machine writes it under qemu-aarch64 (scripts/node-dist.mjs).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { elfArch, runnerFor } from './node-dist.mjs';

const RUNTIME = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(RUNTIME, 'package.json'));

/** The fuse postject flips so Node looks for the injected blob; fixed by Node for every version. */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const DEFAULT_ENTRY = join(RUNTIME, 'lib', 'cli.js');
export const DEFAULT_OUT = join(RUNTIME, '.sea', 'mcp-gateway');

/**
 * A SEA main script runs as CommonJS: `import.meta` does not exist there. Code that derives paths from
 * `import.meta.url` gets the executable's own URL instead (`__filename` is `process.execPath` in a SEA).
 */
const IMPORT_META_SHIM = 'var __sea_import_meta_url = require("node:url").pathToFileURL(__filename).href;';

export async function buildSea({
  entry = DEFAULT_ENTRY,
  out = DEFAULT_OUT,
  node = process.execPath,
  log = (m) => process.stderr.write(`${m}\n`),
} = {}) {
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: compile first (\`npx tsc --build\`)`);
  if (!existsSync(node)) throw new Error(`${node} does not exist (the Node binary to embed)`);
  const arch = elfArch(node);
  if (!arch) throw new Error(`${node} is not an x86-64 or arm64 ELF executable`);
  const [runner, ...runnerArgs] = runnerFor(arch);
  const nodeCommand = runner ? [runner, ...runnerArgs, node] : [node];
  const work = join(dirname(out), 'build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundle = join(work, 'mcp-gateway.cjs');
  const blob = join(work, 'mcp-gateway.blob');

  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // Shebang of the CLI would be a syntax error in the middle of the blob's wrapper.
    banner: { js: IMPORT_META_SHIM },
    define: { 'import.meta.url': '__sea_import_meta_url' },
    // JSON imports (`with { type: 'json' }`) become plain objects in the bundle.
    loader: { '.json': 'json' },
    mainFields: ['module', 'main'],
    conditions: ['node', 'import', 'default'],
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  log(`bundled ${relative(RUNTIME, entry)} and ${inputs - 1} modules into ${relative(RUNTIME, bundle)} (${kb(bundle)} KiB)`);

  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(
    seaConfig,
    `${JSON.stringify(
      {
        main: bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        // Neither snapshot nor code cache: both tie the blob to this exact Node build and break import().
        useSnapshot: false,
        useCodeCache: false,
      },
      null,
      2,
    )}\n`,
  );
  run(nodeCommand[0], [...nodeCommand.slice(1), '--experimental-sea-config', seaConfig]);
  const version = execFileSync(nodeCommand[0], [...nodeCommand.slice(1), '--version'], { encoding: 'utf8' }).trim();

  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  copyFileSync(node, out);
  chmodSync(out, 0o755);
  const postject = join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
  run(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  rmSync(work, { recursive: true, force: true });
  log(`wrote ${relative(process.cwd(), out) || out} (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, Node ${version} linux-${arch})`);
  return out;
}

/** Runs a build step quietly (postject warns about every ELF note it skips) and shows its output on failure. */
function run(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    throw new Error(`${[cmd, ...args].join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

function kb(file) {
  return Math.round(statSync(file).size / 1024);
}

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? resolve(process.argv[i + 1]) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildSea({ entry: option('entry'), out: option('out'), node: option('node') }).catch((err) => {
    process.stderr.write(`build-sea: ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  });
}
