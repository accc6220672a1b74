import { celEnv, parse, plan, type CelInput } from '@bufbuild/cel';
import { checkRule, RuleCheckError, type ResourceKind } from './check.js';
import type { AuthorizationRule } from '../config/types.js';

type RuleEffect = 'allow' | 'deny' | 'require';

/** One rule, parsed, checked and planned once at config load. */
export interface CompiledRule {
  readonly effect: RuleEffect;
  /** The `mcp` kinds the rule names; a rule that names some applies to requests of those kinds only. */
  readonly kinds: ReadonlySet<ResourceKind>;
  /** `error` when evaluation fails (a claim the token lacks) or yields no boolean: the caller decides, failing closed. */
  evaluate(activation: Record<string, CelInput>): boolean | 'error';
}

/** Why a rule cannot be compiled; `message` is meant for the person who wrote the config. */
export class RuleCompileError extends Error {}

const env = celEnv();

export function compileRule(rule: AuthorizationRule): CompiledRule {
  const { effect, expression } = ruleParts(rule);
  let parsed: ReturnType<typeof parse>;
  let evaluate: ReturnType<typeof plan>;
  try {
    parsed = parse(expression);
    evaluate = plan(env, parsed);
  } catch (error) {
    throw new RuleCompileError(describeParseError(expression, error));
  }
  let kinds: ReadonlySet<ResourceKind>;
  try {
    ({ kinds } = checkRule(parsed));
  } catch (error) {
    if (!(error instanceof RuleCheckError)) throw error;
    const { line, column } = lineAndColumn(expression, error.offset);
    throw new RuleCompileError(`CEL rule ${quote(expression)} cannot match: line ${line}, column ${column}: ${error.message}`);
  }
  return {
    effect,
    kinds,
    evaluate: (activation) => {
      try {
        const value = evaluate(activation);
        return typeof value === 'boolean' ? value : 'error';
      } catch {
        return 'error';
      }
    },
  };
}

function ruleParts(rule: AuthorizationRule): { effect: RuleEffect; expression: string } {
  if (typeof rule === 'string') return { effect: 'allow', expression: nonEmpty(rule) };
  if (rule === null || typeof rule !== 'object') throw new RuleCompileError('a rule is a CEL string or one of {allow}, {deny}, {require}');
  const keys = Object.keys(rule);
  const effect = keys[0];
  if (keys.length !== 1 || (effect !== 'allow' && effect !== 'deny' && effect !== 'require')) {
    throw new RuleCompileError(`a rule object has exactly one key, allow, deny or require; found ${JSON.stringify(keys)}`);
  }
  const expression = (rule as Record<string, unknown>)[effect];
  if (typeof expression !== 'string') throw new RuleCompileError(`${effect} must be a CEL expression string`);
  return { effect, expression: nonEmpty(expression) };
}

function nonEmpty(expression: string): string {
  if (expression.trim() === '') throw new RuleCompileError('the CEL expression is empty');
  return expression;
}

/** The parser reports `<input>:line:col: text`; turn that into a message that quotes the rule and points at the column. */
function describeParseError(expression: string, error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const position = /^<input>:(\d+):(\d+):\s*(.*)$/s.exec(raw);
  if (!position) return `invalid CEL rule ${quote(expression)}: ${raw}`;
  const [, lineText, columnText, reason] = position;
  const line = Number(lineText);
  const column = Number(columnText);
  const sourceLine = expression.split('\n')[line - 1] ?? '';
  const atColumn = sourceLine.slice(column - 1);
  const hint = atColumn.startsWith('=') && !atColumn.startsWith('==') ? " (CEL compares with '==', not '=')" : '';
  return `invalid CEL rule ${quote(expression)}: line ${line}, column ${column}: ${reason}${hint}`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Rules are mostly written in YAML single quotes around double-quoted strings: show them that way when we can. */
function quote(expression: string): string {
  return /['\n]/.test(expression) ? JSON.stringify(expression) : `'${expression}'`;
}
