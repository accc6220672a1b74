import type { ApiObject, Duration } from 'cdk8s';
import { Chart, Names } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { McpConnections, connectionsOf } from './connections';
import type { CredentialStore } from './credential-store';
import type { ControllerContext } from './gateway/controller';
import { CONNECT_PATH_PREFIX, GatewayCredentials } from './gateway/credentials';
import type { ExposureBinding } from './gateway/exposure';
import type { RuntimeContext } from './gateway/runtime';
import { METRICS_PORT, RUNTIME_RESERVED_PATHS, RuntimeDataPlane, renderRuntimeConfig, runtimeOnlyProblems } from './gateway/runtime';
import { gatewayApiDuration, httpRouteObject } from './gateway-api';
import type { HttpBackendRefSpec } from './gateway-api';
import type { McpGatewayMonitoring, McpGatewayMonitoringOptions } from './gateway-monitoring';
import { McpImages } from './images';
import { LABEL_COMPONENT, LABEL_INSTANCE, imageVersion, labelTree, recommendedLabels } from './labels';
import { McpGatewayExposure } from './mcp-gateway-exposure';
import { McpGatewayImplementation } from './mcp-gateway-implementation';
import type { McpGatewayLimits } from './mcp-gateway-limits';
import { validateLimits } from './mcp-gateway-limits';
import { routeNameFromPath } from './mcp-gateway-render';
import type { McpGatewayRouteOptions } from './mcp-gateway-route';
import { McpGatewayRoute } from './mcp-gateway-route';
import type { IMcpTarget } from './mcp-target';
import type { IMcpRoutePolicy } from './route-policy';
import { dnsLabelProblem, propChecks } from './validation';
import type { WorkloadOptions } from './workload-options';
import { mayRunSeveralPods } from './workload-options';

const COMPONENT = 'gateway';

/**
 * Properties of an `McpGateway`.
 *
 * Scaling, disruption budget, spreading and shutdown (`WorkloadOptions`) apply to the `RUNTIME`
 * implementation only. More than one pod (`replicas` or `autoscaling`) needs `sessionKey`, so every
 * replica can decrypt the session ids the others issued.
 */
export interface McpGatewayProps extends WorkloadOptions {
  /**
   * MCP endpoints of the gateway. More can be added with `addRoute`.
   * @default - none; add at least one with `addRoute`
   */
  readonly routes?: McpGatewayRouteOptions[];
  /**
   * What serves the routes: this project's runtime, or an MCP-aware controller already in the cluster.
   * @default McpGatewayImplementation.RUNTIME
   */
  readonly implementation?: McpGatewayImplementation;
  /**
   * How clients outside the cluster reach the gateway.
   * @default McpGatewayExposure.none() - a ClusterIP Service only
   */
  readonly exposure?: McpGatewayExposure;
  /**
   * Public base URL of the gateway, e.g. `https://mcp.example.com`; policies use it for OAuth metadata
   * (`resource`). Set it when TLS is terminated in front of the cluster.
   * @default - derived from the exposure when it names exactly one host, else unknown (the runtime
   * derives it from each request)
   */
  readonly publicUrl?: string;
  /**
   * Port the gateway listens on, and the `http` port of its Service (`RUNTIME` implementation only).
   * @default 8080
   */
  readonly port?: number;
  /**
   * Gateway runtime image. `RUNTIME` implementation only.
   * @default McpImages.GATEWAY
   */
  readonly image?: string;
  /**
   * CPU and memory of the gateway container (`RUNTIME` implementation only).
   * @default - requests 100m CPU / 128Mi memory, limits 1 CPU / 512Mi memory
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * AES-256 key (64 hex characters) that encrypts session ids, passed as `SESSION_KEY` (`RUNTIME`
   * implementation only). It must be a key of an existing Secret: cdk8s cannot generate one safely,
   * because the value would be written into the manifests. Sessions survive a move between replicas
   * (scale-out, rolling updates) because every replica shares it; required with more than one pod.
   * Create it with `kubectl create secret generic mcp-session --from-literal=key=$(openssl rand -hex 32)`.
   * @example kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, 'Key', 'mcp-session'), key: 'key' })
   * @default - a random key per pod, so sessions end when their pod does (allowed for a single replica only)
   */
  readonly sessionKey?: kplus.EnvValue;
  /**
   * How long the runtime lets in-flight requests finish after SIGTERM (`config.drainTimeout`). The pods'
   * default `terminationGracePeriod` follows it (`preStopDelay` + drain + 5 seconds). `RUNTIME` implementation only.
   * @default Duration.seconds(25)
   */
  readonly drainTimeout?: Duration;
  /**
   * Prometheus Operator ServiceMonitor and Grafana dashboard for the gateway (`RUNTIME` implementation
   * only). The ServiceMonitor needs the Prometheus Operator's CRDs in the cluster.
   * @default - no monitoring objects (the `metrics` port is served either way)
   */
  readonly monitoring?: McpGatewayMonitoringOptions;
  /**
   * Isolate the gateway and what it fronts with NetworkPolicies. The gateway's pods (`RUNTIME`) accept
   * connections only from the exposure path (the Gateway's proxies or the Ingress controller, see the
   * exposure's `proxyNamespace` / `controllerNamespace`) on the `http` port, and Prometheus on the
   * `metrics` port from any namespace; every `McpServer` and `KeycloakRealm` the routes use accepts this
   * gateway (its pods, or with a controller its Gateway's proxies). Add other clients, e.g. in-cluster
   * agents when the exposure is `none`, with `gateway.connections.allowFrom(...)`. Only ingress is
   * restricted. `false` emits no NetworkPolicy for the gateway and opens nothing on its targets.
   * @default true
   */
  readonly isolate?: boolean;
  /**
   * Limits on sessions, batches, replay buffers and request rates (`RUNTIME` implementation only).
   * @default - the runtime's defaults (see `McpGatewayLimits`); no rate limits
   */
  readonly limits?: McpGatewayLimits;
  /**
   * Where the gateway keeps each user's upstream credentials (`McpServer` `userCredential`), encrypted with a key
   * from a Secret. Required when a target needs a user credential; the gateway then serves the connect flow under
   * `/connect/` and the exposure routes that prefix to it. `RUNTIME` implementation only.
   * @default - no credential store; targets with a `userCredential` fail synthesis
   */
  readonly credentialStore?: CredentialStore;
}

/**
 * A gateway for MCP servers: one or more routes (MCP endpoints), each federating one or more targets into a
 * single MCP server, with sign-in and authorization policies attached per route.
 *
 * With the default `RUNTIME` implementation this deploys the `@cdk8s-mcp/gateway` runtime (Deployment,
 * Service, ConfigMap in agentgateway's configuration format); with `AGENTGATEWAY` or `KGATEWAY_V2_1` it emits
 * that controller's resources instead. `exposure` adds a Gateway API Gateway/HTTPRoute or an Ingress.
 *
 * @example
 * const gateway = new McpGateway(this, 'Gateway', {
 *   exposure: McpGatewayExposure.gateway(),
 * });
 * gateway.addRoute({ path: '/github/mcp', targets: [github] });
 */
export class McpGateway extends Construct {
  /** What serves the routes. */
  public readonly implementation: McpGatewayImplementation;
  /** How the gateway is exposed. */
  public readonly exposure: McpGatewayExposure;
  /** Port of the gateway runtime and its Service. */
  public readonly port: number;
  /**
   * Public base URL (`publicUrl`, or the one the exposure implies).
   * @default - unknown: the runtime derives it from each request
   */
  public readonly publicUrl?: string;
  /**
   * The runtime's Deployment.
   * @default - none with a controller-based implementation
   */
  public readonly deployment?: kplus.Deployment;
  /**
   * The runtime's Service, ports `http` and `metrics`.
   * @default - none with a controller-based implementation
   */
  public readonly service?: kplus.Service;
  /**
   * The ConfigMap holding `config.yaml`.
   * @default - none with a controller-based implementation
   */
  public readonly configMap?: kplus.ConfigMap;
  /**
   * The Gateway created by `McpGatewayExposure.gateway`.
   * @default - none with the other exposures
   */
  public readonly gatewayObject?: ApiObject;
  /**
   * The HorizontalPodAutoscaler, when `autoscaling` is set (`RUNTIME` implementation only).
   * @default - none
   */
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  /**
   * The PodDisruptionBudget, when there is one (see `disruptionBudget`).
   * @default - none
   */
  public readonly disruptionBudget?: ApiObject;
  /**
   * The ServiceMonitor and dashboard, when `monitoring` is set.
   * @default - none
   */
  public readonly monitoring?: McpGatewayMonitoring;

  /**
   * Who may connect to the gateway's pods (`RUNTIME`): the exposure path is allowed automatically; add
   * other clients with `connections.allowFrom(...)`. Has no NetworkPolicy with a controller-based
   * implementation (the controller runs the pods).
   */
  public readonly connections: McpConnections;

  private readonly _routes: McpGatewayRoute[] = [];
  private readonly isolate: boolean;
  private readonly podSelector: kplus.Pods;
  private readonly exposureBinding: ExposureBinding;
  /** This project's runtime, when no controller serves the routes. */
  private readonly runtime?: RuntimeDataPlane;
  private readonly image: string;
  private readonly props: McpGatewayProps;
  private readonly credentials: GatewayCredentials;

  constructor(scope: Construct, id: string, props: McpGatewayProps = {}) {
    super(scope, id);
    this.implementation = props.implementation ?? McpGatewayImplementation.RUNTIME;
    this.exposure = props.exposure ?? McpGatewayExposure.none();
    this.port = props.port ?? 8080;
    this.publicUrl = props.publicUrl ?? this.exposure._publicUrl();
    this.image = props.image ?? McpImages.GATEWAY;
    this.props = props;
    this.isolate = props.isolate ?? true;
    this.credentials = new GatewayCredentials(this, props.credentialStore, () => this._routes, this.publicUrl);
    // Routes, policies and NetworkPolicy rules may be added until synthesis; label everything just before.
    this.node.addValidation({ validate: () => { labelTree(this, this.labels); return []; } });
    const namespace = this.chartNamespace;
    this.podSelector = kplus.Pods.select(this, 'Pods', {
      labels: this.podSelectorLabels,
      namespaces: namespace ? kplus.Namespaces.select(this, 'PodsNamespace', { names: [namespace] }) : undefined,
    });
    this.connections = new McpConnections(this, 'Connections', {
      selector: this.podSelector,
      defaultPorts: [kplus.NetworkPolicyPort.tcp(this.port)],
      enabled: this.isolate && this.implementation === McpGatewayImplementation.RUNTIME,
    });

    if (!this.implementation._controller) {
      // No controller serves the routes: this project's runtime does.
      this.runtime = new RuntimeDataPlane(this.runtimeContext);
      this.configMap = this.runtime.configMap;
      this.deployment = this.runtime.deployment;
      this.service = this.runtime.service;
      this.autoscaler = this.runtime.autoscaler;
      this.disruptionBudget = this.runtime.disruptionBudget;
      this.monitoring = this.runtime.monitoring;
    }

    this.exposureBinding = this.exposure._bind({
      scope: this,
      isRuntime: this.isRuntime,
      implementationName: this.implementation.name,
      chartNamespace: namespace,
      isolated: this.isolate,
      routePaths: () => this._routes.flatMap((route) => this.routePaths(route)),
      prefixPaths: () => this.connectPaths,
      serviceName: () => this.service?.name,
    });
    this.gatewayObject = this.exposureBinding.gatewayObject;
    for (const source of this.exposureBinding.trafficSources ?? []) this.connections.allowFrom(source);
    if (this.port !== METRICS_PORT) {
      // Metrics are read-only and Prometheus runs wherever it was installed.
      this.connections.allowFrom(kplus.Namespaces.all(this, 'Prometheus'), { ports: [kplus.NetworkPolicyPort.tcp(METRICS_PORT)] });
    }

    for (const route of props.routes ?? []) {
      this.addRoute(route);
    }
    this.exposeConnectFlow();

    this.node.addValidation({ validate: () => this.validateGateway() });
    this.node.addValidation({ validate: () => validateLimits(this, props.limits) });
  }

  /** The routes of this gateway. */
  public get routes(): McpGatewayRoute[] {
    return [...this._routes];
  }

  /**
   * Adds an MCP endpoint.
   * @returns the route, to which more targets and policies can be added
   */
  public addRoute(options: McpGatewayRouteOptions): McpGatewayRoute {
    const route = McpGatewayRoute._create(this, this.uniqueRouteId(options), options);
    this._routes.push(route);
    route.node.addValidation({ validate: () => this.validateRoute(route) });
    this.exposeRoute(route);
    this.connectRoute(route);
    return route;
  }

  /** Lets the gateway reach the route's targets and sign-in providers through their NetworkPolicies. */
  private connectRoute(route: McpGatewayRoute): void {
    if (!this.isolate) return;
    const allow = (construct: unknown) => {
      const connections = connectionsOf(construct);
      for (const peer of connections ? this.dataPlane : []) connections!.allowFrom(peer);
    };
    const allowIssuers = () => route.policies.forEach((policy) => allow((policy as { issuer?: unknown }).issuer));
    // A target's credential may need another peer, e.g. the Keycloak realm that exchanges tokens.
    const allowTarget = (target: IMcpTarget) => [target, ...this.credentials.peers(target)].forEach(allow);
    route.targets.forEach(allowTarget);
    allowIssuers();
    route._onTargetAdded = allowTarget;
    const onPolicyAdded = route._onPolicyAdded;
    route._onPolicyAdded = () => {
      onPolicyAdded?.();
      allowIssuers();
    };
  }

  /**
   * The pods that connect to targets and sign-in providers: the runtime's pods, or with a controller the
   * proxies of the Gateway the routes attach to.
   */
  private get dataPlane(): kplus.INetworkPolicyPeer[] {
    return this.implementation === McpGatewayImplementation.RUNTIME ? [this.podSelector] : this.exposureBinding.trafficSources ?? [];
  }

  /** The route's Gateway API objects (HTTPRoute and the controller's resources), when the exposure uses Gateway API. */
  private exposeRoute(route: McpGatewayRoute): void {
    const exposure = this.exposureBinding;
    if (!exposure.usesGatewayApi) {
      return;
    }
    const controller = this.implementation._controller;
    const backendRef: HttpBackendRefSpec = controller
      ? controller.bindRoute(route, this.controllerContext)
      : { name: this.service!.name, port: this.port };
    const routeNamespace = exposure.crossNamespaceRoutes;
    const httpRoute = httpRouteObject(route, 'HTTPRoute', () => ({
      parentRefs: exposure.parentRefs(),
      ...(exposure.hostnames ? { hostnames: exposure.hostnames } : {}),
      rules: [{
        matches: this.routePaths(route).map((path) => ({ path: { type: 'Exact' as const, value: path } })),
        backendRefs: [routeNamespace ? { ...backendRef, namespace: this.chartNamespace } : backendRef],
        timeouts: { request: gatewayApiDuration(route.timeout.toMilliseconds()), backendRequest: gatewayApiDuration(route.timeout.toMilliseconds()) },
      }],
    }), routeNamespace ? { namespace: routeNamespace } : undefined);
    if (routeNamespace) {
      exposure.allowBackend({ group: backendRef.group ?? '', kind: backendRef.kind ?? 'Service', name: backendRef.name });
    }
    controller?.attachToHttpRoute(route, httpRoute, routeNamespace, this.controllerContext);
  }

  /**
   * Routes `/connect/` of the public host to the runtime, which serves the credential connect flow there (the
   * links users open and the OAuth providers' redirect URIs), when the exposure uses Gateway API; an Ingress
   * gets the prefix through `prefixPaths`.
   */
  private exposeConnectFlow(): void {
    if (!this.credentials.enabled || !this.exposureBinding.usesGatewayApi || !this.runtime) return;
    const exposure = this.exposureBinding;
    const routeNamespace = exposure.crossNamespaceRoutes;
    const backendRef: HttpBackendRefSpec = { name: this.service!.name, port: this.port };
    httpRouteObject(this, 'ConnectHTTPRoute', () => ({
      parentRefs: exposure.parentRefs(),
      ...(exposure.hostnames ? { hostnames: exposure.hostnames } : {}),
      rules: [{
        matches: this.connectPaths.map((path) => ({ path: { type: 'PathPrefix' as const, value: path } })),
        backendRefs: [routeNamespace ? { ...backendRef, namespace: this.chartNamespace } : backendRef],
      }],
    }), routeNamespace ? { namespace: routeNamespace } : undefined);
    if (routeNamespace) exposure.allowBackend({ group: '', kind: 'Service', name: backendRef.name });
  }

  /** Prefixes of the credential connect flow (Gateway API and Ingress prefixes match whole path segments). */
  private get connectPaths(): string[] {
    return this.credentials.enabled && this.runtime ? [CONNECT_PATH_PREFIX.replace(/\/+$/, '')] : [];
  }

  private get controllerContext(): ControllerContext {
    return { publicUrl: this.publicUrl, chartNamespace: this.chartNamespace };
  }

  /**
   * Attaches a policy to the route serving `path`.
   * @param path the MCP endpoint path of an existing route, e.g. `/github/mcp`
   */
  public addPolicy(path: string, policy: IMcpRoutePolicy): void {
    const route = this._routes.find((r) => r.path === path);
    if (!route) {
      throw new Error(
        `McpGateway ${this.node.path}: addPolicy: no route has path ${JSON.stringify(path)}; routes: `
          + `${this._routes.map((r) => r.path).join(', ') || 'none'}. Add the route first with addRoute().`,
      );
    }
    route.addPolicy(policy);
  }

  /**
   * The gateway configuration (agentgateway's standalone format) this gateway renders into its ConfigMap.
   * Computed on each call, so it reflects routes and policies added so far. Its shape is the gateway runtime's
   * `GatewayConfig` type (`@cdk8s-mcp/gateway`; JSON Schema `runtime/schema/config.schema.json`), returned as `any`
   * because jsii cannot publish that type's unions.
   */
  public renderConfig(): any {
    return renderRuntimeConfig(this.runtimeContext);
  }

  private get runtimeContext(): RuntimeContext {
    return {
      scope: this,
      props: this.props,
      port: this.port,
      image: this.image,
      podLabels: this.labels,
      routes: () => this._routes,
      publicUrl: this.publicUrl,
      routePaths: (route) => this.routePaths(route),
      credentials: this.credentials,
    };
  }

  /** Labels of the gateway's pods that its NetworkPolicy and its targets' policies select. */
  private get podSelectorLabels(): { [key: string]: string } {
    return { [LABEL_INSTANCE]: this.labels[LABEL_INSTANCE], [LABEL_COMPONENT]: COMPONENT };
  }

  private get labels(): { [key: string]: string } {
    return recommendedLabels({
      name: 'mcp-gateway',
      instance: Names.toDnsLabel(this),
      component: COMPONENT,
      version: this.isRuntime ? imageVersion(this.image) : undefined,
    });
  }

  private get isRuntime(): boolean {
    return this.implementation === McpGatewayImplementation.RUNTIME;
  }

  private get chartNamespace(): string | undefined {
    return Chart.of(this).namespace;
  }

  private uniqueRouteId(options: McpGatewayRouteOptions): string {
    const base = `Route-${options.name ?? routeNameFromPath(options.path)}`;
    let id = base;
    // Two routes on one path are reported by validation (with both named), not by a construct-id clash.
    for (let n = 2; this.node.tryFindChild(id); n++) id = `${base}-${n}`;
    return id;
  }

  /**
   * The endpoint path plus, for a route with sign-in, the OAuth discovery paths clients derive from it
   * (RFC 9728 protected resource metadata, RFC 8414 authorization server metadata, and the registration proxy).
   */
  private routePaths(route: McpGatewayRoute): string[] {
    const { policies } = route._renderPolicies(this.publicUrl);
    if (!policies.mcpAuthentication) {
      return [route.path];
    }
    return [
      route.path,
      `/.well-known/oauth-protected-resource${route.path}`,
      `/.well-known/oauth-authorization-server${route.path}`,
      `/.well-known/oauth-authorization-server${route.path}/client-registration`,
    ];
  }

  private validateGateway(): string[] {
    const { errors, check } = propChecks(this);
    if (this.runtime) {
      this.runtime.check(check, errors);
      this.credentials.check(check, mayRunSeveralPods(this.props));
    } else {
      errors.push(...runtimeOnlyProblems(this, this.props, this.implementation.name));
      const needing = this.credentials.credentialTargets.map(({ target }) => target.targetName);
      const problem = `is ${this.implementation.name}, which cannot keep and inject per-user credentials (targets ${needing.join(', ')} have a `
        + 'userCredential)';
      check(
        'implementation',
        needing.length === 0 ? undefined : problem,
        'Use the RUNTIME implementation for routes to those targets, or drop their userCredential.',
      );
    }
    if (this.publicUrl !== undefined && !/^https?:\/\/[^/?#]+$/.test(this.publicUrl)) {
      check('publicUrl', `${JSON.stringify(this.publicUrl)} is not a scheme and host without path`, 'Pass e.g. "https://mcp.example.com".');
    }
    check(
      'routes',
      this._routes.length === 0 ? 'is empty, so the gateway serves nothing' : undefined,
      "Pass routes or call addRoute({ path: '/mcp', targets: [...] }).",
    );
    const byPath = new Map<string, McpGatewayRoute>();
    const byName = new Map<string, McpGatewayRoute>();
    for (const route of this._routes) {
      const samePath = byPath.get(route.path);
      if (samePath) {
        check(`routes[${this._routes.indexOf(samePath)}] and routes[${this._routes.indexOf(route)}]`, `both use path ${JSON.stringify(route.path)}`,
          'Give each route its own path, or put both sets of targets in one route.');
      }
      byPath.set(route.path, route);
      const sameName = byName.get(route.routeName);
      if (sameName && !samePath) {
        check(
          `routes ${JSON.stringify(sameName.path)} and ${JSON.stringify(route.path)}`,
          `are both named ${JSON.stringify(route.routeName)}`,
          'Set a distinct name on one of them.',
        );
      }
      byName.set(route.routeName, route);
    }
    errors.push(...this.validateExposure());
    return errors;
  }

  private validateExposure(): string[] {
    const { errors, check } = propChecks(this);
    this.exposureBinding.check(check);
    return errors;
  }

  private validateRoute(route: McpGatewayRoute): string[] {
    const { errors, check } = propChecks(this, `route ${JSON.stringify(route.path)}`);
    if (!route.path.startsWith('/')) {
      check('path', 'must start with "/"', `Use e.g. "/${route.path}".`);
    } else if (/[\s?#]/.test(route.path)) {
      check('path', 'may not contain whitespace, "?" or "#"', 'Use a plain path such as "/github/mcp".');
    } else if (route.path.startsWith('/.well-known/')) {
      check('path', 'is under /.well-known/, which is reserved for OAuth discovery', 'Use e.g. "/github/mcp".');
    } else if (this.runtime && RUNTIME_RESERVED_PATHS.includes(route.path)) {
      check('path', `${route.path} is the runtime's health endpoint`, 'Use another path.');
    }
    check('name', dnsLabelProblem(route.routeName), 'Set name to e.g. "github".');
    const timeoutMillis = route.timeout.toMilliseconds();
    check(
      'timeout',
      !Number.isInteger(timeoutMillis) || timeoutMillis < 0 ? `${timeoutMillis}ms is not a whole number of milliseconds of at least 0` : undefined,
      'Use e.g. Duration.hours(1), or Duration.seconds(0) to turn the timeout off.',
    );
    check('serverName', route.serverName.trim() === '' ? 'is empty' : undefined, 'Omit it to use the route name.');
    const targets = route.targets;
    check(
      'targets',
      targets.length === 0 ? 'is empty, so the route serves nothing' : undefined,
      'Pass targets: [server] or call route.addTarget(server).',
    );
    const seen = new Set<string>();
    for (const target of targets) {
      const name = target.targetName;
      if (/[_+]/.test(name)) {
        check(
          'target name',
          `${JSON.stringify(name)} contains "_" or "+", which are reserved as delimiters of prefixed tool names and resource URIs`,
          'Use "-" instead.',
        );
      } else {
        check('target name', dnsLabelProblem(name), 'Rename the target (McpServer targetName or McpTarget.fromUrl\'s first argument).');
      }
      if (seen.has(name)) {
        check(
          'target name',
          `${JSON.stringify(name)} is used by two targets`,
          'Rename one: target names must be unique within a route (they prefix tool names).',
        );
      }
      seen.add(name);
      // An McpServer checks its own credential; a target from a URL has no construct to do it.
      if (target.userCredential && !Construct.isConstruct(target)) {
        for (const [prop, problem, fix] of target.userCredential._problems()) {
          check(`target ${JSON.stringify(name)} userCredential ${prop}`, problem, fix);
        }
      }
    }
    const { problems } = route._renderPolicies(this.publicUrl);
    for (const [problem, fix] of problems) check('policies', problem, fix);
    this.implementation._controller?.checkRoute(route, this.controllerContext, check);
    return errors;
  }
}
