import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  AuthorizationRule, KeycloakDatabase, KeycloakRealm, McpAuthPolicy, McpGateway, McpGatewayRoute, McpTarget,
} from '../src';
import { synthError } from './util/synth';

const docs = McpTarget.fromUrl('docs', 'https://mcp.deepwiki.com/mcp');

function realmIn(chart: Chart): KeycloakRealm {
  return new KeycloakRealm(chart, 'keycloak', {
    mcpAudiences: ['https://mcp.example.com/mcp'],
    bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'admin') },
    database: KeycloakDatabase.devFile(),
    roles: [{ name: 'developer' }],
    groups: [{ name: 'sre' }],
  });
}

describe('errors a user meets, each with its own reason', () => {
  test('a route made with new, which no gateway would render, is refused with the way to add it', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'mcp' });
    const gateway = new McpGateway(chart, 'gateway', { routes: [{ path: '/mcp', targets: [docs] }] });
    expect(() => new McpGatewayRoute(gateway, 'Extra', { path: '/extra/mcp', targets: [docs] })).toThrow(
      /McpGatewayRoute test\/gateway\/Extra: cannot be created with new.*Call gateway\.addRoute\(\{ path: "\/extra\/mcp", targets: \[\.\.\.\] \}\)/,
    );
    // addRoute and the routes prop still work.
    expect(gateway.addRoute({ path: '/more/mcp', targets: [docs] })).toBeInstanceOf(McpGatewayRoute);
  });

  test('allowToolsForRole and allowToolsForGroup naming what the realm lacks fail synthesis; declared and built-in ones pass', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'mcp' });
    const realm = realmIn(chart);
    new McpAuthPolicy(chart, 'auth', {
      issuer: realm,
      rules: [
        AuthorizationRule.allowToolsForRole('developer', ['list_issues']),
        AuthorizationRule.allowToolsForRole('offline_access', ['ping']),
        AuthorizationRule.allowToolsForRole('admin', ['delete_repository']),
        AuthorizationRule.allowToolsForGroup('sre', ['restart']),
        AuthorizationRule.allowToolsForGroup('ops', ['restart']),
      ],
    });
    const message = synthError(chart);
    expect(message).toContain(
      'McpAuthPolicy test/auth: authorization rule #2 (allow) names the realm role "admin", which the issuer\'s realm does not declare (it has '
        + '"offline_access", "uma_authorization", "default-roles-mcp", "developer"), so the rule would never match. Add { name: "admin" } to the '
        + 'KeycloakRealm\'s roles',
    );
    expect(message).toContain('authorization rule #4 (allow) names the group "ops", which the issuer\'s realm does not declare (it has "sre")');
    expect(message).not.toMatch(/rule #[013] /);
  });
});
