import type { CelInput } from '@bufbuild/cel';
import { compileRule, RuleCompileError, type CompiledRule } from './rule.js';
import { ConfigError } from '../config/errors.js';
import type { McpAuthorization } from '../config/types.js';

/** The MCP object a request is about: `target` is the upstream target's name, `name` its un-prefixed upstream name (a resource's URI). */
export interface ResourceRef {
  readonly kind: 'tool' | 'prompt' | 'resource';
  readonly name: string;
  readonly target: string;
}

/** What is known about the caller: validated JWT claims (absent when anonymous) and the HTTP request. */
export interface RequestFacts {
  readonly jwt?: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly method?: string;
  /** The request path without query string. */
  readonly path?: string;
  /** Provider name → whether the caller connected it (`config.credentials`); CEL's `connections`. */
  readonly connections?: Readonly<Record<string, boolean>>;
}

type RequestActivation = { jwt: CelInput; request: CelInput; connections: CelInput };

/**
 * `mcpAuthorization` of one route: CEL rules over `mcp.<kind>.name|target`, `jwt.*` and `request.headers`,
 * combined as agentgateway does. Rules are compiled once; `allows` only evaluates them, so filtering a long
 * `tools/list` costs one evaluation per rule and item.
 */
export class McpAuthorizer {
  /** @param configPath the JSON path of the `mcpAuthorization` object, used in error messages. */
  static compile(config: McpAuthorization | undefined, configPath: string): McpAuthorizer {
    if (config === undefined) return new McpAuthorizer([]);
    if (!Array.isArray(config.rules)) {
      throw new ConfigError([{ path: `${configPath}.rules`, message: 'must be a list of CEL rules' }]);
    }
    const issues: { path: string; message: string }[] = [];
    const rules: CompiledRule[] = [];
    config.rules.forEach((rule, index) => {
      try {
        rules.push(compileRule(rule));
      } catch (error) {
        if (!(error instanceof RuleCompileError)) throw error;
        issues.push({ path: `${configPath}.rules[${index}]`, message: error.message });
      }
    });
    if (issues.length > 0) throw new ConfigError(issues);
    return new McpAuthorizer(rules);
  }

  // The caller's part of the activation is the same for every item of a list; build it once per request.
  private readonly requestActivations = new WeakMap<RequestFacts, RequestActivation>();

  private constructor(private readonly rules: readonly CompiledRule[]) {}

  /** True when the route has no rules, i.e. everything is allowed. */
  get allowsEverything(): boolean {
    return this.rules.length === 0;
  }

  /**
   * No rules → allow. Any `deny` true → deny. Any `require` not true → deny. Any `allow` true → allow.
   * Otherwise deny when allow rules exist (an allow-list), allow when there are none. A rule that names
   * `mcp.tool`, `mcp.prompt` or `mcp.resource` applies to requests of those kinds only. Fails closed: a
   * rule that cannot be evaluated (a claim the token lacks) counts against the caller, a `deny` included.
   */
  allows(resource: ResourceRef, request: RequestFacts): boolean {
    if (this.rules.length === 0) return true;
    const activation = { ...this.requestActivation(request), mcp: { [resource.kind]: { name: resource.name, target: resource.target } } };
    let hasAllowRules = false;
    let allowed = false;
    for (const rule of this.rules) {
      if (rule.effect === 'allow') hasAllowRules = true;
      if (rule.kinds.size > 0 && !rule.kinds.has(resource.kind)) continue;
      const outcome = rule.evaluate(activation);
      if (rule.effect === 'deny' && outcome !== false) return false;
      if (rule.effect === 'require' && outcome !== true) return false;
      if (rule.effect === 'allow') allowed ||= outcome === true;
    }
    return allowed || !hasAllowRules;
  }

  private requestActivation(request: RequestFacts): RequestActivation {
    let activation = this.requestActivations.get(request);
    if (!activation) {
      activation = {
        jwt: toCelValue(request.jwt ?? {}),
        request: { method: request.method ?? '', path: request.path ?? '', headers: lowerCaseHeaders(request.headers) },
        connections: { ...request.connections },
      };
      this.requestActivations.set(request, activation);
    }
    return activation;
  }
}

function lowerCaseHeaders(headers: RequestFacts['headers']): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = value;
  }
  return result;
}

/** JSON claims as CEL input: drops `undefined` members (CEL has no such value) and keeps everything else as is. */
function toCelValue(value: unknown): CelInput {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(toCelValue);
  if (value !== null && typeof value === 'object') {
    const result: Record<string, CelInput> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) result[key] = toCelValue(member);
    }
    return result;
  }
  return value as CelInput;
}
