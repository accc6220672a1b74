import { parse } from '@bufbuild/cel';

/**
 * What a rule does when its expression holds, in the gateway's rule combination: any `deny` that
 * holds denies, any `require` that does not hold denies, then any `allow` that holds allows. When a
 * route has allow rules, a call no allow rule matches is denied.
 */
export enum AuthorizationEffect {
  /** The call is allowed when the expression is true. */
  ALLOW = 'allow',
  /** The call is denied when the expression is true. An expression that fails to evaluate does not deny. */
  DENY = 'deny',
  /** The call is denied unless the expression is true. */
  REQUIRE = 'require',
}

/**
 * Top-level CEL variables the gateway provides while authorizing an MCP request. Anything else is
 * unbound at run time, so the rule would never match; catching it at synth time is kinder.
 */
const AUTHORIZATION_VARIABLES: readonly string[] = ['mcp', 'jwt', 'request'];

/**
 * An MCP authorization rule: a CEL expression over `mcp` (e.g. `mcp.tool.name`), `jwt` (the
 * validated token's claims) and `request` (method, path, headers), with an effect.
 *
 * Rules are parsed when the chart is synthesized; a rule that is not valid CEL fails `cdk8s synth`.
 *
 * @example
 * AuthorizationRule.allowTool('get_me');
 * AuthorizationRule.allowToolsForRole('admin', ['delete_repository']);
 * AuthorizationRule.deny('mcp.tool.name.startsWith("delete_") && !("admin" in jwt.realm_access.roles)');
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
    return new AuthorizationRule(AuthorizationEffect.ALLOW, `${celString(role)} in jwt.realm_access.roles && ${toolNameMatches(toolNames)}`, { realmRole: role });
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
  private constructor(public readonly effect: AuthorizationEffect, public readonly expression: string, names: { realmRole?: string; group?: string } = {}) {
    this._names = names;
  }

  /**
   * The rule in the gateway configuration format: a plain string for `allow` (as agentgateway
   * writes it), `{ deny: ... }` or `{ require: ... }` otherwise.
   */
  public toConfig(): any {
    return this.effect === AuthorizationEffect.ALLOW ? this.expression : { [this.effect]: this.expression };
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
  /** `syntax`: not CEL at all; `variable`: CEL, but reads something the gateway does not provide. */
  readonly kind: 'syntax' | 'variable';
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
    return { kind: 'syntax', message: 'the expression is empty', line: 1, column: 1, hint: 'write a CEL expression such as mcp.tool.name == "get_me"' };
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
  const unknown = findUnboundIdentifier(parsed.expr, new Set(), variables);
  if (!unknown) return undefined;
  const offset = Number(parsed.sourceInfo?.positions?.[unknown.id] ?? 0);
  const { line, column } = lineAndColumn(expression, offset);
  return {
    kind: 'variable',
    message: `unknown variable "${unknown.name}"`,
    line,
    column,
    hint: `the gateway provides only ${variables.join(', ')}; claims are jwt.<claim>, the tool is mcp.tool.name`,
  };
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

interface IdentifierUse {
  readonly name: string;
  readonly id: string;
}

/** Walks the parsed expression; comprehension variables (`exists(x, ...)`) are bound inside their macro. */
function findUnboundIdentifier(expr: any, bound: Set<string>, variables: readonly string[]): IdentifierUse | undefined {
  if (!expr?.exprKind) return undefined;
  const { case: kind, value } = expr.exprKind;
  const walk = (child: any, scope: Set<string> = bound) => findUnboundIdentifier(child, scope, variables);
  switch (kind) {
    case 'identExpr': {
      const name = String(value.name).replace(/^\./, '');
      if (bound.has(name) || variables.includes(name)) return undefined;
      return { name, id: String(expr.id) };
    }
    case 'selectExpr':
      return walk(value.operand);
    case 'callExpr':
      return (value.target ? walk(value.target) : undefined) ?? firstOf(value.args, a => walk(a));
    case 'listExpr':
      return firstOf(value.elements, e => walk(e));
    case 'structExpr':
      return firstOf(value.entries, (entry: any) =>
        (entry.keyKind?.case === 'mapKey' ? walk(entry.keyKind.value) : undefined) ?? walk(entry.value));
    case 'comprehensionExpr': {
      const inner = new Set(bound);
      for (const name of [value.iterVar, value.iterVar2, value.accuVar]) if (name) inner.add(name);
      return walk(value.iterRange) ?? walk(value.accuInit, inner) ?? walk(value.loopCondition, inner)
        ?? walk(value.loopStep, inner) ?? walk(value.result, inner);
    }
    default:
      return undefined;
  }
}

function firstOf<T, R>(items: T[] | undefined, find: (item: T) => R | undefined): R | undefined {
  for (const item of items ?? []) {
    const found = find(item);
    if (found) return found;
  }
  return undefined;
}
