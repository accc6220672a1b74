import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { parse } from '@bufbuild/cel';
import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Chart } from 'cdk8s';
import { Duration, Testing } from 'cdk8s';
import * as ts from 'typescript';
import * as YAML from 'yaml';
import { SecureGithubChart } from '../examples/secure-github/main';
import type { McpAuthPolicyProps } from '../src/mcp-auth-policy';
import { McpAuthMode, McpAuthPolicy, OidcIssuer, OidcProvider } from '../src/mcp-auth-policy';
import { AuthorizationEffect, AuthorizationRule, celString, checkCelExpression } from '../src/mcp-authorization-rule';
import type { IMcpRoutePolicy } from '../src/route-policy';
import { expectValidManifests } from './util/manifest-validation';
import { synthError } from './util/synth';

const KEYCLOAK = OidcIssuer.fromUrl('https://auth.example.com/realms/mcp', { provider: OidcProvider.KEYCLOAK });
const ROUTE = { routePath: '/github/mcp', publicUrl: 'https://mcp.example.com' };

function policy(props: Partial<McpAuthPolicyProps> = {}): { chart: Chart; policy: McpAuthPolicy } {
  const chart = Testing.chart();
  return { chart, policy: new McpAuthPolicy(chart, 'github-auth', { issuer: KEYCLOAK, ...props }) };
}

/**
 * A definition of the schema the gateway validates its configuration with at start-up (the whole
 * configuration when `pointer` is empty).
 */
function runtimeConfigValidator(pointer = ''): ValidateFunction {
  const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../runtime/schema/config.schema.json'), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(schema);
  return ajv.getSchema(`${schema.$id}${pointer}`)!;
}

/**
 * The gateway's own rule checker (runtime/src/authz/check.ts). The runtime is an ES module package, which this CommonJS
 * test cannot import; the checker imports nothing at run time, so it is compiled to CommonJS here from the same source.
 */
function loadRuntimeRuleChecker(): { checkRule: (parsed: ReturnType<typeof parse>) => unknown; RuleCheckError: new (...args: any[]) => Error } {
  const source = fs.readFileSync(path.resolve(__dirname, '../runtime/src/authz/check.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const module = { exports: {} as any };
  vm.runInThisContext(`(function (exports, module) {${outputText}\n})`)(module.exports, module);
  return module.exports;
}

describe('McpAuthPolicy rendering', () => {
  test('renders the article\'s Keycloak policy in the gateway format', () => {
    const { policy: auth } = policy({
      rules: [AuthorizationRule.allowTool('get_me'), AuthorizationRule.allowToolsForRole('admin', ['delete_repository'])],
    });
    const routePolicy: IMcpRoutePolicy = auth;

    expect(routePolicy.renderRoutePolicies(ROUTE)).toEqual({
      mcpAuthentication: {
        issuer: 'https://auth.example.com/realms/mcp',
        audiences: ['https://mcp.example.com/github/mcp'],
        jwks: { url: 'https://auth.example.com/realms/mcp/protocol/openid-connect/certs' },
        provider: { keycloak: {} },
        mode: 'strict',
        resourceMetadata: { resource: 'https://mcp.example.com/github/mcp', bearerMethodsSupported: ['header'] },
        publicUrl: 'https://mcp.example.com',
      },
      mcpAuthorization: {
        rules: [
          'mcp.tool.name == "get_me"',
          '"admin" in jwt.realm_access.roles && mcp.tool.name == "delete_repository"',
        ],
      },
    });
  });

  test('passes every authentication option through', () => {
    const { policy: auth } = policy({
      issuer: OidcIssuer.fromUrl('https://login.example.com', { jwksUrl: 'https://login.example.com/keys', backchannelUrl: 'http://login.idp.svc:8080/' }),
      audiences: ['api://mcp'],
      mode: McpAuthMode.OPTIONAL,
      requiredScopes: ['mcp:tools'],
      toolScopes: { delete_repository: ['repo:delete'] },
      algorithms: ['ES256'],
      clockSkew: Duration.seconds(10),
      publicUrl: 'https://gw.example.com/',
      resourceMetadata: {
        resource: 'https://gw.example.com/mcp',
        bearerMethodsSupported: ['header', 'body'],
        documentationUrl: 'https://docs.example.com/mcp',
        resourceName: 'Example tools',
      },
    });

    const { mcpAuthentication, mcpAuthorization } = auth.renderRoutePolicies({ routePath: '/mcp' });
    expect(mcpAuthorization).toBeUndefined();
    expect(mcpAuthentication).toEqual({
      issuer: 'https://login.example.com',
      audiences: ['api://mcp'],
      jwks: { url: 'https://login.example.com/keys' },
      mode: 'optional',
      resourceMetadata: {
        resource: 'https://gw.example.com/mcp',
        scopesSupported: ['mcp:tools'],
        bearerMethodsSupported: ['header', 'body'],
        resourceDocumentation: 'https://docs.example.com/mcp',
        resourceName: 'Example tools',
      },
      requiredScopes: ['mcp:tools'],
      toolScopes: { delete_repository: ['repo:delete'] },
      algorithms: ['ES256'],
      clockSkew: '10s',
      publicUrl: 'https://gw.example.com',
      backchannelUrl: 'http://login.idp.svc:8080',
    });
  });

  test('takes audiences and scopes from the issuer, the generic JWKS path from the provider', () => {
    const issuer = OidcIssuer.fromUrl('https://idp.example.com/', { tokenAudiences: ['https://mcp.example.com/mcp'], scopesSupported: ['mcp:tools'] });
    const { policy: auth } = policy({ issuer });

    const { mcpAuthentication } = auth.renderRoutePolicies({ routePath: '/mcp' });
    expect(mcpAuthentication.audiences).toEqual(['https://mcp.example.com/mcp']);
    expect(mcpAuthentication.jwks).toEqual({ url: 'https://idp.example.com/.well-known/jwks.json' });
    expect(mcpAuthentication.provider).toBeUndefined();
    expect(mcpAuthentication.resourceMetadata).toEqual({ scopesSupported: ['mcp:tools'], bearerMethodsSupported: ['header'] });
  });

  test('refuses to render a policy that cannot tell its audience', () => {
    const { policy: auth } = policy();
    expect(() => auth.renderRoutePolicies({ routePath: '/mcp' })).toThrow(/github-auth.*set audiences/);
  });

  test('addRule appends rules after the props rules', () => {
    const { policy: auth } = policy({ rules: [AuthorizationRule.allowTool('a')] });
    auth.addRule(AuthorizationRule.deny('jwt.sub == "mallory"'), AuthorizationRule.require('has(jwt.email)'));
    expect(auth.renderRoutePolicies(ROUTE).mcpAuthorization.rules).toEqual([
      'mcp.tool.name == "a"',
      { deny: 'jwt.sub == "mallory"' },
      { require: 'has(jwt.email)' },
    ]);
  });
});

describe('the rendered policies match the runtime configuration schema', () => {
  function routePoliciesValidator(): ValidateFunction {
    return runtimeConfigValidator('#/$defs/RoutePolicies');
  }

  test('a route carrying every policy option is valid', () => {
    const validateRoutePolicies = routePoliciesValidator();

    const { policy: auth } = policy({
      mode: McpAuthMode.PERMISSIVE,
      requiredScopes: ['mcp:tools'],
      algorithms: ['RS256'],
      clockSkew: Duration.millis(1500),
      resourceMetadata: { documentationUrl: 'https://docs.example.com', resourceName: 'GitHub' },
      rules: [
        AuthorizationRule.allowTools(['get_me', 'list_issues']),
        AuthorizationRule.allowToolsForGroup('maintainers', ['merge_pull_request']),
        AuthorizationRule.allowToolsForSubject('f81d4fae-7dec-11d0-a765-00a0c91e6bf6', ['delete_repository']),
        AuthorizationRule.allowToolsForUsername('admin', ['delete_repository']),
        AuthorizationRule.deny('request.headers["x-blocked"] == "true"'),
        AuthorizationRule.require('jwt.email_verified == true'),
      ],
    });
    const rendered = auth.renderRoutePolicies(ROUTE);

    const valid = validateRoutePolicies(rendered);
    expect(validateRoutePolicies.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(rendered.mcpAuthentication.clockSkew).toBe('1.5s');
  });

  test('the schema rejects what the runtime would reject, so the check above can fail', () => {
    const validateRoutePolicies = routePoliciesValidator();
    const rendered = policy().policy.renderRoutePolicies(ROUTE);

    expect(validateRoutePolicies(rendered)).toBe(true);
    expect(validateRoutePolicies({ mcpAuthentication: { ...rendered.mcpAuthentication, mode: 'lenient' } })).toBe(false);
    expect(validateRoutePolicies({ mcpAuthorization: { rules: [{ permit: 'true' }] } })).toBe(false);
  });
});

describe('authorization rules', () => {
  test('typed helpers produce valid CEL with the documented claims', () => {
    const rules = [
      AuthorizationRule.allowTool('get_me'),
      AuthorizationRule.allowTools(['a', 'b']),
      AuthorizationRule.allowToolsForRole('admin', ['delete_repository']),
      AuthorizationRule.allowToolsForGroup('ops', ['restart']),
      AuthorizationRule.allowToolsForSubject('1234', ['x']),
      AuthorizationRule.allowToolsForUsername('alice', ['y']),
    ];
    expect(rules.map(r => r.expression)).toEqual([
      'mcp.tool.name == "get_me"',
      'mcp.tool.name in ["a", "b"]',
      '"admin" in jwt.realm_access.roles && mcp.tool.name == "delete_repository"',
      '"ops" in jwt.groups && mcp.tool.name == "restart"',
      'jwt.sub == "1234" && mcp.tool.name == "x"',
      'jwt.preferred_username == "alice" && mcp.tool.name == "y"',
    ]);
    for (const rule of rules) {
      expect(rule.effect).toBe(AuthorizationEffect.ALLOW);
      expect(checkCelExpression(rule.expression)).toBeUndefined();
    }
  });

  test('a helper given no tools refuses at once instead of writing a rule that never matches', () => {
    expect(() => AuthorizationRule.allowToolsForRole('admin', [])).toThrow(/list of tool names is empty/);
  });

  test('names are quoted so they cannot inject CEL', () => {
    const hostile = 'x" || true || "';
    const rule = AuthorizationRule.allowToolsForRole(hostile, ['a\\"b', 'line\nbreak\u0001']);

    const parsed: any = parse(rule.expression).expr;
    // The top level is still `<role> in roles && <tool matches>`: the name did not escape its literal.
    expect(parsed.exprKind.value.function).toBe('_&&_');
    const roleLiteral = parsed.exprKind.value.args[0].exprKind.value.args[0].exprKind.value.constantKind.value;
    expect(roleLiteral).toBe(hostile);
    const tools = parsed.exprKind.value.args[1].exprKind.value.args[1].exprKind.value.elements
      .map((e: any) => e.exprKind.value.constantKind.value);
    expect(tools).toEqual(['a\\"b', 'line\nbreak\u0001']);
    expect(celString('é')).toBe('"é"');
  });

  test('the article\'s "=" typo fails synthesis naming the construct, the rule, the position and the fix', () => {
    const { chart } = policy({
      rules: [
        AuthorizationRule.allowTool('get_me'),
        AuthorizationRule.allow('jwt.sub = "admin" && mcp.tool.name == "delete_repository"'),
      ],
    });
    const message = synthError(chart);
    expect(message).toContain('McpAuthPolicy test/github-auth');
    expect(message).toContain('authorization rule #1 (allow) "jwt.sub = \\"admin\\" && mcp.tool.name == \\"delete_repository\\""');
    expect(message).toContain('is not valid CEL: found = but expecting end of input at line 1, column 9');
    expect(message).toContain('CEL compares with "==", not "="');
  });

  test('rules using variables the gateway does not provide fail synthesis', () => {
    const { chart, policy: auth } = policy({ audiences: ['https://mcp.example.com/mcp'] });
    auth.addRule(AuthorizationRule.deny('mcp.tool.name == "a" &&\n  user.name == "bob"'));
    auth.addRule(AuthorizationRule.allow('jwt.groups.exists(g, g == "ops") && [1].all(x, x > 0)'));

    const message = synthError(chart);
    expect(message).toContain('authorization rule #0 (deny)');
    expect(message).toContain('cannot match: unknown variable "user" at line 2, column 3');
    expect(message).toContain('the gateway provides only mcp, jwt, request, connections');
    // comprehension variables are bound inside their macro, so rule #1 is fine
    expect(message).not.toContain('rule #1');
  });

  test('misspelt members and rules that are not boolean fail synthesis, as the gateway would refuse them', () => {
    const { chart, policy: auth } = policy({ audiences: ['https://mcp.example.com/mcp'] });
    auth.addRule(AuthorizationRule.allow('mcp.tol.name == "get_me"'));
    auth.addRule(AuthorizationRule.deny('request.header["x"] == "y"'));
    auth.addRule(AuthorizationRule.require('mcp.tool.name'));
    auth.addRule(AuthorizationRule.allow('has(mcp.prompt) && jwt.realm_access.roles.exists(r, r == "admin") && request.method == "POST"'));

    const message = synthError(chart);
    expect(message).toContain(
      'authorization rule #0 (allow) "mcp.tol.name == \\"get_me\\"" cannot match: mcp has no member "tol" (it has tool, prompt, resource) at line '
        + '1, column 4',
    );
    expect(message).toContain('authorization rule #1 (deny)');
    expect(message).toContain('request has no member "header" (it has method, path, headers)');
    expect(message).toContain('authorization rule #2 (require) "mcp.tool.name" cannot match: the rule is a string, not a boolean');
    expect(message).not.toContain('rule #3');
  });

  test('rules on the caller\'s connected providers (connections.<provider>) pass synthesis', () => {
    const { chart, policy: auth } = policy({ audiences: ['https://mcp.example.com/mcp'] });
    auth.addRule(AuthorizationRule.deny('mcp.tool.target == "github" && !connections.github'));
    auth.addRule(AuthorizationRule.require('connections["jira"] || !has(mcp.tool)'));
    auth.addRule(AuthorizationRule.allow('connections.exists(p, connections[p]) && mcp.tool.name == "whoami"'));
    expect(Testing.synth(chart)).toEqual([]);
    expect(checkCelExpression('connection.github')?.message).toBe('unknown variable "connection"');
  });

  test('the construct library and the gateway accept and refuse the same rules', () => {
    const { checkRule, RuleCheckError } = loadRuntimeRuleChecker();
    const runtimeVerdict = (expression: string): string => {
      try {
        checkRule(parse(expression));
        return 'usable';
      } catch (error) {
        if (!(error instanceof RuleCheckError)) throw error;
        return 'refused';
      }
    };
    const usable = [
      'mcp.tool.name == "get_me"',
      'connections.github',
      '!connections["github"] && mcp.tool.target == "github"',
      'connections.exists(p, p == "jira")',
      'jwt.realm_access.roles.exists(r, r == "admin")',
      'request.headers["x-team"] == "ops" && request.method == "POST"',
      'has(mcp.prompt) || has(mcp.resource)',
      'mcp.tool.name in ["a", "b"] ? true : false',
      'size(jwt.groups) > 0',
    ];
    const refused = [
      'connection.github',
      'mcp.tol.name == "x"',
      'request.header["x"] == "y"',
      'mcp.tool.name',
      'mcp.tool.name.size',
      'user.name == "bob"',
      '1 + 2',
      'mcp.tool["nam"] == "x"',
    ];
    for (const expression of usable) {
      expect([expression, checkCelExpression(expression)]).toEqual([expression, undefined]);
      expect([expression, runtimeVerdict(expression)]).toEqual([expression, 'usable']);
    }
    for (const expression of refused) {
      expect([expression, checkCelExpression(expression)?.kind]).toEqual([expression, expect.stringMatching(/variable|type/)]);
      expect([expression, runtimeVerdict(expression)]).toEqual([expression, 'refused']);
    }
  });

  test('spelled-out boolean operators and empty rules get a hint', () => {
    expect(checkCelExpression('mcp.tool.name == "a" and jwt.sub == "b"')?.hint).toBe('CEL uses "&&" and "||" for and/or');
    expect(checkCelExpression('  ')?.message).toBe('the expression is empty');
  });
});

describe('McpAuthPolicy validation', () => {
  test('a valid policy synthesizes (it emits no Kubernetes objects)', () => {
    const { chart } = policy({ rules: [AuthorizationRule.allowTool('get_me')] });
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('bad URLs, weak algorithms, an empty audience list and a huge clock skew are reported together', () => {
    const { chart } = policy({
      issuer: OidcIssuer.fromUrl('auth.example.com/realms/mcp', { jwksUrl: 'https://auth.example.com/certs', backchannelUrl: 'keycloak:8080' }),
      audiences: [],
      algorithms: ['HS256', 'none', 'RS256', 'RSA1_5'],
      clockSkew: Duration.minutes(10),
      publicUrl: 'mcp.example.com',
      toolScopes: { delete_repository: [] },
    });
    const message = synthError(chart);
    expect(message).toContain('issuer URL "auth.example.com/realms/mcp" is not an absolute http(s) URL');
    expect(message).toContain('audiences is empty');
    expect(message).toContain('algorithms HS256, none, RSA1_5 are refused');
    expect(message).toContain('clockSkew of 600s');
    expect(message).toContain('publicUrl "mcp.example.com" is not a scheme://host[:port] URL');
    expect(message).toContain('back-channel URL "keycloak:8080" is not an absolute http(s) URL');
    expect(message).toContain('toolScopes.delete_repository is empty');
  });

  test('audiences the issuer never puts into tokens are refused', () => {
    const issuer = OidcIssuer.fromUrl('https://idp.example.com', { tokenAudiences: ['https://mcp.example.com/github/mcp'] });
    const { chart } = policy({ issuer, audiences: ['https://mcp.example.com/other/mcp'] });
    expect(synthError(chart)).toContain('audiences ["https://mcp.example.com/other/mcp"] contain none of the audiences the issuer puts into tokens');
  });

  test('a public URL with a path is refused: the gateway inserts /.well-known/ right after the host', () => {
    const { chart } = policy({ publicUrl: 'https://gw.example.com/base' });
    expect(synthError(chart)).toContain('publicUrl "https://gw.example.com/base" is not a scheme://host[:port] URL. Pass e.g. "https://mcp.example.com" without a path.');
  });
});

describe('the secure-github example', () => {
  test('synthesizes valid manifests whose gateway config carries the two rules and Keycloak sign-in', () => {
    const app = Testing.app();
    const chart = new SecureGithubChart(app, 'secure-github');
    const objects = Testing.synth(chart);
    expectValidManifests(objects);

    const gatewayConfig = objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === chart.gateway.configMap!.name);
    const config = YAML.parse(gatewayConfig.data['config.yaml']);
    const validateConfig = runtimeConfigValidator();
    validateConfig(config);
    expect(validateConfig.errors ?? []).toEqual([]);
    expect(validateConfig({ ...config, binds: 'not a list' })).toBe(false);
    const [route] = config.binds[0].listeners[0].routes;
    expect(route.policies.mcpAuthorization.rules).toEqual([
      'mcp.tool.name == "get_me"',
      '"admin" in jwt.realm_access.roles && mcp.tool.name == "delete_repository"',
    ]);
    expect(route.policies.mcpAuthentication).toMatchObject({
      issuer: 'http://keycloak.192.168.49.2.nip.io/realms/mcp',
      audiences: ['http://mcp.192.168.49.2.nip.io/github/mcp'],
      jwks: { url: chart.realm.jwksUrl },
      provider: { keycloak: {} },
      resourceMetadata: { resource: 'http://mcp.192.168.49.2.nip.io/github/mcp' },
    });
    // The gateway reaches Keycloak by its Service for discovery, keys and registration; clients see the public issuer.
    expect(route.policies.mcpAuthentication.backchannelUrl).toBe(chart.realm.backchannelUrl);
    expect(chart.realm.backchannelUrl!).toBe(chart.realm.jwksUrl.replace(/\/protocol\/openid-connect\/certs$/, ''));
    expect(new URL(chart.realm.backchannelUrl!).host).toBe(new URL(chart.realm.internalUrl).host);

    // The realm that issues the tokens gives the admin user the role the rule checks.
    const realmFile = objects.find(o => o.kind === 'ConfigMap' && o.data?.['mcp-realm.json']);
    const realm = JSON.parse(realmFile.data['mcp-realm.json']);
    expect(realm.users.find((u: any) => u.username === 'admin').realmRoles).toContain('admin');
    expect(realm.users.find((u: any) => u.username === 'alice').realmRoles).not.toContain('admin');
    expect(realm.clientScopes.find((s: any) => s.name === 'mcp:tools').protocolMappers
      .find((m: any) => m.protocolMapper === 'oidc-audience-mapper').config['included.custom.audience']).toBe('http://mcp.192.168.49.2.nip.io/github/mcp');
  });
});
