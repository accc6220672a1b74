import type { ParseArgsConfig } from 'util';
import { parseArgs } from 'util';
import { UsageError } from './usage-error';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What `parse` returns: option values, positionals, and the words after a `--`. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  readonly positionals: string[];
  /** Everything after `--`, passed through untouched (e.g. the server's own arguments). */
  readonly rest: string[];
}

/**
 * `util.parseArgs` in strict mode, with its errors turned into one-line `UsageError`s.
 * Node's messages name the flag but also suggest `--` in ways that do not fit every command, so
 * the common ones are rephrased.
 */
export function parse(argv: string[], options: Options, usage: string): ParsedArgs {
  const dashDash = argv.indexOf('--');
  const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
  const rest = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
  try {
    const { values, positionals } = parseArgs({ args: own, options, strict: true, allowPositionals: true });
    return { values: values as ParsedArgs['values'], positionals, rest };
  } catch (err) {
    throw new UsageError(describeParseError(err), usage);
  }
}

function describeParseError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = (e.message ?? String(err)).split('\n')[0];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const option = /'([^']+)'/.exec(message)?.[1];
      return option ? `unknown option ${option}` : message;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
      if (!option) return message;
      if (/does not take an argument/.test(message)) return `option ${option} does not take a value`;
      // "argument missing", or "ambiguous" when the next word is another option.
      return `option ${option} needs a value (write ${option}=VALUE if the value starts with "-")`;
    }
    default:
      return message;
  }
}

/** The last value of a string option (or undefined). */
export function str(parsed: ParsedArgs, name: string): string | undefined {
  const v = parsed.values[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** All values of a repeatable string option. */
export function list(parsed: ParsedArgs, name: string): string[] {
  const v = parsed.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Whether a boolean flag was given. */
export function flag(parsed: ParsedArgs, name: string): boolean {
  return parsed.values[name] === true;
}
