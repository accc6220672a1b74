/*
 * How each `McpGatewayExposure` renders and validates itself for one gateway: the Gateway, Ingress or
 * ReferenceGrant it emits, what the HTTPRoutes attach to, where its traffic comes from (for the gateway's
 * NetworkPolicy) and what is wrong with its options. McpGateway binds its exposure once and asks the
 * binding, so it does not switch on the kind of exposure. Internal: not exported from the package index.
 */
import type { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { GatewayListenerSpec, ParentReferenceSpec } from '../gateway-api';
import {
  GATEWAY_API_GROUP, gatewayObject, ingressObject, referenceGrantObject,
} from '../gateway-api';
import { GATEWAY_NAME_LABEL } from '../labels';
import type { McpGatewayExistingGatewayOptions, McpGatewayIngressOptions, McpGatewayNewGatewayOptions } from '../mcp-gateway-exposure';
import type { PropCheck } from '../validation';
import { dnsLabelProblem, dnsSubdomainProblem, portProblem } from '../validation';

/** What an exposure needs to know about the gateway it exposes. */
export interface ExposureContext {
  /** The gateway: the exposure's objects are created under it. */
  readonly scope: Construct;
  /** Whether the gateway runs this project's runtime (else a controller serves the routes). */
  readonly isRuntime: boolean;
  /** Name of the implementation, for messages. */
  readonly implementationName: string;
  readonly chartNamespace?: string;
  /** Whether the gateway is isolated by a NetworkPolicy. */
  readonly isolated: boolean;
  /** Every path of every route (endpoint and OAuth discovery paths), at synthesis. */
  readonly routePaths: () => string[];
  /** Paths routed to the gateway by prefix (the credential connect flow), at synthesis. */
  readonly prefixPaths?: () => string[];
  /** Name of the runtime's Service. */
  readonly serviceName: () => string | undefined;
}

/** A Gateway API backend a cross-namespace HTTPRoute points at, for the ReferenceGrant. */
export interface ReferenceGrantTarget {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

/** An exposure bound to one gateway. */
export interface ExposureBinding {
  /** Whether routes get an HTTPRoute each. */
  readonly usesGatewayApi: boolean;
  /** The Gateway this exposure created, if it created one. */
  readonly gatewayObject?: ApiObject;
  /** What the HTTPRoutes attach to. */
  parentRefs(): ParentReferenceSpec[];
  /** Host names of the HTTPRoutes. */
  readonly hostnames?: string[];
  /** Namespace of the HTTPRoutes when it is not the chart's: backendRefs then name the chart's namespace. */
  readonly crossNamespaceRoutes?: string;
  /** Lets a cross-namespace HTTPRoute reach a backend (ReferenceGrant). */
  allowBackend(target: ReferenceGrantTarget): void;
  /** Pods that bring outside traffic to the gateway; undefined when they cannot be known. */
  readonly trafficSources?: kplus.INetworkPolicyPeer[];
  /** Reports what is wrong with the exposure's options. */
  check(check: PropCheck): void;
}

/** `McpGatewayExposure.none()`. */
export function bindNone(context: ExposureContext): ExposureBinding {
  return {
    usesGatewayApi: false,
    parentRefs: () => [],
    allowBackend: () => {},
    trafficSources: [],
    check: (check) => requireGatewayApi(context, 'none', check),
  };
}

/** `McpGatewayExposure.gateway(...)`: a new Gateway. */
export function bindNewGateway(options: McpGatewayNewGatewayOptions, context: ExposureContext): ExposureBinding {
  const { scope } = context;
  // Controller-based implementations are served only by agentgateway's class, so it is implied there.
  const className = options.gatewayClassName ?? (context.isRuntime ? undefined : 'agentgateway');
  const listeners = options.listeners ?? [{}];
  const rendered = (): GatewayListenerSpec[] => listeners.map((listener) => {
    const protocol = listener.protocol ?? (listener.tlsSecretName ? 'HTTPS' : 'HTTP');
    const https = protocol === 'HTTPS';
    return {
      name: listener.name ?? (https ? 'https' : 'http'),
      port: listener.port ?? (https ? 443 : 80),
      protocol,
      ...(listener.hostname ? { hostname: listener.hostname } : {}),
      ...(https && listener.tlsSecretName
        ? { tls: { mode: 'Terminate' as const, certificateRefs: [{ kind: 'Secret' as const, name: listener.tlsSecretName }] } }
        : {}),
      ...(listener.allowedRoutes ? { allowedRoutes: { namespaces: { from: listener.allowedRoutes } } } : {}),
    };
  });
  const gateway = gatewayObject(scope, 'Gateway', () => ({ gatewayClassName: className ?? '', listeners: rendered() }));
  return {
    usesGatewayApi: true,
    gatewayObject: gateway,
    parentRefs: () => [{ name: gateway.name }],
    hostnames: options.hostnames,
    allowBackend: () => {},
    trafficSources: options.proxyNamespace
      ? [everyPodIn(scope, 'GatewayProxies', options.proxyNamespace)]
      : [kplus.Pods.select(scope, 'GatewayProxies', { labels: { [GATEWAY_NAME_LABEL]: gateway.name } })],
    check: (check) => {
      if (listeners.length === 0) {
        check('exposure listeners', 'is empty', 'Omit it for one HTTP listener on port 80, or list at least one.');
      }
      if (className === undefined) {
        check(
          'exposure gatewayClassName',
          'is missing: the Gateway would wait for an implementation nobody named, and nothing would route',
          'Name the GatewayClass of the Gateway API implementation in the cluster (`kubectl get gatewayclass`), e.g. McpGatewayExposure.gateway({ '
            + 'gatewayClassName: "istio" }) — "agentgateway", "istio", "eg" (Envoy Gateway), "cilium", "nginx" (NGINX Gateway Fabric), "kgateway" '
            + '— or attach to a Gateway that exists with McpGatewayExposure.existingGateway({ parentRefs: [...] }), or use '
            + 'McpGatewayExposure.ingress(...).',
        );
      } else {
        check('exposure gatewayClassName', dnsSubdomainProblem(className), 'Use the name of a GatewayClass, such as "istio" or "agentgateway".');
      }
      const specs = rendered();
      specs.forEach((listener, index) => {
        const given = listeners[index];
        const prop = `exposure listeners[${index}]`;
        check(`${prop}.name`, dnsLabelProblem(listener.name), 'Name the listener e.g. "https".');
        check(`${prop}.port`, portProblem(listener.port), 'Omit it for 80 (HTTP) or 443 (HTTPS).');
        if (listener.protocol === 'HTTPS' && !given.tlsSecretName) {
          check(prop, 'uses HTTPS but has no tlsSecretName', 'Name the kubernetes.io/tls Secret with the certificate.');
        }
        if (listener.protocol === 'HTTP' && given.tlsSecretName) {
          check(prop, 'has tlsSecretName but protocol HTTP', 'Use GatewayListenerProtocol.HTTPS (or omit protocol).');
        }
        if (specs.findIndex((other) => other.name === listener.name) !== index) {
          check(`${prop}.name`, `${JSON.stringify(listener.name)} is used by another listener`, 'Listener names must be unique.');
        }
      });
    },
  };
}

/** `McpGatewayExposure.existingGateway(...)`: HTTPRoutes on Gateways that exist. */
export function bindExistingGateway(options: McpGatewayExistingGatewayOptions, context: ExposureContext): ExposureBinding {
  const { scope, chartNamespace } = context;
  const routeNamespace = options.routeNamespace;
  // HTTPRoutes in another namespace than the backends need a ReferenceGrant (Gateway API).
  const crossNamespace = routeNamespace !== undefined && routeNamespace !== chartNamespace ? routeNamespace : undefined;
  const grantTargets: ReferenceGrantTarget[] = [];
  if (crossNamespace) {
    referenceGrantObject(scope, 'ReferenceGrant', () => ({
      from: [{ group: GATEWAY_API_GROUP, kind: 'HTTPRoute', namespace: crossNamespace }],
      // Every route (and the connect flow's route) to the runtime names the same Service: grant it once.
      to: grantTargets.filter((target, index) => grantTargets.findIndex((other) => JSON.stringify(other) === JSON.stringify(target)) === index),
    }));
  }
  const inNamespace = (id: string, name: string | undefined) =>
    name === undefined || name === chartNamespace ? undefined : kplus.Namespaces.select(scope, id, { names: [name] });
  return {
    usesGatewayApi: true,
    parentRefs: () => options.parentRefs.map((ref) => ({
      name: ref.name,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      ...(ref.sectionName ? { sectionName: ref.sectionName } : {}),
      ...(ref.port ? { port: ref.port } : {}),
    })),
    hostnames: options.hostnames,
    crossNamespaceRoutes: crossNamespace,
    allowBackend: (target) => { grantTargets.push(target); },
    trafficSources: options.proxyNamespace
      ? [everyPodIn(scope, 'GatewayProxies', options.proxyNamespace)]
      : options.parentRefs.map((ref, index) => kplus.Pods.select(scope, `GatewayProxies${index}`, {
        labels: { [GATEWAY_NAME_LABEL]: ref.name },
        namespaces: inNamespace(`GatewayProxies${index}Namespace`, ref.namespace ?? routeNamespace),
      })),
    check: (check) => {
      if (options.parentRefs.length === 0) {
        check('exposure parentRefs', 'is empty', "Name at least one Gateway, e.g. { name: 'shared-gateway', namespace: 'gateways' }.");
      }
      options.parentRefs.forEach((ref, index) => {
        check(`exposure parentRefs[${index}].name`, dnsSubdomainProblem(ref.name), 'Use the metadata.name of the Gateway.');
        if (ref.namespace !== undefined) {
          check(`exposure parentRefs[${index}].namespace`, dnsLabelProblem(ref.namespace), "Use the Gateway's namespace name.");
        }
      });
      if (crossNamespace && !chartNamespace) {
        check(
          'exposure routeNamespace',
          `${JSON.stringify(routeNamespace)} needs the backends' namespace for the HTTPRoute backendRefs and the ReferenceGrant`,
          "Give the chart a namespace (new Chart(app, 'x', { namespace: 'mcp' })).",
        );
      }
    },
  };
}

/** `McpGatewayExposure.ingress(...)`: an Ingress with an Exact path per endpoint. */
export function bindIngress(options: McpGatewayIngressOptions, context: ExposureContext): ExposureBinding {
  const { host, ingressClassName, tlsSecretName } = options;
  ingressObject(context.scope, 'Ingress', () => ({
    ...(ingressClassName ? { ingressClassName } : {}),
    ...(tlsSecretName ? { tls: [{ ...(host ? { hosts: [host] } : {}), secretName: tlsSecretName }] } : {}),
    rules: [{
      ...(host ? { host } : {}),
      http: {
        paths: [
          ...context.routePaths().map((path) => ({ path, pathType: 'Exact' })),
          ...(context.prefixPaths?.() ?? []).map((path) => ({ path, pathType: 'Prefix' })),
        ].map((match) => ({ ...match, backend: { service: { name: context.serviceName() ?? '', port: { name: 'http' } } } })),
      },
    }],
  }), options.annotations ? { annotations: options.annotations } : undefined);
  const trafficSources = options.controllerNamespace ? [everyPodIn(context.scope, 'IngressController', options.controllerNamespace)] : undefined;
  return {
    usesGatewayApi: false,
    parentRefs: () => [],
    allowBackend: () => {},
    trafficSources,
    check: (check) => {
      requireGatewayApi(context, 'ingress', check);
      if (!context.isRuntime) {
        check(
          'exposure',
          `ingress works only with the RUNTIME implementation (${context.implementationName} is programmed through Gateway API)`,
          'Use McpGatewayExposure.gateway() instead.',
        );
      }
      if (context.isolated && context.isRuntime && trafficSources === undefined) {
        check(
          'exposure ingress controllerNamespace',
          'is missing, so the isolated gateway would accept no connection from the Ingress controller',
          'Set controllerNamespace to the namespace the Ingress controller runs in, e.g. McpGatewayExposure.ingress({ controllerNamespace: '
            + '"ingress-nginx" }), or turn isolation off with isolate: false.',
        );
      }
      if (host !== undefined) {
        check('exposure ingress host', dnsSubdomainProblem(host), 'Use a host name such as "mcp.example.com".');
      }
    },
  };
}

/** Controllers are programmed through Gateway API routes only. */
function requireGatewayApi(context: ExposureContext, kind: string, check: PropCheck): void {
  if (!context.isRuntime) {
    check('exposure', `is ${kind}, but the ${context.implementationName} implementation is configured through Gateway API routes`,
      'Use McpGatewayExposure.gateway() or McpGatewayExposure.existingGateway(), or the RUNTIME implementation.');
  }
}

function everyPodIn(scope: Construct, id: string, namespace: string): kplus.Pods {
  return kplus.Pods.all(scope, id, { namespaces: kplus.Namespaces.select(scope, `${id}Namespace`, { names: [namespace] }) });
}
