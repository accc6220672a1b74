import { parse } from '@bufbuild/cel';
import type * as config from './gateway/config-contract.generated';

/**
 * What a rule does when its expression holds, in the gateway's rule combination: any `deny` that
 * holds denies, any `require` that does not hold denies, then any `allow` that holds allows. When a
 * route has allow rules, a call no allow rule matches is denied.
 */
export enum AuthorizationEffect {
  /** The call is allowed when the expression is true. */
  ALLOW = 'allow',
  /**
   * The call is denied when the expression is true. An expression that fails to evaluate (a claim the
   * token lacks) denies too: authorization fails closed.
   */
  DENY = 'deny',
  /** The call is denied unless the expression is true. */
  REQUIRE = 'require',
}

/**
 * What the gateway provides while authorizing an MCP request (runtime/src/authz/check.ts checks rules
 * against the same environment at load): `mcp.<tool|prompt|resource>.<name|target>`, `jwt.<claim>…`
 * (claims differ per identity provider, so they are dynamic), `request.<method|path|headers>` and
 * `connections.<provider>` (whether the caller connected a `UserCredential` provider; the providers are
 * per gateway, so the map is dynamic). Anything else would never match; catching it at synth time is kinder.
 */
const NAMED_OBJECT = { name: 'string', target: 'string' };
const AUTHORIZATION_ENVIRONMENT: Record<string, any> = {
  mcp: { tool: NAMED_OBJECT, prompt: NAMED_OBJECT, resource: NAMED_OBJECT },
  jwt: 'map',
  request: { method: 'string', path: 'string', headers: 'map' },
  connections: 'map',
};
const AUTHORIZATION_VARIABLES: readonly string[] = Object.keys(AUTHORIZATION_ENVIRONMENT);

/**
 * An MCP authorization rule: a CEL expression over `mcp` (e.g. `mcp.tool.name`), `jwt` (the
 * validated token's claims), `request` (method, path, headers) and `connections` (provider name → whether
 * the caller connected it, e.g. `connections.github`), with an effect.
 *
 * Rules are parsed when the chart is synthesized; a rule that is not valid CEL fails `cdk8s synth`.
 *
 * @example
 * AuthorizationRule.allowTool('get_me');
 * AuthorizationRule.allowToolsForRole('admin', ['delete_repository']);
 * AuthorizationRule.deny('mcp.tool.name.startsWith("delete_") && !("admin" in jwt.realm_access.roles)');
 * AuthorizationRule.deny('mcp.tool.target == "github" && !connections.github');
 */
export class AuthorizationRule {
  /** Allows a call when `expression` is true. */
  public static allow(expression: string): AuthorizationRule {
    return new AuthorizationRule(AuthorizationEffect.ALLOW, expression);
  }

  /** Denies a call when `expression` is true, whatever the allow rules say. */
  public static deny(expression: string): AuthorizationRule {
    return new AuthorizationRule(AuthorizationEffect.DENY, expression);
  }

  /** Denies every call for which `expression` is not true. */
  public static require(expression: string): AuthorizationRule {
    return new AuthorizationRule(AuthorizationEffect.REQUIRE, expression);
  }

  /** Allows every authenticated caller to call the tool `toolName`. */
  public static allowTool(toolName: string): AuthorizationRule {
    return AuthorizationRule.allowTools([toolName]);
  }

  /** Allows every authenticated caller to call the listed tools. */
  public static allowTools(toolNames: string[]): AuthorizationRule {
    return AuthorizationRule.allow(toolNameMatches(toolNames));
  }

  /**
   * Allows callers holding the Keycloak realm role `role` (the `realm_access.roles` claim) to call
   * the listed tools.
   */
  public static allowToolsForRole(role: string, toolNames: string[]): AuthorizationRule {
    return new AuthorizationRule(AuthorizationEffect.ALLOW, `${celString(role)} in jwt.realm_access.roles && ${toolNameMatches(toolNames)}`, {
      realmRole: role,
    });
  }

  /**
   * Allows members of group `group` (the `groups` claim, group names without path, as `KeycloakRealm`
   * configures it) to call the listed tools.
   */
  public static allowToolsForGroup(group: string, toolNames: string[]): AuthorizationRule {
    return new AuthorizationRule(AuthorizationEffect.ALLOW, `${celString(group)} in jwt.groups && ${toolNameMatches(toolNames)}`, { group });
  }

  /**
   * Allows the caller whose token subject (`sub` claim) is `subject` to call the listed tools.
   * Keycloak subjects are user ids (UUIDs); to name a user by username use `allowToolsForUsername`.
   */
  public static allowToolsForSubject(subject: string, toolNames: string[]): AuthorizationRule {
    return AuthorizationRule.allow(`jwt.sub == ${celString(subject)} && ${toolNameMatches(toolNames)}`);
  }

  /**
   * Allows the user `username` (the `preferred_username` claim, which users of a `KeycloakRealm`
   * cannot change) to call the listed tools.
   */
  public static allowToolsForUsername(username: string, toolNames: string[]): AuthorizationRule {
    return AuthorizationRule.allow(`jwt.preferred_username == ${celString(username)} && ${toolNameMatches(toolNames)}`);
  }

  /**
   * The realm role or group the rule names, for checking it against the issuer's (`allowToolsForRole`, `allowToolsForGroup`).
   * @internal
   */
  public readonly _names: { readonly realmRole?: string; readonly group?: string };

  /**
   * @param effect what the rule does when `expression` holds
   * @param expression the CEL expression
   */
  private constructor(
    public readonly effect: AuthorizationEffect,
    public readonly expression: string,
    names: { realmRole?: string; group?: string } = {},
  ) {
    this._names = names;
  }

  /**
   * The rule in the gateway configuration format: a plain string for `allow` (as agentgateway
   * writes it), `{ deny: ... }` or `{ require: ... }` otherwise.
   */
  public toConfig(): any {
    return this._toConfig();
  }

  /** `toConfig` typed with the gateway configuration's contract (jsii cannot publish its union type). @internal */
  public _toConfig(): config.AuthorizationRule {
    switch (this.effect) {
      case AuthorizationEffect.ALLOW: return this.expression;
      case AuthorizationEffect.DENY: return { deny: this.expression };
      case AuthorizationEffect.REQUIRE: return { require: this.expression };
    }
  }
}

/**
 * Quotes `value` as a CEL string literal. Every character that could end the literal or change its
 * meaning is escaped, so names taken from user input cannot inject CEL.
 */
export function celString(value: string): string {
  let quoted = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') quoted += `\\${char}`;
    else if (char === '\n') quoted += '\\n';
    else if (char === '\r') quoted += '\\r';
    else if (char === '\t') quoted += '\\t';
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    else quoted += char;
  }
  return `${quoted}"`;
}

function toolNameMatches(toolNames: string[]): string {
  if (toolNames.length === 0) {
    throw new Error('AuthorizationRule: the list of tool names is empty, so the rule would never match; name at least one tool, e.g. ["get_me"].');
  }
  if (toolNames.length === 1) return `mcp.tool.name == ${celString(toolNames[0])}`;
  return `mcp.tool.name in [${toolNames.map(celString).join(', ')}]`;
}

/** Why a rule cannot be used, with the 1-based position of the problem in the expression. */
export interface CelProblem {
  /** `syntax`: not CEL at all; `variable`: CEL, but reads something the gateway does not provide; `type`: not a boolean. */
  readonly kind: 'syntax' | 'variable' | 'type';
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly hint?: string;
}

/**
 * Parses `expression` and reports the first problem: a syntax error, or a top-level identifier the
 * gateway does not provide. Returns undefined when the rule is usable.
 */
export function checkCelExpression(expression: string, variables: readonly string[] = AUTHORIZATION_VARIABLES): CelProblem | undefined {
  if (expression.trim() === '') {
    return {
      kind: 'syntax',
      message: 'the expression is empty',
      line: 1,
      column: 1,
      hint: 'write a CEL expression such as mcp.tool.name == "get_me"',
    };
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (error: any) {
    const start = error?.location?.start;
    const found: string | undefined = error?.found ?? undefined;
    return {
      kind: 'syntax',
      message: error?.rawMessage ?? String(error?.message ?? error),
      line: start?.line ?? 1,
      column: start?.column ?? 1,
      hint: syntaxHint(expression, start?.offset, found),
    };
  }
  const environment = variables === AUTHORIZATION_VARIABLES
    ? AUTHORIZATION_ENVIRONMENT
    : Object.fromEntries(variables.map(name => [name, 'dyn']));
  let result: any;
  try {
    result = typeOf(parsed.expr, new Map(), environment);
  } catch (error) {
    if (!(error instanceof RuleTypeProblem)) throw error;
    const offset = Number(parsed.sourceInfo?.positions?.[error.id] ?? 0);
    const { line, column } = lineAndColumn(expression, offset);
    return {
      kind: 'variable',
      message: error.message,
      line,
      column,
      hint: `the gateway provides only ${variables.join(', ')}; claims are jwt.<claim>, the tool is mcp.tool.name`,
    };
  }
  if (result !== 'bool' && result !== 'dyn') {
    return {
      kind: 'type',
      message: `the rule is a ${typeof result === 'object' ? 'object' : result}, not a boolean`,
      line: 1,
      column: 1,
      hint: 'compare it, e.g. mcp.tool.name == "get_me"',
    };
  }
  return undefined;
}

function syntaxHint(expression: string, offset: number | undefined, found: string | undefined): string | undefined {
  const rest = offset === undefined ? '' : expression.slice(offset);
  if (found === '=' && !rest.startsWith('==')) return 'CEL compares with "==", not "="';
  if (/^(and|or)\b/.test(rest)) return 'CEL uses "&&" and "||" for and/or';
  if (/^not\b/.test(rest)) return 'CEL negates with "!"';
  if (/^(AND|OR)\b/.test(rest)) return 'CEL uses "&&" and "||" for and/or';
  return undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

class RuleTypeProblem extends Error {
  constructor(message: string, public readonly id: string) {
    super(message);
  }
}

const BOOLEAN_FUNCTIONS = new Set(['_&&_', '_||_', '!_', '_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in',
  '@not_strictly_false', 'startsWith', 'endsWith', 'contains', 'matches', 'exists', 'all', 'exists_one']);
const ARITHMETIC = new Set(['_+_', '_-_', '_*_', '_/_', '_%_']);
const CONVERSIONS: Record<string, string> = {
  string: 'string',
  int: 'int',
  uint: 'uint',
  double: 'double',
  bytes: 'bytes',
  bool: 'bool',
  size: 'int',
  timestamp: 'timestamp',
  duration: 'duration',
  type: 'type',
  dyn: 'dyn',
};
const CONSTANT_TYPES: Record<string, string> = {
  boolValue: 'bool',
  stringValue: 'string',
  int64Value: 'int',
  uint64Value: 'uint',
  doubleValue: 'double',
  bytesValue: 'bytes',
  nullValue: 'null',
};

/**
 * The type of a parsed expression (a type name, or an object of member types), as far as the check needs
 * it: precise for `mcp` and `request`, `dyn` for claims and anything computed from them. Throws
 * RuleTypeProblem for unknown variables and members. Comprehension variables (`exists(x, ...)`) are bound
 * inside their macro.
 */
function typeOf(expr: any, bound: Map<string, any>, environment: Record<string, any>): any {
  const { case: kind, value } = expr?.exprKind ?? {};
  const walk = (child: any, scope: Map<string, any> = bound) => typeOf(child, scope, environment);
  switch (kind) {
    case 'constExpr':
      return CONSTANT_TYPES[value.constantKind?.case] ?? 'dyn';
    case 'identExpr': {
      const name = String(value.name).replace(/^\./, '');
      if (bound.has(name)) return bound.get(name);
      if (environment[name] !== undefined) return environment[name];
      throw new RuleTypeProblem(`unknown variable "${name}"`, String(expr.id));
    }
    case 'selectExpr': {
      const owner = walk(value.operand);
      const member = memberType(owner, value.field, describeSelection(value.operand), String(expr.id));
      return value.testOnly ? 'bool' : member;
    }
    case 'callExpr': {
      if (value.target) walk(value.target);
      const args = (value.args ?? []).map((arg: any) => walk(arg));
      const name = value.function;
      if (name === '_[_]') {
        const index = value.args[1]?.exprKind;
        const key = index?.case === 'constExpr' && index.value.constantKind?.case === 'stringValue' ? index.value.constantKind.value : undefined;
        return typeof args[0] === 'object' && key !== undefined ? memberType(args[0], key, describeSelection(value.args[0]), String(expr.id)) : 'dyn';
      }
      if (name === '_?_:_') return args[1] === args[2] ? args[1] : 'dyn';
      if (BOOLEAN_FUNCTIONS.has(name)) return 'bool';
      if (ARITHMETIC.has(name)) return args[0] === args[1] ? args[0] : 'dyn';
      if (name === '-_') return args[0];
      return CONVERSIONS[name] ?? 'dyn';
    }
    case 'listExpr':
      (value.elements ?? []).forEach((element: any) => walk(element));
      return 'list';
    case 'structExpr':
      (value.entries ?? []).forEach((entry: any) => {
        if (entry.keyKind?.case === 'mapKey') walk(entry.keyKind.value);
        walk(entry.value);
      });
      return 'map';
    case 'comprehensionExpr': {
      walk(value.iterRange);
      const inner = new Map(bound);
      for (const name of [value.iterVar, value.iterVar2]) if (name) inner.set(name, 'dyn');
      inner.set(value.accuVar, walk(value.accuInit));
      walk(value.loopCondition, inner);
      walk(value.loopStep, inner);
      return walk(value.result, inner);
    }
    default:
      return 'dyn';
  }
}

function memberType(owner: any, field: string, ownerText: string, id: string): any {
  if (typeof owner === 'object') {
    if (owner[field] === undefined) throw new RuleTypeProblem(`${ownerText} has no member "${field}" (it has ${Object.keys(owner).join(', ')})`, id);
    return owner[field];
  }
  if (owner === 'map' || owner === 'dyn') return 'dyn';
  throw new RuleTypeProblem(`${ownerText} is a ${owner} and has no member "${field}"`, id);
}

function describeSelection(expr: any): string {
  const { case: kind, value } = expr?.exprKind ?? {};
  if (kind === 'identExpr') return value.name;
  if (kind === 'selectExpr') return `${describeSelection(value.operand)}.${value.field}`;
  return 'the expression';
}
