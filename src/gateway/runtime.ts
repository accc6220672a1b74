/*
 * The RUNTIME implementation's data plane: this project's gateway runtime as a ConfigMap (agentgateway's
 * standalone config format), a Deployment with probes sized for it, a Service (`http`, `metrics`), the
 * workload options (HPA, PDB, spreading, shutdown) and monitoring, plus the checks of the props only it
 * reads. McpGateway creates it when no controller serves the routes. Internal: not exported from the index.
 */
import { createHash } from 'crypto';
import type { ApiObject } from 'cdk8s';
import { Duration, Lazy, Size, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { McpGatewayMonitoring } from '../gateway-monitoring';
import { LABEL_DOMAIN } from '../labels';
import { omitUndefined, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../manifest-helpers';
import type { McpGatewayProps } from '../mcp-gateway';
import { renderLimitsConfig, withRateLimits } from '../mcp-gateway-limits';
import { renderTarget } from '../mcp-gateway-render';
import type { McpGatewayRoute } from '../mcp-gateway-route';
import type { GatewayCredentials } from './credentials';
import type { PropCheck } from '../validation';
import { portProblem, propError } from '../validation';
import type { WorkloadContext } from '../workload-options';
import {
  DEFAULT_PRE_STOP_DELAY, RUNTIME_DEFAULT_DRAIN, applyWorkloadOptions, mayRunSeveralPods,
  podManagementOptions, workloadDeploymentProps, workloadLifecycle, workloadProblems,
} from '../workload-options';
import type * as config from './config-contract.generated';

/** Where the ConfigMap is mounted; the runtime image's documented `--config` location. */
const CONFIG_DIR = '/etc/mcp-gateway';
const CONFIG_KEY = 'config.yaml';
/** The runtime's Prometheus port (`config.statsAddr` default `0.0.0.0:15020`) and its loopback admin port. */
export const METRICS_PORT = 15020;
const ADMIN_PORT = 15000;
/** Non-root uid/gid of the gateway image (distroless `nonroot`). */
const GATEWAY_RUN_AS = { user: 65532, group: 65532 };
const CONFIG_HASH_ANNOTATION = `${LABEL_DOMAIN}/config-hash`;
/** Paths the runtime answers itself on every bind port. */
export const RUNTIME_RESERVED_PATHS = ['/healthz', '/readyz'];
/** The gateway image's Node.js (distroless nodejs, see runtime/Dockerfile): the only way to wait in a preStop hook there. */
const IMAGE_NODE = '/nodejs/bin/node';

/** What the runtime takes from its McpGateway. */
export interface RuntimeContext {
  /** The gateway: the runtime's objects are created under it (their ids and names stay the gateway's). */
  readonly scope: Construct;
  readonly props: McpGatewayProps;
  readonly port: number;
  readonly image: string;
  readonly podLabels: { [key: string]: string };
  readonly routes: () => McpGatewayRoute[];
  readonly publicUrl?: string;
  /** The endpoint and OAuth discovery paths of a route. */
  readonly routePaths: (route: McpGatewayRoute) => string[];
  /** Per-user upstream credentials: `config.credentials` and the environment it refers to. */
  readonly credentials: GatewayCredentials;
}

/**
 * The gateway configuration (agentgateway's standalone format) for the routes. Rendered even at their
 * defaults, so the drain and the pods' grace period, and the metrics port and the Service's `metrics` port,
 * cannot drift apart.
 */
export function renderRuntimeConfig(context: RuntimeContext): config.GatewayConfig {
  return {
    config: {
      drainTimeout: `${drainTimeout(context).toSeconds({ integral: false })}s`,
      statsAddr: `0.0.0.0:${METRICS_PORT}`,
      adminAddr: `127.0.0.1:${ADMIN_PORT}`,
      ...renderLimitsConfig(context.props.limits),
      ...(context.credentials.enabled ? { credentials: context.credentials.renderConfig() } : {}),
    },
    binds: [{
      port: context.port,
      listeners: [{
        name: 'default',
        protocol: 'HTTP',
        routes: context.routes().map((route) => withRateLimits(renderRoute(route, context), context.props.limits)),
      }],
    }],
  };
}

/** Props only the RUNTIME implementation reads: with a controller, the controller runs the pods. */
export function runtimeOnlyProblems(scope: Construct, props: McpGatewayProps, implementationName: string): string[] {
  const runtimeOnly: Array<[string, unknown]> = [
    ['port', props.port],
    ['image', props.image],
    ['resources', props.resources],
    ['sessionKey', props.sessionKey],
    ['replicas', props.replicas],
    ...podManagementOptions(props),
    ['drainTimeout', props.drainTimeout],
    ['monitoring', props.monitoring],
    ['limits', props.limits],
    ['credentialStore', props.credentialStore],
  ];
  return runtimeOnly
    .filter(([, value]) => value !== undefined)
    .map(([prop]) =>
      propError(
        scope,
        prop,
        `applies to the RUNTIME implementation only, not ${implementationName}`,
        `Drop ${prop}, or configure it on the controller that runs the ${implementationName} data plane.`,
      ),
    );
}

/** The runtime's objects for one gateway. */
export class RuntimeDataPlane {
  public readonly configMap: kplus.ConfigMap;
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  public readonly disruptionBudget?: ApiObject;
  public readonly monitoring?: McpGatewayMonitoring;

  constructor(private readonly context: RuntimeContext) {
    const { scope, props, port } = context;
    this.configMap = new kplus.ConfigMap(scope, 'Config', {
      data: { [CONFIG_KEY]: Lazy.any({ produce: () => this.configYaml() }) },
    });
    this.deployment = this.createDeployment();
    this.service = new kplus.Service(scope, 'Service', {
      selector: this.deployment,
      // A clash with the metrics port is reported by validation; building the Service must not throw first.
      ports: port === METRICS_PORT ? [{ name: 'http', port, targetPort: port }] : [
        { name: 'http', port, targetPort: port },
        { name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT },
      ],
    });
    const applied = applyWorkloadOptions(scope, this.deployment, props, this.workloadContext);
    this.autoscaler = applied.autoscaler;
    this.disruptionBudget = applied.disruptionBudget;
    if (props.monitoring) {
      this.monitoring = new McpGatewayMonitoring(scope, 'Monitoring', { ...props.monitoring, service: this.service });
    }
  }

  /** Port, image, scaling, shutdown and the session key shared by the replicas. */
  public check(check: PropCheck, errors: string[]): void {
    const { scope, props, port, image } = this.context;
    const portIssue = portProblem(port);
    check('port', portIssue, 'Omit it for the default 8080.');
    if (!portIssue && (port === METRICS_PORT || port === ADMIN_PORT)) {
      check('port', `${port} is taken by the runtime's ${port === METRICS_PORT ? 'metrics' : 'admin'} endpoint`, 'Pick another port such as 8080.');
    }
    errors.push(...workloadProblems(scope, props, this.workloadContext, this.deployment.containers));
    const drain = drainTimeout(this.context).toSeconds({ integral: false });
    if (!Number.isInteger(drain) || drain < 1) {
      errors.push(
        propError(
          scope,
          'drainTimeout',
          `${drain}s is not a whole number of seconds of at least 1`,
          'Set drainTimeout to whole seconds, e.g. Duration.seconds(25).',
        ),
      );
    }
    const secretRef = props.sessionKey?.valueFrom?.secretKeyRef;
    if (props.sessionKey === undefined && mayRunSeveralPods(props)) {
      errors.push(
        propError(
          scope,
          'sessionKey',
          'is missing, but the gateway may run more than one pod: each would encrypt session ids with its own random key, so sessions would break '
            + 'on scale-out and rolling updates',
          'Create a shared key once, `kubectl create secret generic mcp-session --from-literal=key=$(openssl rand -hex 32)`, and pass it: '
            + 'sessionKey: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, "SessionKey", "mcp-session"), key: "key" }).',
        ),
      );
    } else if (props.sessionKey !== undefined && (secretRef === undefined || !secretRef.key)) {
      errors.push(
        propError(
          scope,
          'sessionKey',
          'is not a key of a Secret: a literal or ConfigMap value would be stored in plain text in the manifests',
          'Keep the key in a Secret (`kubectl create secret generic mcp-session --from-literal=key=$(openssl rand -hex 32)`) and pass '
            + 'kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, "SessionKey", "mcp-session"), key: "key" }).',
        ),
      );
    }
    check('image', image.trim() === '' ? 'is empty' : undefined, 'Omit it to use the default gateway image.');
  }

  private get workloadContext(): WorkloadContext {
    return {
      drain: drainTimeout(this.context),
      preStopCommand: (seconds) => [IMAGE_NODE, '-e', `setTimeout(() => {}, ${seconds * 1000})`],
      defaultPreStopDelay: DEFAULT_PRE_STOP_DELAY,
    };
  }

  private createDeployment(): kplus.Deployment {
    const { scope, props, port, image } = this.context;
    const tmp = kplus.Volume.fromEmptyDir(scope, 'TmpVolume', 'tmp');
    const config = kplus.Volume.fromConfigMap(scope, 'ConfigVolume', this.configMap, { name: 'config' });
    const deployment = new kplus.Deployment(scope, 'Deployment', {
      ...workloadDeploymentProps(props, this.workloadContext),
      podMetadata: { labels: this.context.podLabels },
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(GATEWAY_RUN_AS),
      containers: [
        {
          name: 'gateway',
          image,
          // The default image is pinned to this library's version, so a cached copy is the right one.
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          args: ['--config', `${CONFIG_DIR}/${CONFIG_KEY}`],
          ports:
            port === METRICS_PORT
              ? [{ number: port, name: 'http' }]
              : [
                { number: port, name: 'http' },
                { number: METRICS_PORT, name: 'metrics' },
              ],
          envVariables: props.sessionKey ? { SESSION_KEY: props.sessionKey } : undefined,
          lifecycle: workloadLifecycle(props, this.workloadContext),
          // Sized for a Node.js process under a 1-CPU limit on a busy node: start-up (loading the config, warming
          // stdio targets) may take up to a minute, and a check may take 3 seconds before it counts as failed.
          startup: kplus.Probe.fromHttpGet('/healthz', {
            port,
            periodSeconds: Duration.seconds(2),
            timeoutSeconds: Duration.seconds(3),
            failureThreshold: 30,
          }),
          readiness: kplus.Probe.fromHttpGet('/readyz', {
            port,
            periodSeconds: Duration.seconds(5),
            timeoutSeconds: Duration.seconds(3),
            failureThreshold: 2,
          }),
          liveness: kplus.Probe.fromHttpGet('/healthz', {
            port,
            periodSeconds: Duration.seconds(10),
            timeoutSeconds: Duration.seconds(3),
            failureThreshold: 3,
          }),
          resources: props.resources ?? {
            cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
            memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
          },
          securityContext: restrictedContainerSecurityContext(GATEWAY_RUN_AS),
          volumeMounts: [
            { path: CONFIG_DIR, volume: config, readOnly: true },
            { path: '/tmp', volume: tmp },
          ],
        },
      ],
    });
    // Targets (and so credential providers) may be added until synthesis; their Secret keys are added just before.
    scope.node.addValidation({
      validate: () => {
        for (const [name, value] of Object.entries(this.context.credentials.env())) deployment.containers[0].env.addVariable(name, value);
        return [];
      },
    });
    // A changed config rolls the pods; without this the runtime would only see it on its own reload.
    deployment.podMetadata.addAnnotation(CONFIG_HASH_ANNOTATION, Lazy.any({ produce: () => this.configHash() }));
    return deployment;
  }

  private configYaml(): string {
    return Yaml.stringify(renderRuntimeConfig(this.context));
  }

  private configHash(): string {
    return createHash('sha256').update(this.configYaml()).digest('hex').slice(0, 16);
  }
}

function drainTimeout(context: RuntimeContext): Duration {
  return context.props.drainTimeout ?? RUNTIME_DEFAULT_DRAIN;
}

function renderRoute(route: McpGatewayRoute, context: RuntimeContext): config.Route {
  const { policies } = route._renderPolicies(context.publicUrl);
  return omitUndefined<config.Route>({
    name: route.routeName,
    matches: context.routePaths(route).map((path) => ({ path: { exact: path } })),
    backends: [{
      mcp: omitUndefined<config.McpBackend>({
        name: route.routeName,
        targets: route.targets.map(renderTarget),
        statefulMode: route.statefulMode,
        prefixMode: route.prefixMode,
        failureMode: route.failureMode,
        serverInfo: { name: route.serverName },
      }),
    }],
    policies: Object.keys(policies).length > 0 ? policies : undefined,
  });
}
