/*
 * Typed shapes of the few Gateway API (v1.6.1 standard channel), agentgateway (`agentgateway.dev/v1alpha1`)
 * and kgateway v2.1 (`gateway.kgateway.dev/v1alpha1`) fields this library writes. Hand-written because
 * `cdk8s import` needs network access; kept internal (not exported from the package index) so the public
 * API stays free of CRD churn. Field names follow the upstream CRD schemas (Gateway API v1.6.1, agentgateway
 * main, kgateway v2.1.x), which the tests validate the output against with unknown fields rejected.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import { ApiObject, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const AGENTGATEWAY_GROUP = 'agentgateway.dev';
export const KGATEWAY_GROUP = 'gateway.kgateway.dev';

/** `ParentReference` of a route. */
export interface ParentReferenceSpec {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** `HTTPRouteMatch` restricted to paths, which is all MCP routing needs. */
export interface HttpRouteMatchSpec {
  readonly path: { readonly type: 'Exact' | 'PathPrefix'; readonly value: string };
}

/** `HTTPBackendRef`. */
export interface HttpBackendRefSpec {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface HttpRouteRuleSpec {
  readonly name?: string;
  readonly matches: HttpRouteMatchSpec[];
  readonly backendRefs: HttpBackendRefSpec[];
  /** Gateway API durations (GEP-2257), e.g. `1h`; `0s` disables. */
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
}

export interface HttpRouteSpec {
  readonly parentRefs: ParentReferenceSpec[];
  readonly hostnames?: string[];
  readonly rules: HttpRouteRuleSpec[];
}

export interface GatewayListenerSpec {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly hostname?: string;
  readonly tls?: { readonly mode: 'Terminate'; readonly certificateRefs: Array<{ readonly kind: 'Secret'; readonly name: string }> };
  readonly allowedRoutes?: { readonly namespaces: { readonly from: 'Same' | 'All' } };
}

export interface GatewaySpec {
  readonly gatewayClassName: string;
  readonly listeners: GatewayListenerSpec[];
}

export interface ReferenceGrantSpec {
  readonly from: Array<{ readonly group: string; readonly kind: string; readonly namespace: string }>;
  readonly to: Array<{ readonly group: string; readonly kind: string; readonly name?: string }>;
}

/** A static MCP target as both `AgentgatewayBackend` and kgateway v2.1 `Backend` spell it. */
export interface McpStaticTargetSpec {
  readonly name: string;
  readonly static: {
    readonly host?: string;
    readonly backendRef?: { readonly name: string };
    readonly port: number;
    readonly path?: string;
    readonly protocol: 'StreamableHTTP' | 'SSE';
    /** agentgateway only: `tls: {}` originates TLS to the target. */
    readonly policies?: { readonly tls: Record<string, never> };
  };
}

/** `AgentgatewayBackend` spec of an MCP backend. */
export interface AgentgatewayMcpBackendSpec {
  readonly mcp: {
    readonly targets: McpStaticTargetSpec[];
    readonly sessionRouting?: 'Stateful' | 'Stateless';
    readonly failureMode?: 'FailClosed' | 'FailOpen';
    readonly prefixMode?: 'Conditional' | 'Always' | 'Never';
  };
}

/** kgateway v2.1 `Backend` spec of type MCP. */
export interface KgatewayMcpBackendSpec {
  readonly type: 'MCP';
  readonly mcp: { readonly targets: McpStaticTargetSpec[] };
}

/** Creates an `ApiObject` whose `spec` is computed at synthesis, after every `add*` call. */
function lazyObject(
  scope: Construct,
  id: string,
  apiVersion: string,
  kind: string,
  metadata: ApiObjectMetadata | undefined,
  spec: () => unknown,
): ApiObject {
  return new ApiObject(scope, id, { apiVersion, kind, metadata, spec: Lazy.any({ produce: spec }) });
}

export function gatewayObject(scope: Construct, id: string, spec: () => GatewaySpec, metadata?: ApiObjectMetadata): ApiObject {
  return lazyObject(scope, id, `${GATEWAY_API_GROUP}/v1`, 'Gateway', metadata, spec);
}

export function httpRouteObject(scope: Construct, id: string, spec: () => HttpRouteSpec, metadata?: ApiObjectMetadata): ApiObject {
  return lazyObject(scope, id, `${GATEWAY_API_GROUP}/v1`, 'HTTPRoute', metadata, spec);
}

export function referenceGrantObject(scope: Construct, id: string, spec: () => ReferenceGrantSpec, metadata?: ApiObjectMetadata): ApiObject {
  // v1beta1 is the storage version in v1.6.1 and the only one older clusters serve.
  return lazyObject(scope, id, `${GATEWAY_API_GROUP}/v1beta1`, 'ReferenceGrant', metadata, spec);
}

export function agentgatewayBackendObject(scope: Construct, id: string, spec: () => AgentgatewayMcpBackendSpec): ApiObject {
  return lazyObject(scope, id, `${AGENTGATEWAY_GROUP}/v1alpha1`, 'AgentgatewayBackend', undefined, spec);
}

export function agentgatewayPolicyObject(scope: Construct, id: string, spec: () => unknown, metadata?: ApiObjectMetadata): ApiObject {
  return lazyObject(scope, id, `${AGENTGATEWAY_GROUP}/v1alpha1`, 'AgentgatewayPolicy', metadata, spec);
}

export function kgatewayBackendObject(scope: Construct, id: string, spec: () => KgatewayMcpBackendSpec): ApiObject {
  return lazyObject(scope, id, `${KGATEWAY_GROUP}/v1alpha1`, 'Backend', undefined, spec);
}

export function ingressObject(scope: Construct, id: string, spec: () => unknown, metadata?: ApiObjectMetadata): ApiObject {
  return lazyObject(scope, id, 'networking.k8s.io/v1', 'Ingress', metadata, spec);
}

/**
 * A Gateway API duration (GEP-2257): up to four `<number><unit>` parts, each number at most 5 digits,
 * e.g. `1h`, `90s`, `1h30m`. `Duration.seconds(0)` becomes `0s`, which disables a timeout.
 */
export function gatewayApiDuration(millis: number): string {
  if (millis <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(millis);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}
