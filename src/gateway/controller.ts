/*
 * What an MCP-aware Gateway API controller (agentgateway, kgateway) renders for one route: its own
 * backend resource, what attaches to the HTTPRoute, and what of the route it cannot express. Each
 * controller renders and validates itself, so McpGateway does not switch on the implementation.
 * Internal: not exported from the package index.
 */
import type { ApiObject } from 'cdk8s';
import type { HttpBackendRefSpec, McpStaticTargetSpec } from '../gateway-api';
import type { McpGatewayRoute } from '../mcp-gateway-route';
import type { IMcpTarget } from '../mcp-target';
import { McpProtocol } from '../mcp-target';
import type { PropCheck } from '../validation';

/** What a controller needs to know about the gateway a route belongs to. */
export interface ControllerContext {
  /** Public base URL of the gateway, for the OAuth resource URL of sign-in policies. */
  readonly publicUrl?: string;
  /** Namespace of the gateway's chart. */
  readonly chartNamespace?: string;
}

/** One MCP-aware controller's rendering of routes. */
export interface McpRouteController {
  /** Emits the route's backend resource under `route` and returns the HTTPRoute's `backendRef` to it. */
  bindRoute(route: McpGatewayRoute, context: ControllerContext): HttpBackendRefSpec;
  /** Attaches what belongs beside the route's HTTPRoute (in its namespace), e.g. a policy. */
  attachToHttpRoute(route: McpGatewayRoute, httpRoute: ApiObject, routeNamespace: string | undefined, context: ControllerContext): void;
  /** Reports what of the route the controller cannot express. */
  checkRoute(route: McpGatewayRoute, context: ControllerContext, check: PropCheck): void;
}

/**
 * A target as a static MCP target: a `backendRef` to a Service in the gateway's namespace when the controller
 * supports it, else the Service's cluster DNS name or the target's host.
 */
export function staticTarget(target: IMcpTarget, allowBackendRef: boolean, chartNamespace: string | undefined): McpStaticTargetSpec {
  const protocol = target.protocol === McpProtocol.SSE ? 'SSE' as const : 'StreamableHTTP' as const;
  const namespace = target.serviceNamespace ?? chartNamespace;
  const sameNamespace = namespace === chartNamespace;
  if (target.serviceName && sameNamespace && allowBackendRef) {
    return { name: target.targetName, static: { backendRef: { name: target.serviceName }, port: target.port, path: target.path, protocol } };
  }
  // An unknown namespace is reported by validation (kgateway); rendering must not throw first.
  const host = target.serviceName ? `${target.serviceName}.${namespace ?? 'default'}.svc.cluster.local` : target.host;
  return { name: target.targetName, static: { host, port: target.port, path: target.path, protocol } };
}

export function isHttps(target: IMcpTarget): boolean {
  return target.url.startsWith('https:');
}
