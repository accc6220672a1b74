import * as fs from 'fs';
import * as path from 'path';

interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/**
 * This package's own package.json. `src/cli/` (ts-node) and `lib/cli/` (published) both sit two
 * levels below it, so the versions `init` writes are the ones this copy was built and tested with.
 */
export function packageManifest(): PackageManifest {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
}

export function packageVersion(): string {
  return packageManifest().version;
}
