import type { ExposureBinding, ExposureContext } from './gateway/exposure';
import { bindExistingGateway, bindIngress, bindNewGateway, bindNone } from './gateway/exposure';

/** Protocol of a Gateway listener. TLS is terminated at the Gateway; the MCP gateway behind it speaks HTTP. */
export enum GatewayListenerProtocol {
  /** Plain HTTP. */
  HTTP = 'HTTP',
  /** HTTPS, terminated with the certificate in `tlsSecretName`. */
  HTTPS = 'HTTPS',
}

/** Which namespaces may attach routes to a Gateway listener. */
export enum GatewayAllowedRoutes {
  /** Only routes in the Gateway's namespace (the Gateway API default). */
  SAME_NAMESPACE = 'Same',
  /** Routes from every namespace, as in the agentgateway examples. */
  ALL_NAMESPACES = 'All',
}

/**
 * A listener of a Gateway created by `McpGatewayExposure.gateway`.
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#listener
 */
export interface GatewayListenerOptions {
  /**
   * Listener name (a DNS-1123 label), also the `sectionName` routes attach to.
   * @default - `http` or `https` after the protocol
   */
  readonly name?: string;
  /**
   * Port the Gateway listens on.
   * @default - 80 for HTTP, 443 for HTTPS
   */
  readonly port?: number;
  /**
   * Protocol of the listener.
   * @default - HTTPS when `tlsSecretName` is set, else HTTP
   */
  readonly protocol?: GatewayListenerProtocol;
  /**
   * Host name the listener answers for, e.g. `mcp.example.com`.
   * @default - every host name
   */
  readonly hostname?: string;
  /**
   * Name of a `kubernetes.io/tls` Secret in the Gateway's namespace holding the certificate. Required for HTTPS.
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
  /**
   * Namespaces whose routes may attach.
   * @default GatewayAllowedRoutes.SAME_NAMESPACE
   */
  readonly allowedRoutes?: GatewayAllowedRoutes;
}

/** Options for `McpGatewayExposure.gateway`. */
export interface McpGatewayNewGatewayOptions {
  /**
   * GatewayClass of the new Gateway: the Gateway API implementation installed in the cluster
   * (`kubectl get gatewayclass`). Required with the `RUNTIME` implementation, where any conformant class
   * works (`istio`, `eg`, `cilium`, `nginx`, `agentgateway`, ...) because the Gateway only forwards HTTP to
   * the MCP gateway's Service: a class nobody serves leaves the Gateway unprogrammed, so there is no default.
   * `agentgateway` is the class the agentgateway controller (and kgateway 2.1 with agentgateway enabled)
   * installs, and the only one that understands the `AGENTGATEWAY` and `KGATEWAY_V2_1` implementations.
   * @default - required with `RUNTIME`; 'agentgateway' with `AGENTGATEWAY` and `KGATEWAY_V2_1`
   */
  readonly gatewayClassName?: string;
  /**
   * Listeners of the Gateway.
   * @default - one HTTP listener named `http` on port 80
   */
  readonly listeners?: GatewayListenerOptions[];
  /**
   * Host names of the HTTPRoute.
   * @default - the listeners' host names apply
   */
  readonly hostnames?: string[];
  /**
   * Namespace where the Gateway implementation runs the Gateway's proxy pods, when it does not run them
   * beside the Gateway (Envoy Gateway's default is `envoy-gateway-system`). Every pod there may then
   * connect to the MCP gateway (see `McpGatewayProps.isolate`).
   * @default - the pods labelled `gateway.networking.k8s.io/gateway-name: <Gateway>` in the Gateway's
   * namespace, which is where agentgateway, Istio, kgateway and NGINX Gateway Fabric deploy them (GEP-1762)
   */
  readonly proxyNamespace?: string;
}

/**
 * A Gateway a route attaches to (a Gateway API `ParentReference`).
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#parentreference
 */
export interface GatewayParentRef {
  /** Name of the Gateway. */
  readonly name: string;
  /**
   * Namespace of the Gateway. Its listeners must allow routes from the route's namespace.
   * @default - the route's namespace
   */
  readonly namespace?: string;
  /**
   * Listener to attach to.
   * @default - every listener that allows the route
   */
  readonly sectionName?: string;
  /**
   * Port of the listener to attach to.
   * @default - every port
   */
  readonly port?: number;
}

/** Options for `McpGatewayExposure.existingGateway`. */
export interface McpGatewayExistingGatewayOptions {
  /** Gateways to attach the routes to. */
  readonly parentRefs: GatewayParentRef[];
  /**
   * Host names of the HTTPRoutes, e.g. `mcp.example.com`.
   * @default - the listeners' host names apply
   */
  readonly hostnames?: string[];
  /**
   * Namespace to create the HTTPRoutes in. Set it to the Gateway's namespace when its listeners only accept
   * routes from their own namespace (the Gateway API default); a `ReferenceGrant` then lets the routes
   * reach the backends in this chart's namespace.
   * @default - the chart's namespace
   */
  readonly routeNamespace?: string;
  /**
   * Namespace where the Gateway implementation runs the Gateways' proxy pods, when it does not run them
   * beside each Gateway. Every pod there may then connect to the MCP gateway (see `McpGatewayProps.isolate`).
   * @default - the pods labelled `gateway.networking.k8s.io/gateway-name: <Gateway>` in each Gateway's
   * namespace (GEP-1762)
   */
  readonly proxyNamespace?: string;
}

/** Options for `McpGatewayExposure.ingress`. */
export interface McpGatewayIngressOptions {
  /**
   * IngressClass to use, e.g. `nginx`.
   * @default - the cluster's default IngressClass
   */
  readonly ingressClassName?: string;
  /**
   * Host name the Ingress answers for, e.g. `mcp.example.com`.
   * @default - every host
   */
  readonly host?: string;
  /**
   * `kubernetes.io/tls` Secret with the certificate for `host`; turns on TLS.
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
  /**
   * Annotations of the Ingress, e.g. controller-specific timeouts. Long-lived SSE streams usually need a
   * read timeout longer than the controller's default.
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * Namespace of the Ingress controller's pods (e.g. `ingress-nginx`): they are the only pods that may
   * connect to the MCP gateway (see `McpGatewayProps.isolate`). Required while the gateway is isolated,
   * because Ingress controllers run wherever they were installed.
   * @default - none
   */
  readonly controllerNamespace?: string;
}

/** @internal */
export type ExposureSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'gateway'; readonly options: McpGatewayNewGatewayOptions }
  | { readonly kind: 'existingGateway'; readonly options: McpGatewayExistingGatewayOptions }
  | { readonly kind: 'ingress'; readonly options: McpGatewayIngressOptions };

/**
 * How clients outside the cluster reach an `McpGateway`.
 *
 * @example McpGatewayExposure.gateway({ listeners: [{ hostname: 'mcp.example.com', tlsSecretName: 'mcp-tls' }] })
 */
export class McpGatewayExposure {
  /**
   * Only the ClusterIP Service. While the gateway is isolated (`isolate`, the default) no pod reaches it
   * until allowed with `gateway.connections.allowFrom(...)`; `kubectl port-forward` works either way.
   */
  public static none(): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'none' }, bindNone);
  }

  /**
   * A new Gateway API `Gateway` and one `HTTPRoute` per MCP route.
   * @see https://gateway-api.sigs.k8s.io/api-types/gateway/
   */
  public static gateway(options: McpGatewayNewGatewayOptions = {}): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'gateway', options }, (context) => bindNewGateway(options, context));
  }

  /**
   * One `HTTPRoute` per MCP route, attached to Gateways that already exist.
   * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
   */
  public static existingGateway(options: McpGatewayExistingGatewayOptions): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'existingGateway', options }, (context) => bindExistingGateway(options, context));
  }

  /**
   * A `networking.k8s.io/v1` Ingress with an `Exact` path per MCP endpoint. Only the `RUNTIME`
   * implementation can be exposed this way.
   * @see https://kubernetes.io/docs/concepts/services-networking/ingress/
   */
  public static ingress(options: McpGatewayIngressOptions = {}): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'ingress', options }, (context) => bindIngress(options, context));
  }

  /** @internal */
  public readonly _spec: ExposureSpec;

  private constructor(spec: ExposureSpec, private readonly binder: (context: ExposureContext) => ExposureBinding) {
    this._spec = spec;
  }

  /**
   * Emits the exposure's objects for one gateway and returns what the gateway's routes and NetworkPolicy need.
   * @internal
   */
  public _bind(context: ExposureContext): ExposureBinding {
    return this.binder(context);
  }

  /** Whether this exposure uses Gateway API routes. */
  public get usesGatewayApi(): boolean {
    return this._spec.kind === 'gateway' || this._spec.kind === 'existingGateway';
  }

  /**
   * Public base URL implied by the exposure (`https://mcp.example.com`), when it names exactly one host.
   * @internal
   */
  public _publicUrl(): string | undefined {
    const spec = this._spec;
    if (spec.kind === 'ingress' && spec.options.host) {
      return `${spec.options.tlsSecretName ? 'https' : 'http'}://${spec.options.host}`;
    }
    if (spec.kind === 'gateway') {
      const hosts = (spec.options.listeners ?? []).filter((l) => l.hostname);
      if (hosts.length === 1) {
        const listener = hosts[0];
        const tls = listener.tlsSecretName !== undefined || listener.protocol === GatewayListenerProtocol.HTTPS;
        const port = listener.port;
        const defaultPort = tls ? 443 : 80;
        return `${tls ? 'https' : 'http'}://${listener.hostname}${port && port !== defaultPort ? `:${port}` : ''}`;
      }
    }
    return undefined;
  }
}
