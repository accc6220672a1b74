/*
 * kgateway v2.1 with agentgateway enabled: a `gateway.kgateway.dev/v1alpha1` Backend of type MCP per route.
 * It has no session, prefix or failure settings and no MCP sign-in. Internal.
 */
import type { KgatewayMcpBackendSpec } from '../gateway-api';
import { KGATEWAY_GROUP, kgatewayBackendObject } from '../gateway-api';
import type { McpGatewayRoute } from '../mcp-gateway-route';
import type { PropCheck } from '../validation';
import type { ControllerContext, McpRouteController } from './controller';
import { isHttps, staticTarget } from './controller';

export const KGATEWAY_V2_1_CONTROLLER: McpRouteController = {
  bindRoute(route, context) {
    const backend = kgatewayBackendObject(route, 'Backend', () => renderBackend(route, context));
    return { group: KGATEWAY_GROUP, kind: 'Backend', name: backend.name };
  },
  // kgateway v2.1 takes nothing beside the HTTPRoute.
  attachToHttpRoute() {},
  checkRoute,
};

function renderBackend(route: McpGatewayRoute, context: ControllerContext): KgatewayMcpBackendSpec {
  // kgateway 2.1's static target has no backendRef: in-cluster Services are addressed by their FQDN.
  return { type: 'MCP', mcp: { targets: route.targets.map((target) => staticTarget(target, false, context.chartNamespace)) } };
}

function checkRoute(route: McpGatewayRoute, context: ControllerContext, check: PropCheck): void {
  const fix = 'use McpGatewayImplementation.AGENTGATEWAY or RUNTIME';
  const unsupported: string[] = [];
  if (route.prefixMode) unsupported.push('prefixMode');
  if (route.failureMode) unsupported.push('failureMode');
  if (route.statefulMode) unsupported.push('statefulMode');
  if (route._serverNameSet) unsupported.push('serverName');
  if (unsupported.length > 0) {
    check(
      unsupported.join(', '),
      `${unsupported.length > 1 ? 'have' : 'has'} no equivalent in kgateway v2.1's MCP Backend`,
      `Remove ${unsupported.length > 1 ? 'them' : 'it'}, or ${fix}.`,
    );
  }
  const { policies } = route._renderPolicies(context.publicUrl);
  if (Object.keys(policies).length > 0) {
    check('policies', `${Object.keys(policies).join(', ')} cannot be expressed by kgateway v2.1 (it has no MCP sign-in)`, `Remove them, or ${fix}.`);
  }
  if (route.targets.length > 32) {
    check('targets', `has ${route.targets.length} targets, but kgateway v2.1's Backend accepts at most 32`, 'Split the route.');
  }
  for (const target of route.targets.filter(isHttps)) {
    check(
      'target',
      `${JSON.stringify(target.targetName)} uses https, which kgateway v2.1's static MCP target cannot originate`,
      `Drop it, or ${fix}.`,
    );
  }
  for (const target of route.targets.filter((t) => t.serviceName !== undefined && (t.serviceNamespace ?? context.chartNamespace) === undefined)) {
    check(
      'target',
      `${JSON.stringify(target.targetName)} is the Service "${target.serviceName}" in an unknown namespace, which kgateway's proxy (in the `
        + 'Gateway\'s namespace) cannot address by a short name',
      "Give the charts a namespace (new Chart(app, 'x', { namespace: 'mcp' })).",
    );
  }
}
