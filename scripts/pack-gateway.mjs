#!/usr/bin/env node
// Packs @cdk8s-mcp/gateway (runtime/, compiled) into dist/gateway/ (the library's goes to dist/js/), with the
// library's version: they are released together, and the gateway image is tagged with the same version.
// Its package.json is the generated one, minus what only development uses (scripts, devDependencies).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RUNTIME = join(ROOT, 'runtime');
const outFlag = process.argv.indexOf('--out');
const OUT = outFlag > 0 ? process.argv[outFlag + 1] : join(ROOT, 'dist', 'gateway');

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const manifest = JSON.parse(readFileSync(join(RUNTIME, 'package.json'), 'utf8'));
if (!existsSync(join(RUNTIME, 'lib', 'cli.js'))) {
  process.stderr.write('pack-gateway: runtime/lib/cli.js is missing: run `npm --prefix runtime run compile` first\n');
  process.exit(1);
}

const stage = mkdtempSync(join(tmpdir(), 'gateway-pack-'));
try {
  for (const entry of manifest.files) {
    const from = join(RUNTIME, entry);
    if (existsSync(from)) cpSync(from, join(stage, entry), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
  }
  const { scripts, devDependencies, jest, ...published } = manifest;
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ ...published, version }, null, 2)}\n`);
  mkdirSync(OUT, { recursive: true });
  const name = execFileSync('npm', ['pack', '--pack-destination', OUT, '--ignore-scripts'], { cwd: stage, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  process.stdout.write(`${join(OUT, name)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
