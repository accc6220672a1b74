import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const DEBOUNCE_MS = 250;

/**
 * Calls `onChange` with the new text whenever the file's content changes. Watches the directory, not
 * the file: editors replace files by rename, and a Kubernetes ConfigMap volume swaps a `..data`
 * symlink, both of which leave a file watch pointing at a dead inode.
 */
export class ConfigWatcher {
  private readonly watcher: FSWatcher;
  private timer?: NodeJS.Timeout;
  private lastDigest: string;

  constructor(
    private readonly file: string,
    initialText: string,
    private readonly onChange: (text: string) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.lastDigest = digest(initialText);
    const path = resolve(file);
    const name = basename(path);
    this.watcher = watch(dirname(path), (_event, changed) => {
      if (changed !== null && changed !== name && !String(changed).startsWith('..')) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.check(), DEBOUNCE_MS);
    });
    this.watcher.on('error', (error) => this.onError(error));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher.close();
  }

  private check(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      // Mid-replacement the file can be briefly missing; the next event brings it back.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(error as Error);
      return;
    }
    const next = digest(text);
    if (next === this.lastDigest) return;
    this.lastDigest = next;
    this.onChange(text);
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
