#!/usr/bin/env node
// The config contract's generator (`npx projen gen:config`; runtime/src/config/CONTRACT.md): from the one
// source, runtime/src/config/types.ts, it writes
//   runtime/src/config/schema.generated.ts     the JSON Schema the loader validates with (bundled in the program)
//   runtime/schema/config.schema.json          the same schema, published for editors and users
//   src/gateway/config-contract.generated.ts   the types, copied for the constructs that render the config
// `--check` writes nothing and exits 1 naming every file that differs from what it would write.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_DIR = join(RUNTIME_DIR, '..');
const SOURCE = join(RUNTIME_DIR, 'src', 'config', 'types.ts');
const ROOT_TYPE = 'GatewayConfig';

const SCHEMA_META = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://cdk8s-mcp.dev/schema/gateway-config.json',
  title: 'cdk8s-mcp gateway configuration',
};

/** Every generated file: path relative to the repository → content. */
export function generateConfigContract() {
  const source = relative(REPO_DIR, SOURCE);
  const schema = configSchema();
  const schemaJson = `${JSON.stringify(schema, null, 2)}\n`;
  const banner = (what) => `// ${what}: generated from ${source} by \`npx projen gen:config\`. Do not edit.\n`;
  return new Map([
    ['runtime/schema/config.schema.json', schemaJson],
    ['runtime/src/config/schema.generated.ts', [
      banner('The JSON Schema (draft 2020-12) of the gateway configuration'),
      '// It is TypeScript so the compiled program and the single executable carry it without reading files beside themselves.\n',
      '/* eslint-disable */\n',
      `export const configSchema = ${schemaJson.trimEnd()} as const;\n`,
    ].join('')],
    ['src/gateway/config-contract.generated.ts', [
      banner('The gateway configuration types'),
      '// The renderers type their output with them, so a field the runtime does not accept fails compilation. Internal:\n',
      '// not exported from src/index.ts (jsii does not publish type aliases or unions).\n',
      '/* eslint-disable */\n',
      readFileSync(SOURCE, 'utf8'),
    ].join('')],
  ]);
}

/** ts-json-schema-generator's draft-07 output as the draft 2020-12 schema the loader compiles (Ajv2020). */
function configSchema() {
  const require = createRequire(join(RUNTIME_DIR, 'package.json'));
  const { createGenerator } = require('ts-json-schema-generator');
  const generated = createGenerator({
    path: SOURCE,
    type: ROOT_TYPE,
    // The runtime's compile type-checks the file; the generator only reads its declarations.
    skipTypeCheck: true,
    // The loader rejects unknown fields with their path: a typo must not be ignored silently.
    additionalProperties: false,
    expose: 'export',
    jsDoc: 'extended',
    topRef: true,
    sortProps: false,
  }).createSchema(ROOT_TYPE);
  const definitions = normalize(generated.definitions);
  // The root type's fields sit at the top, so editors complete them without following a $ref.
  const { [ROOT_TYPE]: root, ...$defs } = definitions;
  return { ...SCHEMA_META, ...root, $defs };
}

/**
 * `#/definitions/X` → `#/$defs/X`; `Record<string, never>`'s `additionalProperties: { not: {} }` → `false`, which
 * means the same and which the loader reports as "unknown field" with the field's path.
 */
function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => {
    if (key === '$ref' && typeof child === 'string') return [key, child.replace(/^#\/definitions\//, '#/$defs/')];
    if (key === 'additionalProperties' && isNever(child)) return [key, false];
    return [key, normalize(child)];
  }));
}

function isNever(schema) {
  return schema !== null && typeof schema === 'object' && Object.keys(schema).length === 1
    && typeof schema.not === 'object' && Object.keys(schema.not).length === 0;
}

function main(argv) {
  const check = argv.includes('--check');
  const stale = [];
  for (const [path, content] of generateConfigContract()) {
    const file = join(REPO_DIR, path);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    stale.push(path);
    if (!check) writeFileSync(file, content);
  }
  if (check && stale.length > 0) {
    console.error(`The config contract is out of date: ${stale.join(', ')}. Run \`npx projen gen:config\` and commit the result.`);
    process.exit(1);
  }
  if (!check && stale.length > 0) console.log(`gen:config wrote ${stale.join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main(process.argv.slice(2));
