/** Most names remembered per route, target and kind: a server listing thousands of tools cannot blow up the metrics. */
const MAX_NAMES = 500;

/**
 * Tool, prompt and resource names each target has listed. Metrics label a call by its name only when the
 * target listed that name, so callers inventing names cannot create unbounded series.
 */
export class NameCatalog {
  private readonly known = new Map<string, Set<string>>();

  add(route: string, target: string, kind: string, names: readonly string[]): void {
    const key = catalogKey(route, target, kind);
    let set = this.known.get(key);
    if (!set) {
      set = new Set();
      this.known.set(key, set);
    }
    for (const name of names) {
      if (set.size >= MAX_NAMES) return;
      set.add(name);
    }
  }

  has(route: string, target: string, kind: string, name: string): boolean {
    return this.known.get(catalogKey(route, target, kind))?.has(name) ?? false;
  }
}

/** NUL as separator: names in a YAML config practically never contain it, so two triples do not collide. */
function catalogKey(route: string, target: string, kind: string): string {
  return `${route}\u0000${target}\u0000${kind}`;
}
