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
   * GatewayClass of the new Gateway.
   *
   * `agentgateway` is the class the agentgateway controller (and kgateway 2.1 with agentgateway enabled)
   * installs, and the only one that understands the `AGENTGATEWAY` and `KGATEWAY_V2_1` implementations.
   * With the `RUNTIME` implementation any conformant class works (`istio`, `eg`, `cilium`, ...), because
   * the Gateway only forwards HTTP to the MCP gateway's Service.
   * @default 'agentgateway'
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
  /** Only the ClusterIP Service: reachable inside the cluster (and with `kubectl port-forward`). */
  public static none(): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'none' });
  }

  /**
   * A new Gateway API `Gateway` and one `HTTPRoute` per MCP route.
   * @see https://gateway-api.sigs.k8s.io/api-types/gateway/
   */
  public static gateway(options: McpGatewayNewGatewayOptions = {}): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'gateway', options });
  }

  /**
   * One `HTTPRoute` per MCP route, attached to Gateways that already exist.
   * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
   */
  public static existingGateway(options: McpGatewayExistingGatewayOptions): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'existingGateway', options });
  }

  /**
   * A `networking.k8s.io/v1` Ingress with an `Exact` path per MCP endpoint. Only the `RUNTIME`
   * implementation can be exposed this way.
   * @see https://kubernetes.io/docs/concepts/services-networking/ingress/
   */
  public static ingress(options: McpGatewayIngressOptions = {}): McpGatewayExposure {
    return new McpGatewayExposure({ kind: 'ingress', options });
  }

  /** @internal */
  public readonly _spec: ExposureSpec;

  private constructor(spec: ExposureSpec) {
    this._spec = spec;
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
