import type { parse } from '@bufbuild/cel';

/**
 * Static checks of an authorization rule against the variables the gateway provides: a rule that reads
 * something that does not exist (`unknownvar.x`, `mcp.tol.name`) or that is not a boolean would never
 * match, silently; it is refused at load instead. @bufbuild/cel's type checker is not part of its public
 * API, and it could only see a declared `mcp` object through protobuf descriptors, so this walks the
 * parsed expression with a small type inference of its own: precise for `mcp` and `request`, dynamic for
 * `jwt` (claims differ per identity provider) and for anything computed from dynamic values.
 *
 * src/mcp-authorization-rule.ts holds the same rules for `cdk8s synth`; keep the two in step.
 */

type ParsedExpr = ReturnType<typeof parse>;
type Expr = NonNullable<ParsedExpr['expr']>;

/** A CEL type as far as the check needs it; an object is a record of its members' types. */
type CelKind = 'bool' | 'string' | 'int' | 'uint' | 'double' | 'bytes' | 'null' | 'list' | 'map' | 'dyn' | 'type' | 'timestamp' | 'duration';
interface Shape {
  readonly [member: string]: CelType;
}
type CelType = CelKind | Shape;

export type ResourceKind = 'tool' | 'prompt' | 'resource';

const NAMED: Shape = { name: 'string', target: 'string' };

/** The variables of a rule: `mcp.<kind>.name|target`, `jwt.<claim>…`, `request.method|path|headers`. */
const ENVIRONMENT: Shape = {
  mcp: { tool: NAMED, prompt: NAMED, resource: NAMED },
  jwt: 'map',
  request: { method: 'string', path: 'string', headers: 'map' },
  /** Provider name → bool: has the caller connected it (`config.credentials.providers`). */
  connections: 'map',
};

const BOOLEAN_FUNCTIONS = new Set([
  '_&&_', '_||_', '!_', '_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in', '@not_strictly_false',
  'startsWith', 'endsWith', 'contains', 'matches', 'exists', 'all', 'exists_one',
]);
const CONVERSIONS: Record<string, CelKind> = {
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

/** Why a rule is refused, with the character offset the problem starts at. */
export class RuleCheckError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * What a usable rule is about: the `mcp` kinds it names, unless it tests one with `has()` (empty: it
 * applies to every request).
 */
export interface RuleFacts {
  readonly kinds: ReadonlySet<ResourceKind>;
}

/** Checks a parsed rule; throws RuleCheckError for unknown variables and members and for non-boolean rules. */
export function checkRule(parsed: ParsedExpr): RuleFacts {
  const kinds = new Set<ResourceKind>();
  // A rule that tests `has(mcp.…)` handles the other kinds itself, so it applies to every request.
  let guarded = false;
  const positions = parsed.sourceInfo?.positions ?? {};
  const offsetOf = (expr: Expr): number => Number(positions[String(expr.id)] ?? 0);

  const typeOf = (expr: Expr, bound: ReadonlyMap<string, CelType>): CelType => {
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'constExpr':
        return constantType(kind.value.constantKind.case);
      case 'identExpr': {
        const name = kind.value.name.replace(/^\./, '');
        const local = bound.get(name);
        if (local !== undefined) return local;
        const declared = ENVIRONMENT[name];
        if (declared === undefined) {
          throw new RuleCheckError(`unknown variable "${name}" (the gateway provides ${Object.keys(ENVIRONMENT).join(', ')})`, offsetOf(expr));
        }
        return declared;
      }
      case 'selectExpr': {
        const operand = kind.value.operand!;
        const owner = typeOf(operand, bound);
        const member = memberType(owner, kind.value.field, describe(operand), offsetOf(expr));
        if (isMcpKind(operand) && (kind.value.field === 'tool' || kind.value.field === 'prompt' || kind.value.field === 'resource')) {
          kinds.add(kind.value.field);
        }
        if (kind.value.testOnly && describe(operand).startsWith('mcp')) guarded = true;
        return kind.value.testOnly ? 'bool' : member;
      }
      case 'callExpr': {
        const { function: name, target, args } = kind.value;
        if (target) typeOf(target, bound);
        const argTypes = args.map((arg) => typeOf(arg, bound));
        if (name === '_[_]') return indexType(argTypes[0], args[1], offsetOf(expr));
        if (name === '_?_:_') return argTypes[1] === argTypes[2] ? argTypes[1] : 'dyn';
        if (BOOLEAN_FUNCTIONS.has(name)) return 'bool';
        if (name === '_+_' || name === '_-_' || name === '_*_' || name === '_/_' || name === '_%_') {
          return argTypes[0] === argTypes[1] ? argTypes[0] : 'dyn';
        }
        if (name === '-_') return argTypes[0];
        if (CONVERSIONS[name] !== undefined) return CONVERSIONS[name];
        return 'dyn';
      }
      case 'listExpr':
        for (const element of kind.value.elements) typeOf(element, bound);
        return 'list';
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') typeOf(entry.keyKind.value, bound);
          if (entry.value) typeOf(entry.value, bound);
        }
        return 'map';
      case 'comprehensionExpr': {
        const value = kind.value;
        typeOf(value.iterRange!, bound);
        const accumulator = typeOf(value.accuInit!, bound);
        const inner = new Map(bound);
        for (const name of [value.iterVar, value.iterVar2]) if (name) inner.set(name, 'dyn');
        inner.set(value.accuVar, accumulator);
        typeOf(value.loopCondition!, inner);
        typeOf(value.loopStep!, inner);
        return typeOf(value.result!, inner);
      }
      default:
        return 'dyn';
    }
  };

  const result = typeOf(parsed.expr!, new Map());
  if (result !== 'bool' && result !== 'dyn') {
    throw new RuleCheckError(`the rule is a ${typeName(result)}, not a boolean: compare it, e.g. ${describe(parsed.expr!)} == "…"`, 0);
  }
  return { kinds: guarded ? new Set() : kinds };
}

function memberType(owner: CelType, field: string, ownerText: string, offset: number): CelType {
  if (typeof owner === 'object') {
    const member = owner[field];
    if (member === undefined) throw new RuleCheckError(`${ownerText} has no member "${field}" (it has ${Object.keys(owner).join(', ')})`, offset);
    return member;
  }
  if (owner === 'map' || owner === 'dyn') return 'dyn';
  throw new RuleCheckError(`${ownerText} is a ${owner} and has no member "${field}"`, offset);
}

function indexType(owner: CelType, index: Expr, offset: number): CelType {
  if (typeof owner === 'object') {
    const key =
      index.exprKind.case === 'constExpr' && index.exprKind.value.constantKind.case === 'stringValue'
        ? index.exprKind.value.constantKind.value
        : undefined;
    return key === undefined ? 'dyn' : memberType(owner, key, 'the object', offset);
  }
  return 'dyn';
}

function isMcpKind(expr: Expr): boolean {
  return expr.exprKind.case === 'identExpr' && expr.exprKind.value.name.replace(/^\./, '') === 'mcp';
}

/** `mcp.tool` for a chain of selections, for messages. */
function describe(expr: Expr): string {
  const kind = expr.exprKind;
  if (kind.case === 'identExpr') return kind.value.name;
  if (kind.case === 'selectExpr') return `${describe(kind.value.operand!)}.${kind.value.field}`;
  return 'the expression';
}

function constantType(kind: string | undefined): CelType {
  switch (kind) {
    case 'boolValue':
      return 'bool';
    case 'stringValue':
      return 'string';
    case 'int64Value':
      return 'int';
    case 'uint64Value':
      return 'uint';
    case 'doubleValue':
      return 'double';
    case 'bytesValue':
      return 'bytes';
    case 'nullValue':
      return 'null';
    default:
      return 'dyn';
  }
}

function typeName(type: CelType): string {
  return typeof type === 'object' ? 'object' : type;
}
