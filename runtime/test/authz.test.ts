import { McpAuthorizer, type RequestFacts, type ResourceRef } from '../src/authz/index.js';
import { ConfigError } from '../src/config/errors.js';

const PATH = 'binds[0].listeners[0].routes[0].policies.mcpAuthorization';
const tool = (name: string, target = 'github'): ResourceRef => ({ kind: 'tool', name, target });
const alice: RequestFacts = { jwt: { sub: 'alice', realm_access: { roles: ['user'] } }, headers: {} };
const admin: RequestFacts = { jwt: { sub: 'admin', realm_access: { roles: ['user', 'admin'] } }, headers: {} };
const anonymous: RequestFacts = { headers: {} };

function compileError(rules: unknown[]): ConfigError {
  try {
    McpAuthorizer.compile({ rules } as never, PATH);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the article scenario', () => {
  const authorizer = McpAuthorizer.compile(
    { rules: ['mcp.tool.name == "get_me"', 'jwt.sub == "admin" && mcp.tool.name == "delete_repository"'] },
    PATH,
  );

  test('anyone may call get_me', () => {
    expect(authorizer.allows(tool('get_me'), alice)).toBe(true);
    expect(authorizer.allows(tool('get_me'), anonymous)).toBe(true);
  });

  test('only the admin may call delete_repository', () => {
    expect(authorizer.allows(tool('delete_repository'), alice)).toBe(false);
    expect(authorizer.allows(tool('delete_repository'), anonymous)).toBe(false);
    expect(authorizer.allows(tool('delete_repository'), admin)).toBe(true);
  });

  test('anything not allowed is denied (allow-list)', () => {
    expect(authorizer.allows(tool('create_issue'), admin)).toBe(false);
    expect(authorizer.allows({ kind: 'prompt', name: 'get_me', target: 'github' }, admin)).toBe(false);
  });

  test('the article rule with a single "=" fails at load, naming the rule, its column and the fix', () => {
    const error = compileError(['mcp.tool.name == "get_me"', 'jwt.sub = "admin" && mcp.tool.name == "delete_repository"']);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toBe(`${PATH}.rules[1]`);
    expect(error.issues[0].message).toContain('\'jwt.sub = "admin" && mcp.tool.name == "delete_repository"\'');
    expect(error.issues[0].message).toContain('line 1, column 9');
    expect(error.issues[0].message).toContain("CEL compares with '==', not '='");
    expect(error.message).toContain(`${PATH}.rules[1]`);
  });
});

describe('rule combination (agentgateway semantics)', () => {
  const allows = (rules: unknown[], resource: ResourceRef, request: RequestFacts = alice) =>
    McpAuthorizer.compile({ rules } as never, PATH).allows(resource, request);

  test('no rules, or no mcpAuthorization at all, allow everything', () => {
    expect(allows([], tool('anything'))).toBe(true);
    expect(McpAuthorizer.compile(undefined, PATH).allows(tool('anything'), anonymous)).toBe(true);
  });

  test('only deny rules: a deny-list', () => {
    const rules = [{ deny: 'mcp.tool.name == "delete_repository"' }];
    expect(allows(rules, tool('delete_repository'))).toBe(false);
    expect(allows(rules, tool('get_me'))).toBe(true);
  });

  test('deny wins over allow', () => {
    const rules = ['true', { deny: '"admin" in jwt.realm_access.roles' }];
    expect(allows(rules, tool('get_me'), alice)).toBe(true);
    expect(allows(rules, tool('get_me'), admin)).toBe(false);
  });

  test('a require that is not true denies even what an allow rule allows', () => {
    const rules = [{ allow: 'true' }, { require: 'jwt.sub != ""' }];
    expect(allows(rules, tool('get_me'), alice)).toBe(true);
    // jwt.sub is missing for an anonymous caller: the error counts as false, so the require fails.
    expect(allows(rules, tool('get_me'), anonymous)).toBe(false);
  });

  test('only require rules: allowed when all hold', () => {
    const rules = [{ require: 'mcp.tool.target == "github"' }];
    expect(allows(rules, tool('get_me', 'github'))).toBe(true);
    expect(allows(rules, tool('get_me', 'gitlab'))).toBe(false);
  });

  test('fails closed: a deny that cannot be evaluated (a claim the token lacks) denies', () => {
    const rules = [{ deny: 'jwt.missing.claim == "x"' }];
    expect(allows(rules, tool('get_me'))).toBe(false);
    expect(allows(rules, tool('get_me'), { jwt: { missing: { claim: 'y' } }, headers: {} })).toBe(true);
  });

  test('a non-boolean rule is refused at load', () => {
    expect(compileError(['mcp.tool.name']).issues[0].message).toContain('not a boolean');
  });
});

describe('variables', () => {
  const allows = (rule: string, resource: ResourceRef, request: RequestFacts) =>
    McpAuthorizer.compile({ rules: [rule] }, PATH).allows(resource, request);

  test('nested claims and lists', () => {
    expect(allows('"admin" in jwt.realm_access.roles', tool('x'), admin)).toBe(true);
    expect(allows('"admin" in jwt.realm_access.roles', tool('x'), alice)).toBe(false);
    expect(
      allows('jwt.org.teams.exists(t, t.name == "infra")', tool('x'), { jwt: { org: { teams: [{ name: 'web' }, { name: 'infra' }] } }, headers: {} }),
    ).toBe(true);
  });

  test('numeric claims compare with CEL integers', () => {
    expect(allows('jwt.level >= 3', tool('x'), { jwt: { level: 3 }, headers: {} })).toBe(true);
    expect(allows('jwt.level >= 3', tool('x'), { jwt: { level: 2 }, headers: {} })).toBe(false);
  });

  test('prompts and resources have their own variables; mcp.tool is absent for them', () => {
    const prompt: ResourceRef = { kind: 'prompt', name: 'summarize', target: 'docs' };
    const resource: ResourceRef = { kind: 'resource', name: 'file:///etc/motd', target: 'files' };
    expect(allows('mcp.prompt.name == "summarize" && mcp.prompt.target == "docs"', prompt, alice)).toBe(true);
    expect(allows('mcp.resource.name.startsWith("file:///etc/")', resource, alice)).toBe(true);
    expect(allows('mcp.tool.name == "summarize"', prompt, alice)).toBe(false);
    expect(allows('has(mcp.tool) || mcp.prompt.target == "docs"', prompt, alice)).toBe(true);
  });

  test('request headers by lower-case name', () => {
    const request: RequestFacts = { headers: { 'X-Tenant': 'acme', 'accept': ['a', 'b'] } };
    expect(allows('request.headers["x-tenant"] == "acme"', tool('x'), request)).toBe(true);
    expect(allows('"b" in request.headers["accept"]', tool('x'), request)).toBe(true);
    expect(allows('request.headers["x-tenant"] == "other"', tool('x'), request)).toBe(false);
  });

  test('one RequestFacts object evaluated for many list items gives each item its own answer', () => {
    const authorizer = McpAuthorizer.compile({ rules: ['mcp.tool.name.startsWith("get_")'] }, PATH);
    const names = ['get_me', 'delete_repository', 'get_issue', 'create_issue'];
    expect(names.filter((name) => authorizer.allows(tool(name), alice))).toEqual(['get_me', 'get_issue']);
  });
});

describe('rule errors at load', () => {
  test('every bad rule is reported with its own index', () => {
    const error = compileError(['mcp.tool.name == ', 'true', { deny: '(' }]);
    expect(error.issues.map((issue) => issue.path)).toEqual([`${PATH}.rules[0]`, `${PATH}.rules[2]`]);
    expect(error.issues[1].message).toMatch(/^invalid CEL rule '\(': line 1, column 2: /);
  });

  test('the position of an error on a later line', () => {
    const error = compileError(['jwt.sub == "a" ||\n  jwt.sub = "b"']);
    expect(error.issues[0].message).toContain('line 2, column 11');
  });

  test('malformed rule objects', () => {
    expect(compileError([{ permit: 'true' }]).issues[0].message).toContain('exactly one key');
    expect(compileError([{ allow: 'true', deny: 'false' }]).issues[0].message).toContain('exactly one key');
    expect(compileError([{ allow: 42 }]).issues[0].message).toContain('allow must be a CEL expression string');
    expect(compileError(['  ']).issues[0].message).toContain('empty');
  });
});
