// The benchmark has no package of its own: the SDK and the peers come from the runtime package's
// node_modules, so every configuration runs the exact versions the runtime is tested with.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const RUNTIME = join(ROOT, 'runtime');
export const runtimeRequire = createRequire(join(RUNTIME, 'package.json'));

/** Imports `@modelcontextprotocol/sdk/<path>` as installed for the runtime. */
export function sdk(path) {
  return import(pathToFileURL(runtimeRequire.resolve(`@modelcontextprotocol/sdk/${path}`)).href);
}

/** Absolute path of a package's bin script, so it can be launched as `node <script>` (pid = that program). */
export function binOf(pkg, name = pkg) {
  // Read straight from node_modules: some packages' `exports` do not expose package.json.
  const manifestPath = join(RUNTIME, 'node_modules', pkg, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[name];
  if (!bin) throw new Error(`${pkg} has no bin named ${name}`);
  return join(dirname(manifestPath), bin);
}
