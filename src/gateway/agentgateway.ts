/*
 * agentgateway's Kubernetes controller (`agentgateway.dev/v1alpha1`): an AgentgatewayBackend per route and,
 * for attached policies, an AgentgatewayPolicy on the route's HTTPRoute. Internal.
 */
import type { ApiObject } from 'cdk8s';
import type { AgentgatewayMcpBackendSpec } from '../gateway-api';
import {
  AGENTGATEWAY_GROUP, GATEWAY_API_GROUP, agentgatewayBackendObject, agentgatewayPolicyObject,
} from '../gateway-api';
import { omitUndefined } from '../manifest-helpers';
import type { McpGatewayRoute } from '../mcp-gateway-route';
import { McpFailureMode, McpPrefixMode, McpStatefulMode } from '../mcp-gateway-route';
import type { PropCheck } from '../validation';
import type * as config from './config-contract.generated';
import type { ControllerContext, McpRouteController } from './controller';
import { isHttps, staticTarget } from './controller';

export const AGENTGATEWAY_CONTROLLER: McpRouteController = {
  bindRoute(route, context) {
    const backend = agentgatewayBackendObject(route, 'Backend', () => renderBackend(route, context));
    return { group: AGENTGATEWAY_GROUP, kind: 'AgentgatewayBackend', name: backend.name };
  },
  attachToHttpRoute: attachPolicy,
  checkRoute,
};

/** agentgateway's spelling of the route modes. */
const SESSION_ROUTING = { [McpStatefulMode.STATEFUL]: 'Stateful', [McpStatefulMode.STATELESS]: 'Stateless' } as const;
const FAILURE_MODE = { [McpFailureMode.FAIL_CLOSED]: 'FailClosed', [McpFailureMode.FAIL_OPEN]: 'FailOpen' } as const;
const PREFIX_MODE = { [McpPrefixMode.CONDITIONAL]: 'Conditional', [McpPrefixMode.ALWAYS]: 'Always', [McpPrefixMode.NEVER]: 'Never' } as const;

function renderBackend(route: McpGatewayRoute, context: ControllerContext): AgentgatewayMcpBackendSpec {
  const targets = route.targets.map((target) => {
    const spec = staticTarget(target, true, context.chartNamespace);
    // agentgateway originates TLS only when asked; an https URL means the target expects it.
    return isHttps(target) ? { ...spec, static: { ...spec.static, policies: { tls: {} } } } : spec;
  });
  return {
    mcp: omitUndefined<AgentgatewayMcpBackendSpec['mcp']>({
      targets,
      sessionRouting: route.statefulMode && SESSION_ROUTING[route.statefulMode],
      failureMode: route.failureMode && FAILURE_MODE[route.failureMode],
      prefixMode: route.prefixMode && PREFIX_MODE[route.prefixMode],
    }),
  };
}

/**
 * Creates the route's AgentgatewayPolicy once the route has something to put in it; policies may be
 * attached after addRoute(), so the route reports each one.
 */
function attachPolicy(route: McpGatewayRoute, httpRoute: ApiObject, routeNamespace: string | undefined, context: ControllerContext): void {
  let created = false;
  const ensurePolicy = () => {
    if (created) return;
    created = true;
    // targetRefs are local references: the policy must live in the HTTPRoute's namespace to attach to it.
    agentgatewayPolicyObject(route, 'Policy', () => ({
      targetRefs: [{ group: GATEWAY_API_GROUP, kind: 'HTTPRoute', name: httpRoute.name }],
      ...policySpec(route, context).spec,
    }), routeNamespace ? { namespace: routeNamespace } : undefined);
  };
  if (route.cors || route.policies.length > 0) ensurePolicy();
  route._onPolicyAdded = ensurePolicy;
}

/** An AgentgatewayPolicy section (agentgateway.dev/v1alpha1, validated against its CRD by the tests). */
type PolicySection = { [key: string]: unknown };

/** Translates the route's runtime policies into AgentgatewayPolicy sections, or says why it cannot. */
function policySpec(route: McpGatewayRoute, context: ControllerContext): { spec: PolicySection; errors: string[] } {
  const { policies } = route._renderPolicies(context.publicUrl);
  const errors: string[] = [];
  const traffic: PolicySection = {};
  let backend: PolicySection | undefined;
  const { cors, mcpAuthentication, mcpAuthorization, ...untranslatable } = policies;
  if (cors) traffic.cors = cors;
  if (mcpAuthentication) traffic.jwtAuthentication = translateAuthentication(mcpAuthentication, errors);
  if (mcpAuthorization) {
    const authorization = translateAuthorization(mcpAuthorization, errors);
    if (authorization) backend = { mcp: { authorization } };
  }
  for (const key of Object.keys(untranslatable)) {
    errors.push(`the route policy "${key}" has no AgentgatewayPolicy equivalent`);
  }
  if (Object.keys(traffic).length === 0 && !backend) {
    // A policy that rendered nothing: AgentgatewayPolicy requires a section, and an empty one applies nothing.
    return { spec: { traffic: {} }, errors };
  }
  return { spec: { ...(Object.keys(traffic).length > 0 ? { traffic } : {}), ...(backend ? { backend } : {}) }, errors };
}

function checkRoute(route: McpGatewayRoute, context: ControllerContext, check: PropCheck): void {
  const needsRuntime = 'use McpGatewayImplementation.RUNTIME for this route';
  if (route._serverNameSet) {
    check(
      'serverName',
      'cannot be set with the agentgateway implementation (agentgateway names every federated server "agentgateway")',
      `Remove serverName, or ${needsRuntime}.`,
    );
  }
  if (route.targets.length > 128) {
    check('targets', `has ${route.targets.length} targets, but an AgentgatewayBackend accepts at most 128`, 'Split the route.');
  }
  for (const message of policySpec(route, context).errors) {
    check('policies', message, `Adjust the policy, or ${needsRuntime}.`);
  }
}

function translateAuthentication(auth: config.McpAuthentication, errors: string[]): PolicySection {
  // publicUrl only shapes the resource URL, which resourceMetadata already carries.
  const unsupported = (['algorithms', 'clockSkew', 'requiredScopes', 'jwtValidationOptions'] as const).filter((key) => auth[key] !== undefined);
  if (unsupported.length > 0) {
    errors.push(`mcpAuthentication fields ${unsupported.join(', ')} have no AgentgatewayPolicy equivalent`);
  }
  if (auth.mode !== undefined && auth.mode !== 'strict') {
    errors.push(`mcpAuthentication mode "${auth.mode}" is not allowed: AgentgatewayPolicy requires mode Strict for MCP sign-in`);
  }
  const providerKey = auth.provider ? Object.keys(auth.provider)[0] : undefined;
  const providerNames: { [key: string]: string } = { keycloak: 'Keycloak', auth0: 'Auth0', okta: 'Okta' };
  let jwks: PolicySection | undefined;
  if (typeof auth.jwks === 'string') {
    jwks = { inline: auth.jwks };
  } else if (auth.jwks?.file) {
    errors.push('mcpAuthentication jwks.file has no AgentgatewayPolicy equivalent (use a URL or inline JWKS)');
  } else {
    const url =
      auth.jwks?.url ??
      auth.jwksUrl ??
      (providerKey === 'keycloak' ? `${String(auth.issuer).replace(/\/$/, '')}/protocol/openid-connect/certs` : undefined);
    if (url) {
      jwks = { remote: { url } };
    } else {
      errors.push('mcpAuthentication has no JWKS URL; set jwks.url (AgentgatewayPolicy cannot discover it)');
    }
  }
  const audiences = auth.audiences ?? (auth.audience ? [auth.audience] : undefined);
  return {
    mode: 'Strict',
    providers: [{ issuer: auth.issuer, ...(audiences ? { audiences } : {}), ...(jwks ? { jwks } : {}) }],
    mcp: {
      ...(providerKey ? { provider: providerNames[providerKey] ?? providerKey } : {}),
      ...(auth.resourceMetadata ? { resourceMetadata: auth.resourceMetadata } : {}),
      ...(auth.clientId ? { clientId: auth.clientId } : {}),
    },
  };
}

function translateAuthorization(authorization: config.McpAuthorization, errors: string[]): PolicySection | undefined {
  const byAction = new Map<string, string[]>();
  for (const rule of authorization.rules) {
    const [action, expression] = typeof rule === 'string'
      ? ['Allow', rule]
      : 'allow' in rule ? ['Allow', rule.allow] : 'deny' in rule ? ['Deny', rule.deny] : ['Require', rule.require];
    byAction.set(action, [...(byAction.get(action) ?? []), expression]);
  }
  if (byAction.size === 0) {
    return undefined;
  }
  if (byAction.size > 1) {
    errors.push(`mcpAuthorization mixes ${[...byAction.keys()].join(', ')} rules, but one AgentgatewayPolicy holds a single action`);
    return undefined;
  }
  const [[action, matchExpressions]] = [...byAction.entries()];
  return { action, policy: { matchExpressions } };
}
