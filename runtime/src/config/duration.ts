const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const part = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Milliseconds of a duration string such as `30s`, `1h30m`, `250ms`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(part)) total += Number(amount) * unitMs[unit];
  return Math.round(total);
}
