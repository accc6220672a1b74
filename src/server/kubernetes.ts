/*
 * The KUBERNETES workload of McpServer: a Deployment (the stdio bridge copied in by an init container, or
 * the HTTP server itself, with startup/readiness/liveness probes), a ClusterIP Service with agentgateway's
 * MCP appProtocol, an optional ServiceAccount and the workload options. Internal: not exported from the index.
 */
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { McpImages } from '../images';
import type { RunAs } from '../manifest-helpers';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../manifest-helpers';
import type { McpServerProps } from '../mcp-server';
import { McpProtocol } from '../mcp-target';
import type { AppliedWorkload, WorkloadContext } from '../workload-options';
import { applyWorkloadOptions, workloadDeploymentProps, workloadLifecycle } from '../workload-options';

/** Where the gateway image keeps its single executable (see docs/ARCHITECTURE.md, "Container contract"). */
const GATEWAY_EXECUTABLE = '/opt/mcp-gateway/bin/mcp-gateway';
/**
 * Shared emptyDir into which the init container copies the bridge: `mcp-gateway --copy-self DIR` writes the
 * executable with its own dynamic loader and shared libraries (`DIR/mcp-gateway`, `DIR/lib/ld.so`,
 * `DIR/lib/libc.so.6`, ...), so the bridge needs nothing from the server's image (which may be distroless,
 * Alpine or scratch) beyond its CPU architecture.
 */
export const BRIDGE_DIR = '/mcp-bridge';
/**
 * The server container's entrypoint: the copied loader runs the copied executable with only the copied
 * libraries. No LD_LIBRARY_PATH is set, so the stdio server the bridge starts sees the image's own environment.
 */
const BRIDGE_COMMAND = [`${BRIDGE_DIR}/lib/ld.so`, '--library-path', `${BRIDGE_DIR}/lib`, `${BRIDGE_DIR}/mcp-gateway`];
export const DEFAULT_STARTUP_TIMEOUT = Duration.seconds(120);
export const PORT_NAME = 'mcp';
export const STARTUP_PROBE_PERIOD_SECONDS = 5;

/** What the objects take from the McpServer beyond its props (names chosen, defaults resolved). */
export interface KubernetesRenderContext {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly targetName: string;
  readonly protocol: McpProtocol;
  readonly isStdio: boolean;
  readonly labels: { [key: string]: string };
  /** Labels that select the pods; never changed, because a Deployment's selector is immutable. */
  readonly selectorLabels: { [key: string]: string };
  readonly workload: WorkloadContext;
  readonly runAs: RunAs;
}

/** The objects of a KUBERNETES-workload server. */
export interface KubernetesServerObjects {
  readonly serviceAccount?: kplus.IServiceAccount;
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  readonly disruptionBudget?: ApiObject;
}

export function renderKubernetesServer(
  scope: Construct,
  props: McpServerProps,
  server: kplus.ContainerProps,
  context: KubernetesRenderContext,
): KubernetesServerObjects {
  const { labels, workload, runAs } = context;
  let serviceAccount: kplus.IServiceAccount | undefined;
  if (props.serviceAccount) {
    serviceAccount = new kplus.ServiceAccount(scope, 'ServiceAccount', {
      metadata: {
        name: context.name,
        labels: { ...props.serviceAccount.labels, ...labels },
        annotations: props.serviceAccount.annotations,
      },
    });
  } else if (props.serviceAccountName !== undefined) {
    serviceAccount = kplus.ServiceAccount.fromServiceAccountName(scope, 'ServiceAccount', props.serviceAccountName);
  }

  const deployment = new kplus.Deployment(scope, 'Deployment', {
    metadata: { name: context.name, labels },
    ...workloadDeploymentProps(props, workload),
    select: false,
    podMetadata: { labels: { ...props.podLabels, ...labels }, annotations: props.podAnnotations },
    serviceAccount,
    // The token is an API credential; only servers that asked for an identity get one.
    automountServiceAccountToken: serviceAccount !== undefined,
    securityContext: restrictedPodSecurityContext(runAs),
  });
  deployment.select(kplus.LabelSelector.of({ labels: context.selectorLabels }));

  const startupTimeout = props.startupTimeout ?? DEFAULT_STARTUP_TIMEOUT;
  const startupFailures = Math.max(1, Math.ceil(startupTimeout.toSeconds() / STARTUP_PROBE_PERIOD_SECONDS));
  const probeTiming = { timeoutSeconds: Duration.seconds(3) };
  const startupTiming = { ...probeTiming, periodSeconds: Duration.seconds(STARTUP_PROBE_PERIOD_SECONDS), failureThreshold: startupFailures };
  const readinessTiming = { ...probeTiming, periodSeconds: Duration.seconds(5), failureThreshold: 2 };
  const livenessTiming = { ...probeTiming, periodSeconds: Duration.seconds(10), failureThreshold: 3 };

  if (context.isStdio) {
    const bridgeVolume = kplus.Volume.fromEmptyDir(scope, 'BridgeVolume', 'mcp-bridge');
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
      args: [
        '--host',
        '0.0.0.0',
        '--port',
        String(context.port),
        ...(props.stdioPool?._toBridgeArgs() ?? []),
        ...(props.userCredential?._toBridgeArgs() ?? []),
        '--',
        ...(server.command ?? []),
        ...(server.args ?? []),
      ],
      volumeMounts: [...server.volumeMounts!, { volume: bridgeVolume, path: BRIDGE_DIR, readOnly: true }],
      // /readyz, not /healthz, for start-up: the cold start of the child (npx/uvx install) is what it waits for.
      startup: kplus.Probe.fromHttpGet('/readyz', { port: context.port, ...startupTiming }),
      readiness: props.readiness ?? kplus.Probe.fromHttpGet('/readyz', { port: context.port, ...readinessTiming }),
      liveness: props.liveness ?? kplus.Probe.fromHttpGet('/healthz', { port: context.port, ...livenessTiming }),
    });
  } else {
    deployment.addContainer({
      ...server,
      lifecycle: workloadLifecycle(props, workload),
      startup: kplus.Probe.fromTcpSocket({ port: context.port, ...startupTiming }),
      readiness: props.readiness ?? kplus.Probe.fromTcpSocket({ port: context.port, ...readinessTiming }),
      liveness: props.liveness ?? kplus.Probe.fromTcpSocket({ port: context.port, ...livenessTiming }),
    });
  }

  const podSpec = ApiObject.of(deployment);
  const pullSecrets = props.imagePullSecrets ?? [];
  if (pullSecrets.length > 0) {
    // cdk8s-plus models a single registry secret (`dockerRegistryAuth`); pods accept a list.
    podSpec.addJsonPatch(
      JsonPatch.add(
        '/spec/template/spec/imagePullSecrets',
        pullSecrets.map((s) => ({ name: s.name })),
      ),
    );
  }
  if (props.nodeSelector && Object.keys(props.nodeSelector).length > 0) {
    podSpec.addJsonPatch(JsonPatch.add('/spec/template/spec/nodeSelector', { ...props.nodeSelector }));
  }
  if (props.tolerations && props.tolerations.length > 0) {
    deployment.scheduling.tolerate(kplus.Node.tainted(...props.tolerations));
  }
  const applied: AppliedWorkload = applyWorkloadOptions(scope, deployment, props, workload);

  const service = new kplus.Service(scope, 'Service', {
    metadata: {
      name: context.name,
      labels,
      annotations: {
        'agentgateway.dev/mcp-path': context.path,
        'agentgateway.dev/mcp-target-name': context.targetName,
      },
    },
    type: kplus.ServiceType.CLUSTER_IP,
    ports: [{ name: PORT_NAME, port: context.port, targetPort: context.port }],
  });
  for (const [key, value] of Object.entries(context.selectorLabels)) service.selectLabel(key, value);
  // cdk8s-plus has no appProtocol; agentgateway's Service selectors require it to treat the port as MCP.
  const appProtocol = context.protocol === McpProtocol.SSE ? 'agentgateway.dev/mcp-sse' : 'agentgateway.dev/mcp';
  ApiObject.of(service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', appProtocol));
  return { serviceAccount, deployment, service, autoscaler: applied.autoscaler, disruptionBudget: applied.disruptionBudget };
}
