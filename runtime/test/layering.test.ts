import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layer rule of runtime/src (docs/ARCHITECTURE.md, "Layers"): imports point down the stack, never up.
 * Side modules serve every layer and depend on none of them except `protocol`.
 */
const LAYERS = ['protocol', 'upstream', 'session', 'federation', 'transport', 'http', 'app'] as const;
const SIDE_MODULES = new Set(['config', 'telemetry', 'auth', 'authz', 'bridge', 'credentials']);
/** Folders that assemble the gateway from everything below: the top layer, with the files at the root of src/. */
const APP_FOLDERS = new Set(['admin', 'dev']);

// jest's rootDir (the cwd) is the runtime package; ts-jest runs this file as ESM, without __dirname.
const SRC = join(process.cwd(), 'src');

/** The module a source file (path relative to src/) belongs to. */
function moduleOf(file: string): string {
  const parts = file.split(sep);
  if (parts.length === 1 || APP_FOLDERS.has(parts[0])) return 'app';
  return parts[0];
}

/** Why `from` may not import `to`; undefined when it may. */
function forbidden(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  const fromLayer = LAYERS.indexOf(from as (typeof LAYERS)[number]);
  const toLayer = LAYERS.indexOf(to as (typeof LAYERS)[number]);
  if (from === 'protocol') return 'protocol is the bottom of the runtime and imports nothing of the gateway';
  if (SIDE_MODULES.has(from)) return toLayer > 0 ? `side module ${from} may import only protocol and other side modules` : undefined;
  if (fromLayer < 0) return `module ${from} is in no layer: add it to LAYERS, SIDE_MODULES or APP_FOLDERS (and to docs/ARCHITECTURE.md)`;
  if (SIDE_MODULES.has(to)) return undefined;
  if (toLayer < 0) return `module ${to} is in no layer: add it to LAYERS, SIDE_MODULES or APP_FOLDERS (and to docs/ARCHITECTURE.md)`;
  return toLayer > fromLayer ? `${from} (layer ${fromLayer}) may not import ${to} (layer ${toLayer}): imports point down` : undefined;
}

/** Every import (static, type-only, re-export, dynamic) of the given files that breaks the rule. */
function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = moduleOf(file);
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const target = normalize(join(dirname(file), imported.fileName));
      if (target.startsWith('..')) {
        found.push(`${file} imports ${imported.fileName}, outside runtime/src`);
        continue;
      }
      const why = forbidden(from, moduleOf(target));
      if (why) found.push(`${file} imports ${imported.fileName}: ${why}`);
    }
  }
  return found;
}

function sources(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), readFileSync(path, 'utf8'));
  }
  return files;
}

describe('runtime layering', () => {
  test('no file in runtime/src imports upwards', () => {
    const files = sources(SRC);
    expect(files.size).toBeGreaterThan(50);
    expect(violations(files)).toEqual([]);
  });

  test('every folder of runtime/src has its place in the rule', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const unplaced = folders.filter((name) => !(LAYERS as readonly string[]).includes(name) && !SIDE_MODULES.has(name) && !APP_FOLDERS.has(name));
    expect(unplaced).toEqual([]);
  });

  test('the check sees upward imports of every form', () => {
    const files = new Map([
      ['federation/router.ts', "import { serveMcp } from '../transport/streamable.js';"],
      ['session/store.ts', "import type { McpSession } from '../federation/session.js';"],
      ['upstream/http.ts', "export { MODERN_PROTOCOL } from '../transport/jsonrpc.js';"],
      ['protocol/errors.ts', "const telemetry = await import('../telemetry/telemetry.js');"],
      ['auth/registration.ts', "import { readBody } from '../transport/body.js';"],
      ['transport/streamable.ts', "import { McpSession } from '../federation/session.js';\nimport { McpError } from '../protocol/errors.js';"],
      ['federation/link.ts', "import type { Logger } from '../telemetry/logger.js';\nimport { sendJson } from '../../../lib/x.js';"],
    ]);
    expect(violations(files)).toEqual([
      'federation/router.ts imports ../transport/streamable.js: federation (layer 3) may not import transport (layer 4): imports point down',
      'session/store.ts imports ../federation/session.js: session (layer 2) may not import federation (layer 3): imports point down',
      'upstream/http.ts imports ../transport/jsonrpc.js: upstream (layer 1) may not import transport (layer 4): imports point down',
      'protocol/errors.ts imports ../telemetry/telemetry.js: protocol is the bottom of the runtime and imports nothing of the gateway',
      'auth/registration.ts imports ../transport/body.js: side module auth may import only protocol and other side modules',
      'federation/link.ts imports ../../../lib/x.js, outside runtime/src',
    ]);
  });
});
