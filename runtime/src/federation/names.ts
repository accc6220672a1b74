/**
 * agentgateway's naming scheme for several targets behind one server: tools and prompts are
 * `<target>_<name>`, resource URIs `<target>+<uri>`. Target names cannot contain `_` or `+`, so the
 * first delimiter always ends the target name.
 */
export const NAME_DELIMITER = '_';
export const URI_DELIMITER = '+';

export function prefixName(target: string, name: string): string {
  return `${target}${NAME_DELIMITER}${name}`;
}

export function splitName(prefixed: string): { target: string; name: string } | undefined {
  const at = prefixed.indexOf(NAME_DELIMITER);
  if (at <= 0) return undefined;
  return { target: prefixed.slice(0, at), name: prefixed.slice(at + 1) };
}

export function prefixUri(target: string, uri: string): string {
  return `${target}${URI_DELIMITER}${uri}`;
}

export function splitUri(prefixed: string): { target: string; uri: string } | undefined {
  const at = prefixed.indexOf(URI_DELIMITER);
  if (at <= 0) return undefined;
  return { target: prefixed.slice(0, at), uri: prefixed.slice(at + 1) };
}

/** Position in a merged list: which target (index in the backend's live targets) and that target's own cursor. */
export interface CompositeCursor {
  readonly target: number;
  readonly cursor?: string;
}

const CURSOR_PREFIX = 'gw1.';

export function encodeCursor(cursor: CompositeCursor): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify([cursor.target, cursor.cursor ?? null])).toString('base64url');
}

export function decodeCursor(text: string): CompositeCursor | undefined {
  if (!text.startsWith(CURSOR_PREFIX)) return undefined;
  try {
    const [target, cursor] = JSON.parse(Buffer.from(text.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 0) return undefined;
    if (cursor !== null && typeof cursor !== 'string') return undefined;
    return { target, cursor: cursor ?? undefined };
  } catch {
    return undefined;
  }
}
