import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `text` as `config.yaml` in a fresh temporary directory named after `prefix`; returns the file's path. */
export function writeConfigFile(prefix: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), prefix)), 'config.yaml');
  writeFileSync(file, text);
  return file;
}
