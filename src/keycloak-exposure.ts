import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { McpConnections } from './connections';
import { httpRouteObject, ingressObject } from './gateway-api';
import { GATEWAY_NAME_LABEL } from './labels';
import type { GatewayParentRef } from './mcp-gateway-exposure';

/**
 * The only Keycloak paths browsers and MCP clients need: sign-in, tokens, keys, discovery and client
 * registration live under `/realms/`, the sign-in page's styles and scripts under `/resources/`. The admin
 * console (`/admin`) and the management port (health, metrics) stay inside the cluster.
 */
const PUBLIC_PATH_PREFIXES = ['/realms/', '/resources/'];

/** Options of `KeycloakExposure.ingress`. */
export interface KeycloakIngressOptions {
  /**
   * Namespace of the Ingress controller's pods (e.g. `ingress-nginx`): they may connect to Keycloak
   * while it is isolated (see `KeycloakRealmProps.isolate`).
   */
  readonly controllerNamespace: string;
  /**
   * IngressClass to use, e.g. `nginx`.
   * @default - the cluster's default IngressClass
   */
  readonly ingressClassName?: string;
  /**
   * `kubernetes.io/tls` Secret with the certificate for the host of `hostname`; turns on TLS.
   * @default - no TLS at the Ingress
   */
  readonly tlsSecretName?: string;
  /**
   * Annotations of the Ingress.
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

/** Options of `KeycloakExposure.httpRoute`. */
export interface KeycloakHttpRouteOptions {
  /** Gateways to attach the HTTPRoute to; their listeners must allow routes from Keycloak's namespace. */
  readonly parentRefs: GatewayParentRef[];
  /**
   * Namespace where the Gateway implementation runs the Gateways' proxies when it does not run them beside
   * each Gateway; every pod there may connect to Keycloak while it is isolated.
   * @default - the pods labelled `gateway.networking.k8s.io/gateway-name: <Gateway>` in each Gateway's namespace (GEP-1762)
   */
  readonly proxyNamespace?: string;
}

/** What `KeycloakExposure` needs from the realm it exposes (internal: not exported from the package index). */
export interface KeycloakExposureTarget {
  /** Public host name, from `hostname`. */
  readonly host: string;
  readonly serviceName: string;
  readonly servicePort: number;
  readonly namespace?: string;
  readonly connections: McpConnections;
}

/**
 * How browsers reach Keycloak's sign-in pages: an Ingress or a Gateway API HTTPRoute for the public paths
 * (`/realms/`, `/resources/`) on the host of `hostname`, never the admin console. The exposure path is let
 * through Keycloak's NetworkPolicy.
 */
export class KeycloakExposure {
  /** A `networking.k8s.io/v1` Ingress. */
  public static ingress(options: KeycloakIngressOptions): KeycloakExposure {
    return new KeycloakExposure((scope, target) => {
      ingressObject(scope, 'ingress', () => ({
        ...(options.ingressClassName ? { ingressClassName: options.ingressClassName } : {}),
        ...(options.tlsSecretName ? { tls: [{ hosts: [target.host], secretName: options.tlsSecretName }] } : {}),
        rules: [{
          host: target.host,
          http: {
            paths: PUBLIC_PATH_PREFIXES.map((path) => ({
              path, pathType: 'Prefix', backend: { service: { name: target.serviceName, port: { number: target.servicePort } } },
            })),
          },
        }],
      }), options.annotations ? { annotations: options.annotations } : undefined);
      target.connections.allowFrom(kplus.Pods.all(scope, 'ingress-controller', {
        namespaces: kplus.Namespaces.select(scope, 'ingress-controller-namespace', { names: [options.controllerNamespace] }),
      }));
    });
  }

  /** A Gateway API `HTTPRoute` attached to Gateways that already exist. */
  public static httpRoute(options: KeycloakHttpRouteOptions): KeycloakExposure {
    return new KeycloakExposure((scope, target) => {
      httpRouteObject(scope, 'http-route', () => ({
        parentRefs: options.parentRefs.map((ref) => ({
          name: ref.name,
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
          ...(ref.sectionName ? { sectionName: ref.sectionName } : {}),
          ...(ref.port ? { port: ref.port } : {}),
        })),
        hostnames: [target.host],
        rules: [{
          matches: PUBLIC_PATH_PREFIXES.map((path) => ({ path: { type: 'PathPrefix' as const, value: path.replace(/\/$/, '') } })),
          backendRefs: [{ name: target.serviceName, port: target.servicePort }],
        }],
      }));
      const peers = options.proxyNamespace
        ? [
          kplus.Pods.all(scope, 'gateway-proxies', {
            namespaces: kplus.Namespaces.select(scope, 'gateway-proxies-namespace', { names: [options.proxyNamespace] }),
          }),
        ]
        : options.parentRefs.map((ref, index) =>
          kplus.Pods.select(scope, `gateway-proxies-${index}`, {
            labels: { [GATEWAY_NAME_LABEL]: ref.name },
            namespaces:
                ref.namespace && ref.namespace !== target.namespace
                  ? kplus.Namespaces.select(scope, `gateway-proxies-${index}-namespace`, { names: [ref.namespace] })
                  : undefined,
          }),
        );
      peers.forEach((peer) => target.connections.allowFrom(peer));
    });
  }

  private constructor(private readonly render: (scope: Construct, target: KeycloakExposureTarget) => void) {}

  /**
   * Emits the exposure's objects under `scope` and lets its traffic through `target.connections`.
   * @internal
   */
  public _bind(scope: Construct, target: KeycloakExposureTarget): void {
    this.render(scope, target);
  }
}
