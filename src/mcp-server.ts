import { ApiObject, Chart, Duration, JsonPatch, Names, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { McpConnections } from './connections';
import { McpImages } from './images';
import {
  LABEL_COMPONENT, LABEL_DOMAIN, LABEL_INSTANCE, LABEL_NAME, imageVersion, labelTree, recommendedLabels,
} from './labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, serviceHost } from './manifest-helpers';
import { McpServerTransport } from './mcp-server-transport';
import { IMcpTarget, McpProtocol } from './mcp-target';
import { kmcpProblems, renderKmcpServer } from './server/kmcp';
import {
  absolutePathProblem,
  dnsLabelProblem,
  emptyProblem,
  envVarNameProblem,
  portProblem,
  propChecks,
  propError,
  serviceNameProblem,
} from './validation';
import {
  AppliedWorkload, DEFAULT_PRE_STOP_DELAY, RUNTIME_DEFAULT_DRAIN, WorkloadContext, WorkloadOptions,
  applyWorkloadOptions, replicasProblems, workloadDeploymentProps, workloadLifecycle, workloadProblems,
} from './workload-options';

/** Where the gateway image keeps its single executable (see docs/ARCHITECTURE.md, "Container contract"). */
const GATEWAY_EXECUTABLE = '/opt/mcp-gateway/bin/mcp-gateway';
/**
 * Shared emptyDir into which the init container copies the bridge: `mcp-gateway --copy-self DIR` writes the
 * executable with its own dynamic loader and shared libraries (`DIR/mcp-gateway`, `DIR/lib/ld.so`,
 * `DIR/lib/libc.so.6`, ...), so the bridge needs nothing from the server's image (which may be distroless,
 * Alpine or scratch) beyond its CPU architecture.
 */
const BRIDGE_DIR = '/mcp-bridge';
/**
 * The server container's entrypoint: the copied loader runs the copied executable with only the copied
 * libraries. No LD_LIBRARY_PATH is set, so the stdio server the bridge starts sees the image's own environment.
 */
const BRIDGE_COMMAND = [`${BRIDGE_DIR}/lib/ld.so`, '--library-path', `${BRIDGE_DIR}/lib`, `${BRIDGE_DIR}/mcp-gateway`];
const DEFAULT_HOME = '/home/mcp';
const DEFAULT_PORT = 3000;
const DEFAULT_USER = 1000;
const DEFAULT_GROUP = 1000;
const DEFAULT_STARTUP_TIMEOUT = Duration.seconds(120);
const PORT_NAME = 'mcp';
const SERVER_CONTAINER_NAME = 'mcp-server';
const STARTUP_PROBE_PERIOD_SECONDS = 5;

/** The server's target name on every object, so one label finds a server across workload modes. */
const LABEL_SERVER = `${LABEL_DOMAIN}/server`;
const COMPONENT = 'mcp-server';

/**
 * Which objects an `McpServer` emits. An enum-like class, the same shape as `McpGatewayImplementation`.
 */
export class McpServerWorkload {
  /** A Deployment, a Service and optionally a ServiceAccount, built with cdk8s-plus. */
  public static readonly KUBERNETES = new McpServerWorkload('Kubernetes');
  /**
   * One kmcp `kagent.dev/v1alpha1` `MCPServer` custom resource, for clusters that run the kmcp
   * controller; the controller creates the Deployment and Service. kmcp cannot express every prop:
   * synthesis fails naming the prop to drop (e.g. `env` from Secret keys, probes, the SSE transport).
   */
  public static readonly KMCP = new McpServerWorkload('kmcp');

  /** Identifier used in messages, e.g. `kmcp`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}

/**
 * A ServiceAccount that `McpServer` creates for the server, e.g. for AWS IRSA
 * (`eks.amazonaws.com/role-arn`) or GKE Workload Identity (`iam.gke.io/gcp-service-account`).
 */
export interface McpServerServiceAccountOptions {
  /**
   * Annotations of the ServiceAccount.
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * Labels of the ServiceAccount, in addition to the server's labels.
   * @default - the server's labels only
   */
  readonly labels?: { [key: string]: string };
}

/**
 * Everything about an `McpServer` except what it runs (shared by the constructor and the package factories).
 *
 * Scaling, disruption budget, spreading and shutdown come from `WorkloadOptions` (`KUBERNETES` workload;
 * kmcp takes only `replicas`). stdio sessions live in one pod, so more than one replica needs a gateway
 * that routes each session to the same pod (the cdk8s-mcp gateway and agentgateway do).
 */
export interface McpServerOptions extends WorkloadOptions {
  /**
   * How the server speaks MCP.
   * @default McpServerTransport.stdio()
   */
  readonly transport?: McpServerTransport;

  /**
   * Port the MCP endpoint is served on, in the pod and on the Service. For stdio servers the bridge
   * listens on it; HTTP servers must listen on it themselves.
   * @default 3000
   */
  readonly port?: number;

  /**
   * Name of the server in gateway routes (tool names get a `<targetName>_` prefix when a route
   * federates several servers). A DNS-1123 label.
   * @default - the construct id in lower case
   */
  readonly targetName?: string;

  /**
   * Name of the Kubernetes objects (Deployment, Service, ServiceAccount, or the kmcp MCPServer).
   * A DNS-1035 label, because it names a Service.
   * @default - a unique name generated by cdk8s from the construct path
   */
  readonly name?: string;

  /**
   * Which objects to emit: plain Kubernetes objects, or a kmcp `MCPServer` resource.
   * @default McpServerWorkload.KUBERNETES
   */
  readonly workload?: McpServerWorkload;

  /**
   * CPU and memory of the server container.
   * @default - requests 100m CPU and 256Mi memory; limits 1 CPU and 1Gi memory (room for an npx or uvx install)
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Environment variables: plain values (`kplus.EnvValue.fromValue`) or single keys of a Secret or
   * ConfigMap (`kplus.EnvValue.fromSecretValue`, `kplus.EnvValue.fromConfigMap`). They override the
   * defaults `HOME`, `XDG_CACHE_HOME`, `npm_config_cache` and `UV_CACHE_DIR`.
   * @default - only the defaults
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * Whole Secrets or ConfigMaps as environment variables (`kplus.Env.fromSecret`, `kplus.Env.fromConfigMap`).
   * @default - none
   */
  readonly envFrom?: kplus.EnvFrom[];

  /**
   * Volumes to mount in the server container, e.g. a Secret or ConfigMap as files
   * (`{ path: '/etc/github', volume: kplus.Volume.fromSecret(this, 'Creds', secret) }`).
   * `/tmp`, the home directory and `/mcp-bridge` are taken.
   * @default - none
   */
  readonly volumeMounts?: kplus.VolumeMount[];

  /**
   * Create a ServiceAccount for the server (for workload identity). Mutually exclusive with `serviceAccountName`.
   * @default - no ServiceAccount is created
   */
  readonly serviceAccount?: McpServerServiceAccountOptions;

  /**
   * Run the server as an existing ServiceAccount. Mutually exclusive with `serviceAccount`.
   * @default - no ServiceAccount, and no token is mounted
   */
  readonly serviceAccountName?: string;

  /**
   * Secrets holding registry credentials for private images.
   * @default - none
   */
  readonly imagePullSecrets?: kplus.ISecret[];

  /**
   * When to pull the images.
   * @default kplus.ImagePullPolicy.IF_NOT_PRESENT (the default images are pinned tags)
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * Schedule only on nodes with these labels. For affinity and spreading use the cdk8s-plus API on
   * `deployment.scheduling` (KUBERNETES workload).
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };

  /**
   * Taints the pods tolerate, e.g. `kplus.NodeTaintQuery.is('dedicated', 'mcp')`.
   * @default - none
   */
  readonly tolerations?: kplus.NodeTaintQuery[];

  /**
   * Extra labels of the pods. `app.kubernetes.io/name` and `app.kubernetes.io/instance` are the
   * selector and cannot be set.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations of the pods.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * How long the server may take to start before Kubernetes restarts it. `npx` and `uvx` download
   * the package on first start, which takes from seconds to minutes. Becomes the startup probe; with
   * the kmcp workload it becomes kmcp's `timeout`.
   * @default Duration.seconds(120)
   */
  readonly startupTimeout?: Duration;

  /**
   * Readiness probe of the server container.
   * @default - stdio: HTTP GET `/readyz` of the bridge; HTTP servers: a TCP connection to the port
   */
  readonly readiness?: kplus.Probe;

  /**
   * Liveness probe of the server container.
   * @default - stdio: HTTP GET `/healthz` of the bridge; HTTP servers: a TCP connection to the port
   */
  readonly liveness?: kplus.Probe;

  /**
   * Numeric user id the containers run as (never root).
   * @default 1000
   */
  readonly user?: number;

  /**
   * Numeric group id of the containers, also the `fsGroup` of the volumes.
   * @default 1000
   */
  readonly group?: number;

  /**
   * Mount the image's file system read-only. The home directory and `/tmp` are writable either way.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;

  /**
   * Writable home directory (an emptyDir): `HOME`, and the npm, uv and XDG caches below it.
   * @default "/home/mcp"
   */
  readonly home?: string;

  /**
   * Isolate the pods for ingress with a NetworkPolicy: only the gateways whose routes target this server
   * (and peers added with `connections.allowFrom`) may connect. Without it any pod in the cluster can call
   * the server directly, around the gateway's sign-in and authorization. Only ingress is restricted.
   * @default true
   */
  readonly isolate?: boolean;

  /**
   * Image of the cdk8s-mcp gateway, which provides the stdio bridge (copied into the pod with
   * `mcp-gateway --copy-self DIR`). Not used by HTTP servers, nor by the kmcp workload (kmcp brings its own).
   * @default McpImages.GATEWAY
   */
  readonly gatewayImage?: string;
}

/** Props of `McpServer`. */
export interface McpServerProps extends McpServerOptions {
  /**
   * Image of the server. It must contain the program in `command`; for stdio servers nothing else (the
   * bridge brings its own libc), but it must be built for the nodes' CPU architecture, like the gateway image.
   */
  readonly image: string;

  /**
   * Program that runs the server. Required for stdio servers: the bridge becomes the container
   * entrypoint and starts this command as its child.
   * @default - the image's entrypoint (HTTP servers only)
   */
  readonly command?: string[];

  /**
   * Arguments of the program.
   * @default - none (HTTP servers: the image's CMD when `command` is not set either)
   */
  readonly args?: string[];
}

/** Props of `McpServer.fromNpmPackage`. */
export interface McpServerNpmPackageProps extends McpServerOptions {
  /** npm package of the server, e.g. `@modelcontextprotocol/server-everything`. */
  readonly package: string;
  /**
   * Version or range of the package. Pin it: an unpinned package changes under you on every restart.
   * @default "latest"
   */
  readonly version?: string;
  /**
   * Arguments after the package name.
   * @default - none
   */
  readonly args?: string[];
  /**
   * Image that provides `npx`.
   * @default McpImages.NODE
   */
  readonly image?: string;
}

/** Props of `McpServer.fromUvxPackage`. */
export interface McpServerUvxPackageProps extends McpServerOptions {
  /** PyPI package of the server, e.g. `mcp-server-fetch`. */
  readonly package: string;
  /**
   * Exact version of the package. Pin it: an unpinned package changes under you on every restart.
   * @default - the newest release
   */
  readonly version?: string;
  /**
   * Command the package installs, when it is not named like the package (`uvx --from <package> <executable>`).
   * @default - the package name
   */
  readonly executable?: string;
  /**
   * Arguments after the command.
   * @default - none
   */
  readonly args?: string[];
  /**
   * Image that provides `uvx`.
   * @default McpImages.UV
   */
  readonly image?: string;
}

/**
 * An MCP server running in the cluster: a Deployment with secure defaults, health probes and a
 * ClusterIP Service (or a kmcp `MCPServer` resource), usable as a gateway target.
 *
 * stdio servers are bridged to Streamable HTTP inside the pod: an init container copies the
 * cdk8s-mcp bridge, with its own loader and libraries, into a shared emptyDir and the server container
 * runs it as its entrypoint, with the server's command as its child (the pattern kmcp uses with
 * agentgateway). The image needs no libc of its own: distroless, Alpine and scratch images work.
 *
 * @example
 * const everything = McpServer.fromNpmPackage(chart, 'everything', {
 *   package: '@modelcontextprotocol/server-everything',
 *   version: '2026.8.31',
 * });
 */
export class McpServer extends Construct implements IMcpTarget {
  /**
   * A stdio server published on npm, run with `npx` in a Node.js image.
   */
  public static fromNpmPackage(scope: Construct, id: string, props: McpServerNpmPackageProps): McpServer {
    const { package: packageName, version, args, image, ...options } = props;
    const server = new McpServer(scope, id, {
      ...options,
      image: image ?? McpImages.NODE,
      command: ['npx', '--yes', `${packageName}@${version ?? 'latest'}`],
      args,
    });
    server.node.addValidation({
      validate: () => {
        const problem = emptyProblem(packageName) ?? emptyProblem(version === undefined ? 'latest' : version);
        return problem ? [propError(server, 'package or version', problem, 'Set package to the npm package name and version to its version, e.g. { package: "@modelcontextprotocol/server-everything", version: "2026.8.31" }.')] : [];
      },
    });
    return server;
  }

  /**
   * A stdio server published on PyPI, run with `uvx` in a uv image.
   */
  public static fromUvxPackage(scope: Construct, id: string, props: McpServerUvxPackageProps): McpServer {
    const { package: packageName, version, executable, args, image, ...options } = props;
    const command = executable === undefined
      ? ['uvx', version === undefined ? packageName : `${packageName}@${version}`]
      : ['uvx', '--from', version === undefined ? packageName : `${packageName}==${version}`, executable];
    const server = new McpServer(scope, id, { ...options, image: image ?? McpImages.UV, command, args });
    server.node.addValidation({
      validate: () => {
        const problem = emptyProblem(packageName) ?? (version === undefined ? undefined : emptyProblem(version)) ?? (executable === undefined ? undefined : emptyProblem(executable));
        return problem ? [propError(server, 'package, version or executable', problem, 'Set package to the PyPI package name, e.g. { package: "mcp-server-fetch", version: "2025.4.7" }.')] : [];
      },
    });
    return server;
  }

  /** Name of the server in gateway routes (`targetName`, or the construct id in lower case). */
  public readonly targetName: string;
  /** Protocol the pod serves on the network; stdio servers are bridged to Streamable HTTP. */
  public readonly protocol: McpProtocol;
  /** In-cluster URL of the MCP endpoint, e.g. `http://github-mcp.tools.svc.cluster.local:3000/mcp`. */
  public readonly url: string;
  /** Host of `url`: the Service's cluster DNS name, or its short name when the chart has no namespace. */
  public readonly host: string;
  /** Port of the MCP endpoint, in the pod and on the Service. */
  public readonly port: number;
  /** Path of the MCP endpoint, e.g. `/mcp`. */
  public readonly path: string;
  /**
   * Name of the Service in front of the server (kmcp names it after the MCPServer too). Always set
   * for an `McpServer`; optional only because `IMcpTarget` also describes servers outside the cluster.
   * @default - always `name`
   */
  public readonly serviceName?: string;
  /**
   * Namespace of the Service: the chart's namespace.
   * @default - the chart has no namespace; `url` then uses the short Service name
   */
  public readonly serviceNamespace?: string;
  /** Name of the Kubernetes objects of this server. */
  public readonly name: string;
  /** How the server speaks MCP. */
  public readonly transport: McpServerTransport;
  /** Which objects this server emits. */
  public readonly workload: McpServerWorkload;
  private readonly _deployment?: kplus.Deployment;
  private readonly renderProblem?: string;
  private readonly _service?: kplus.Service;
  /**
   * The ServiceAccount the pods run as.
   * @default - none
   */
  public readonly serviceAccount?: kplus.IServiceAccount;
  /**
   * The HorizontalPodAutoscaler, when `autoscaling` is set.
   * @default - none
   */
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  /**
   * The PodDisruptionBudget, when there is one (see `disruptionBudget`).
   * @default - none
   */
  public readonly disruptionBudget?: ApiObject;
  /**
   * The kmcp `MCPServer` resource.
   * @default - undefined with the KUBERNETES workload
   */
  public readonly kmcpResource?: ApiObject;
  /**
   * Who may connect to the server's pods: the gateways that route to it are allowed automatically; add
   * other peers with `connections.allowFrom(...)`.
   */
  public readonly connections: McpConnections;

  public constructor(scope: Construct, id: string, props: McpServerProps) {
    super(scope, id);
    this.transport = props.transport ?? McpServerTransport.stdio();
    this.workload = props.workload ?? McpServerWorkload.KUBERNETES;
    this.port = props.port ?? DEFAULT_PORT;
    this.path = this.transport.path;
    this.protocol = this.transport.protocol;
    this.targetName = props.targetName ?? id.toLowerCase();
    // Names.toDnsLabel keeps characters such as "_" from construct ids; a Service name cannot have them.
    this.name = props.name ?? Names.toDnsLabel(this).replace(/[^a-z0-9-]/g, '-');
    this.serviceName = this.name;
    this.serviceNamespace = Chart.of(this).namespace;
    this.host = serviceHost(this.name, this.serviceNamespace);
    this.url = `http://${this.host}:${this.port}${this.path}`;

    this.node.addValidation({ validate: () => this.validateProps(props) });
    // Objects may be added until synthesis (e.g. rules of the NetworkPolicy); label them all just before.
    this.node.addValidation({ validate: () => { labelTree(this, this.labels(props)); return []; } });

    this.connections = new McpConnections(this, 'Connections', {
      // kmcp labels its pods app.kubernetes.io/name and instance with the MCPServer's name.
      selector: kplus.Pods.select(this, 'Pods', {
        labels: this.workload === McpServerWorkload.KMCP ? { [LABEL_NAME]: this.name, [LABEL_INSTANCE]: this.name } : this.selectorLabels(),
      }),
      defaultPorts: [kplus.NetworkPolicyPort.tcp(this.port)],
      enabled: props.isolate ?? true,
    });

    const home = props.home ?? DEFAULT_HOME;
    const tmpVolume = kplus.Volume.fromEmptyDir(this, 'TmpVolume', 'tmp');
    const homeVolume = kplus.Volume.fromEmptyDir(this, 'HomeVolume', 'home');
    const runAs = { user: props.user ?? DEFAULT_USER, group: props.group ?? DEFAULT_GROUP };
    const securityContext = restrictedContainerSecurityContext(runAs, props.readOnlyRootFilesystem ?? true);
    const server: kplus.ContainerProps = {
      name: SERVER_CONTAINER_NAME,
      image: props.image,
      imagePullPolicy: props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: props.command,
      args: props.args,
      ports: [{ number: this.port, name: PORT_NAME }],
      envVariables: {
        HOME: kplus.EnvValue.fromValue(home),
        XDG_CACHE_HOME: kplus.EnvValue.fromValue(`${home}/.cache`),
        npm_config_cache: kplus.EnvValue.fromValue(`${home}/.npm`),
        UV_CACHE_DIR: kplus.EnvValue.fromValue(`${home}/.cache/uv`),
        ...props.env,
      },
      envFrom: props.envFrom,
      volumeMounts: [
        { volume: tmpVolume, path: '/tmp' },
        { volume: homeVolume, path: home },
        ...(props.volumeMounts ?? []),
      ],
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
        memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
      },
      securityContext,
    };

    if (this.workload === McpServerWorkload.KMCP) {
      try {
        this.kmcpResource = renderKmcpServer(this, props, server, {
          name: this.name, port: this.port, path: this.path, isStdio: this.transport.isStdio, labels: this.labels(props),
          podLabels: { ...props.podLabels, [LABEL_COMPONENT]: COMPONENT, [LABEL_SERVER]: this.targetName },
          runAs: { user: props.user ?? DEFAULT_USER, group: props.group ?? DEFAULT_GROUP },
          startupTimeout: props.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT,
        });
      } catch (error) {
        // Reported with every other problem by validation, instead of one problem per synthesis.
        this.renderProblem = (error as Error).message;
      }
      return;
    }

    const labels = this.labels(props);
    if (props.serviceAccount) {
      this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
        metadata: {
          name: this.name,
          labels: { ...props.serviceAccount.labels, ...labels },
          annotations: props.serviceAccount.annotations,
        },
      });
    } else if (props.serviceAccountName !== undefined) {
      this.serviceAccount = kplus.ServiceAccount.fromServiceAccountName(this, 'ServiceAccount', props.serviceAccountName);
    }

    const workload = this.workloadContext(props);
    const deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      ...workloadDeploymentProps(props, workload),
      select: false,
      podMetadata: { labels: { ...props.podLabels, ...labels }, annotations: props.podAnnotations },
      serviceAccount: this.serviceAccount,
      // The token is an API credential; only servers that asked for an identity get one.
      automountServiceAccountToken: this.serviceAccount !== undefined,
      securityContext: restrictedPodSecurityContext(runAs),
    });
    deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels() }));
    this._deployment = deployment;

    const startupTimeout = props.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT;
    const startupFailures = Math.max(1, Math.ceil(startupTimeout.toSeconds() / STARTUP_PROBE_PERIOD_SECONDS));
    const probeTiming = { timeoutSeconds: Duration.seconds(3) };
    const startupTiming = { ...probeTiming, periodSeconds: Duration.seconds(STARTUP_PROBE_PERIOD_SECONDS), failureThreshold: startupFailures };
    const readinessTiming = { ...probeTiming, periodSeconds: Duration.seconds(5), failureThreshold: 2 };
    const livenessTiming = { ...probeTiming, periodSeconds: Duration.seconds(10), failureThreshold: 3 };

    if (this.transport.isStdio) {
      const bridgeVolume = kplus.Volume.fromEmptyDir(this, 'BridgeVolume', 'mcp-bridge');
      deployment.addInitContainer({
        name: 'copy-bridge',
        image: props.gatewayImage ?? McpImages.GATEWAY,
        imagePullPolicy: server.imagePullPolicy,
        command: [GATEWAY_EXECUTABLE, '--copy-self', BRIDGE_DIR],
        volumeMounts: [{ volume: bridgeVolume, path: BRIDGE_DIR }],
        resources: {
          cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(500) },
          memory: { request: Size.mebibytes(32), limit: Size.mebibytes(256) },
        },
        // The copy goes to the emptyDir; the gateway image itself is never written to.
        securityContext: restrictedContainerSecurityContext(runAs),
      });
      deployment.addContainer({
        ...server,
        lifecycle: workloadLifecycle(props, workload),
        command: [...BRIDGE_COMMAND],
        args: ['--host', '0.0.0.0', '--port', String(this.port), '--', ...(props.command ?? []), ...(props.args ?? [])],
        volumeMounts: [...server.volumeMounts!, { volume: bridgeVolume, path: BRIDGE_DIR, readOnly: true }],
        // /readyz, not /healthz, for start-up: the cold start of the child (npx/uvx install) is what it waits for.
        startup: kplus.Probe.fromHttpGet('/readyz', { port: this.port, ...startupTiming }),
        readiness: props.readiness ?? kplus.Probe.fromHttpGet('/readyz', { port: this.port, ...readinessTiming }),
        liveness: props.liveness ?? kplus.Probe.fromHttpGet('/healthz', { port: this.port, ...livenessTiming }),
      });
    } else {
      deployment.addContainer({
        ...server,
        lifecycle: workloadLifecycle(props, workload),
        startup: kplus.Probe.fromTcpSocket({ port: this.port, ...startupTiming }),
        readiness: props.readiness ?? kplus.Probe.fromTcpSocket({ port: this.port, ...readinessTiming }),
        liveness: props.liveness ?? kplus.Probe.fromTcpSocket({ port: this.port, ...livenessTiming }),
      });
    }

    const podSpec = ApiObject.of(deployment);
    const pullSecrets = props.imagePullSecrets ?? [];
    if (pullSecrets.length > 0) {
      // cdk8s-plus models a single registry secret (`dockerRegistryAuth`); pods accept a list.
      podSpec.addJsonPatch(JsonPatch.add('/spec/template/spec/imagePullSecrets', pullSecrets.map(s => ({ name: s.name }))));
    }
    if (props.nodeSelector && Object.keys(props.nodeSelector).length > 0) {
      podSpec.addJsonPatch(JsonPatch.add('/spec/template/spec/nodeSelector', { ...props.nodeSelector }));
    }
    if (props.tolerations && props.tolerations.length > 0) {
      deployment.scheduling.tolerate(kplus.Node.tainted(...props.tolerations));
    }
    const applied: AppliedWorkload = applyWorkloadOptions(this, deployment, props, workload);
    this.autoscaler = applied.autoscaler;
    this.disruptionBudget = applied.disruptionBudget;

    const service = new kplus.Service(this, 'Service', {
      metadata: {
        name: this.name,
        labels,
        annotations: {
          'agentgateway.dev/mcp-path': this.path,
          'agentgateway.dev/mcp-target-name': this.targetName,
        },
      },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: PORT_NAME, port: this.port, targetPort: this.port }],
    });
    for (const [key, value] of Object.entries(this.selectorLabels())) service.selectLabel(key, value);
    // cdk8s-plus has no appProtocol; agentgateway's Service selectors require it to treat the port as MCP.
    const appProtocol = this.protocol === McpProtocol.SSE ? 'agentgateway.dev/mcp-sse' : 'agentgateway.dev/mcp';
    ApiObject.of(service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', appProtocol));
    this._service = service;
  }

  /**
   * The Deployment, for further cdk8s-plus configuration (e.g. `deployment.scheduling.attract(...)`).
   * Only the `KUBERNETES` workload has one: with kmcp the controller creates it, and reading this fails with
   * a message saying so (use `nodeSelector` and `tolerations` there).
   */
  public get deployment(): kplus.Deployment {
    if (!this._deployment) throw new Error(this.kmcpOnly('deployment', 'the kmcp controller creates the Deployment', 'Set nodeSelector and tolerations as props'));
    return this._deployment;
  }

  /**
   * The Service. Only the `KUBERNETES` workload has one: with kmcp the controller creates it (named `name`),
   * and reading this fails with a message saying so.
   */
  public get service(): kplus.Service {
    if (!this._service) throw new Error(this.kmcpOnly('service', 'the kmcp controller creates the Service', 'Use serviceName and port'));
    return this._service;
  }

  private kmcpOnly(member: string, why: string, instead: string): string {
    return propError(this, member, `does not exist with workload McpServerWorkload.KMCP: ${why}`, `${instead}, or use workload McpServerWorkload.KUBERNETES.`);
  }

  private workloadContext(props: McpServerProps): WorkloadContext {
    return {
      // The stdio bridge is the gateway runtime, which drains for its default; HTTP servers get the same budget.
      drain: RUNTIME_DEFAULT_DRAIN,
      preStopCommand: seconds => ['sleep', String(seconds)],
      // Only the default images are known to have `sleep`; a failing preStop hook would delay every shutdown.
      defaultPreStopDelay: props.image === McpImages.NODE || props.image === McpImages.UV ? DEFAULT_PRE_STOP_DELAY : Duration.seconds(0),
      labels: this.labels(props),
    };
  }

  /** Labels that select the pods; they never change, because a Deployment's selector is immutable. */
  private selectorLabels(): { [key: string]: string } {
    return { [LABEL_NAME]: this.targetName, [LABEL_INSTANCE]: this.name };
  }

  private labels(props: McpServerProps): { [key: string]: string } {
    return {
      ...recommendedLabels({ name: this.targetName, instance: this.name, component: COMPONENT, version: serverVersion(props) }),
      ...this.selectorLabels(),
      [LABEL_SERVER]: this.targetName,
    };
  }

  private validateProps(props: McpServerProps): string[] {
    const { errors, check } = propChecks(this);

    check('image', emptyProblem(props.image), 'Set image to the container image of the server, e.g. "ghcr.io/github/github-mcp-server:v0.20.1".');
    check('port', portProblem(this.port), 'Set port to a number between 1 and 65535 (default 3000).');
    check('targetName', dnsLabelProblem(this.targetName), props.targetName === undefined
      ? `The default comes from the construct id "${this.node.id}"; set targetName to a DNS-1123 label such as "github".`
      : 'Set targetName to a DNS-1123 label such as "github".');
    check('name', serviceNameProblem(this.name), props.name === undefined
      ? 'The default comes from the construct path; set name to a DNS-1035 label such as "github-mcp".'
      : 'Set name to a DNS-1035 label such as "github-mcp".');
    errors.push(...(this._deployment
      ? workloadProblems(this, props, this.workloadContext(props), this._deployment.containers)
      : replicasProblems(this, props.replicas)));
    if (!this.transport.isStdio) {
      check('transport path', absolutePathProblem(this.path), 'Pass a path starting with "/", e.g. McpServerTransport.streamableHttp({ path: "/mcp" }).');
    }
    if (this.transport.isStdio && (props.command === undefined || props.command.length === 0 || props.command.some(part => part === ''))) {
      check('command', props.command === undefined ? 'is missing for a stdio server' : 'is empty or has an empty element',
        'The bridge replaces the image entrypoint and starts command as its child; set command to the program that speaks MCP on stdin, e.g. ["npx", "--yes", "my-mcp-server@1.0.0"], or use McpServer.fromNpmPackage / fromUvxPackage.');
    }
    if (props.serviceAccount !== undefined && props.serviceAccountName !== undefined) {
      check('serviceAccount and serviceAccountName', 'are both set', 'Set serviceAccount to create a ServiceAccount for this server, or serviceAccountName to use an existing one, not both.');
    }
    if (props.serviceAccountName !== undefined) {
      check('serviceAccountName', emptyProblem(props.serviceAccountName), 'Set serviceAccountName to the name of an existing ServiceAccount, or leave it out.');
    }
    if (props.user === 0) {
      check('user', 'is 0 (root)', 'Containers run as non-root; set user to the non-zero uid the image expects, e.g. 1000.');
    }
    if (props.startupTimeout !== undefined && props.startupTimeout.toSeconds() < STARTUP_PROBE_PERIOD_SECONDS) {
      check('startupTimeout', `${props.startupTimeout.toSeconds()}s is shorter than one probe period`, `Set startupTimeout to at least Duration.seconds(${STARTUP_PROBE_PERIOD_SECONDS}).`);
    }
    const home = props.home ?? DEFAULT_HOME;
    check('home', absolutePathProblem(home), 'Set home to an absolute path such as "/home/mcp".');

    for (const [name, value] of Object.entries(props.env ?? {})) {
      check(`env "${name}"`, envVarNameProblem(name), 'Rename the variable.');
      const ref = value.valueFrom?.secretKeyRef ?? value.valueFrom?.configMapKeyRef;
      if (ref && emptyProblem(ref.key)) {
        const kind = value.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
        check(`env "${name}"`, `references ${kind} "${ref.name}" without a key`,
          `Name the key, e.g. kplus.EnvValue.fromSecretValue({ secret, key: "token" }), or pass the whole ${kind} with envFrom.`);
      }
    }
    const reserved = ['/tmp', home, BRIDGE_DIR];
    (props.volumeMounts ?? []).forEach((mount, index) => {
      const prop = `volumeMounts[${index}].path`;
      const pathProblem = absolutePathProblem(mount.path);
      check(prop, pathProblem, 'Mount volumes at absolute paths, e.g. "/etc/mcp".');
      if (!pathProblem && reserved.includes(mount.path.replace(/\/+$/, ''))) {
        check(prop, `"${mount.path}" is already mounted by McpServer`, `Choose another path; ${reserved.join(', ')} are taken.`);
      }
    });
    for (const key of Object.keys(props.podLabels ?? {})) {
      if (key === LABEL_NAME || key === LABEL_INSTANCE) {
        check(`podLabels "${key}"`, 'is the pod selector of the server', 'Drop it; set targetName or name to change it.');
      }
    }

    if (this.workload === McpServerWorkload.KMCP) errors.push(...kmcpProblems(this, props, this.protocol));
    check('props', this.renderProblem === undefined ? undefined : `could not be rendered as a kmcp MCPServer: ${this.renderProblem.replace(/\.$/, '')}`, 'Fix what that message names.');
    return errors;
  }
}

/**
 * `app.kubernetes.io/version` of a server: the package version for `npx`/`uvx` commands (the image only
 * provides the package manager), else the image tag.
 */
function serverVersion(props: McpServerProps): string | undefined {
  const [program, ...rest] = props.command ?? [];
  if (program === 'npx' || program === 'uvx') {
    const spec = rest.filter((arg) => !arg.startsWith('-')).find((arg) => /[@=]/.test(arg.slice(1)));
    if (spec) return spec.slice(Math.max(spec.lastIndexOf('@'), spec.lastIndexOf('=')) + 1);
  }
  return imageVersion(props.image ?? '');
}
