/**
 * The one place that decides what is secret. Logs (every field of every line), errors sent to clients and
 * the admin page all go through it, so a rule added here applies everywhere at once.
 */

/** What replaces a secret. */
const REDACTED = '[redacted]';

/** Names of settings, environment variables and headers that hold credentials (`GITHUB_PAT`: a personal access token). */
const SECRET_NAME =
  // One alternation per credential shape; split over lines it could no longer be read as one pattern.
  // eslint-disable-next-line @stylistic/max-len
  /(secret|passw|token|api[-_]?key|apikey|private[-_]?key|credential|authorization|cookie|session[-_]?key|^key$|[-_]key$|^pass$|^pwd$|(^|[-_])pat($|[-_]))/i;

/** Values that are credentials whatever they are called: well-known token formats and bearer headers. */
const SECRET_VALUE =
  // One alternation per credential shape; split over lines it could no longer be read as one pattern.
  // eslint-disable-next-line @stylistic/max-len
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})|(?<=\bBearer )[A-Za-z0-9._~+/-]{8,}=*/g;

function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Characters of a session id that logs and the admin page show: enough to tell sessions apart, too few to use one. */
const SHOWN_ID_CHARS = 8;

/** A session id is a credential for its session (routes without auth have nothing else): only its start is shown. */
export function shortId(id: string): string {
  return id.length <= SHOWN_ID_CHARS ? id : `${id.slice(0, SHOWN_ID_CHARS)}…`;
}

/** Free text (an error message, a log field): URL credentials, secret query parameters and token-shaped values go. */
export function redactText(text: string): string {
  return redactUrls(text).replace(SECRET_VALUE, REDACTED);
}

/** Fields of a log line, redacted: session ids shortened, strings and error messages cleaned. Untouched fields are not copied. */
export function redactLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    let clean = value;
    if (typeof value === 'string') clean = key === 'session' || key === 'sessionId' ? shortId(value) : redactText(value);
    else if (value instanceof Error) clean = redactText(value.message);
    if (clean !== value) (out ??= { ...fields })[key] = clean;
  }
  return out ?? fields;
}

/**
 * A copy of the effective configuration fit to show: secrets by name (session key, `backendAuth.key`,
 * client secrets, secret-looking env values, header values and query parameters, flag values) and
 * URL credentials replaced. Anything not recognised is shown, so the rules err towards hiding strings
 * under secret-looking names.
 */
export function redactConfig(value: unknown): unknown {
  return walk(value, '', '');
}

function walk(value: unknown, key: string, parentKey: string): unknown {
  if (Buffer.isBuffer(value)) return REDACTED;
  if (Array.isArray(value)) {
    if (key === 'args') return redactArgs(value);
    return value.map((item) => walk(item, '', key));
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // { name, value } pairs: header modifiers.
    if (typeof object.name === 'string' && 'value' in object && Object.keys(object).length === 2) {
      return { name: object.name, value: looksSecret(object.name) ? REDACTED : walk(object.value, 'value', key) };
    }
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(object)) {
      if (key === 'env' && typeof child === 'string') out[childKey] = looksSecret(childKey) ? REDACTED : redactText(child);
      else if (key === 'key' && parentKey === 'backendAuth' && childKey === 'value') out[childKey] = REDACTED;
      else out[childKey] = walk(child, childKey, key);
    }
    return out;
  }
  if (typeof value === 'string') return looksSecret(key) ? REDACTED : redactText(value);
  if (typeof value === 'number' && looksSecret(key)) return REDACTED;
  return value;
}

/** `--token X`, `--api-key=X`, `TOKEN=X`: the value goes. */
function redactArgs(args: readonly unknown[]): unknown[] {
  return args.map((arg, index) => {
    if (typeof arg !== 'string') return arg;
    const previous = args[index - 1];
    if (typeof previous === 'string' && /^--?[\w-]+$/.test(previous) && looksSecret(previous.replace(/^-+/, ''))) return REDACTED;
    const assignment = /^(--?)?([\w.-]+)=(.*)$/.exec(arg);
    if (assignment && looksSecret(assignment[2])) return `${assignment[1] ?? ''}${assignment[2]}=${REDACTED}`;
    return redactText(arg);
  });
}

/** A URL anywhere in a string: args such as `--upstream=https://user:pass@host` carry them after a prefix. */
const EMBEDDED_URL = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** URLs lose their credentials and secret-looking query parameters; the rest of the text stays. */
export function redactUrls(text: string): string {
  return text.includes('://') ? text.replace(EMBEDDED_URL, redactUrl) : text;
}

function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password) {
    url.password = 'redacted';
    changed = true;
  } else if (url.username) {
    // `https://TOKEN@host` (GitHub, GitLab clone URLs): a user name alone is often the credential.
    url.username = 'redacted';
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (looksSecret(name)) {
      url.searchParams.set(name, 'redacted');
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
