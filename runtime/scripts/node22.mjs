#!/usr/bin/env node
// The conformance suite needs Node 22 or later (it imports fs.globSync), whichever Node runs the tests:
// prints the path of Node 22 from the npm registry (scripts/node-dist.mjs), installing it first.
import { pathToFileURL } from 'node:url';
import { ensureNode, nodePackage, nodePath } from './node-dist.mjs';

export const NODE22_PACKAGE = nodePackage(22, 'x64');
export const NODE22_BIN = nodePath(22, 'x64');

/** Returns the path of a working Node 22 binary, installing it first if needed. Throws when it cannot. */
export function ensureNode22(options) {
  if (process.arch !== 'x64') throw new Error(`node22.mjs installs ${NODE22_PACKAGE}, which only runs on x64 (this is ${process.arch})`);
  return ensureNode(22, 'x64', options);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(`${ensureNode22()}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
