/*
 * The kmcp workload of McpServer: one `kagent.dev/v1alpha1` MCPServer, whose controller creates the
 * Deployment and Service, and the props it cannot express. Internal: not exported from the package index.
 */
import type { Duration } from 'cdk8s';
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
// The generated Kubernetes types' serializers turn cdk8s-plus models (e.g. Quantity) into manifest JSON.
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct, IConstruct } from 'constructs';
import { omitUndefined } from '../manifest-helpers';
import type { McpServerProps } from '../mcp-server';
import { McpProtocol } from '../mcp-target';
import { propError } from '../validation';
import { podManagementOptions } from '../workload-options';

/** What the MCPServer takes from the McpServer beyond its props (defaults resolved, names chosen). */
export interface KmcpRenderContext {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly isStdio: boolean;
  /** Labels of the MCPServer resource. */
  readonly labels: { [key: string]: string };
  /** Labels kmcp adds to its pods (it sets app.kubernetes.io/name|instance|managed-by itself). */
  readonly podLabels: { [key: string]: string };
  readonly runAs: { readonly user: number; readonly group: number };
  readonly startupTimeout: Duration;
}

/** Why kmcp's `MCPServer` (v1alpha1) `spec.deployment` cannot carry each pod-management option. */
const KMCP_MISSING_FIELDS: { [prop: string]: string } = {
  autoscaling: 'its deployment spec has only a fixed replicas count and kmcp creates no HorizontalPodAutoscaler',
  disruptionBudget: 'kmcp creates no PodDisruptionBudget and its deployment spec has no field for one',
  topologySpread: 'its deployment spec has no topologySpreadConstraints (only affinity)',
  priorityClassName: 'its deployment spec has no priorityClassName',
  preStopDelay: 'its deployment spec has no lifecycle hooks for a preStop delay',
  terminationGracePeriod: 'its deployment spec has no terminationGracePeriodSeconds',
};

/**
 * The kmcp `MCPServer` equivalent of the props. Whatever kmcp cannot express is reported by
 * `kmcpProblems` at validation, so this renders what it can without failing.
 */
export function renderKmcpServer(scope: Construct, props: McpServerProps, server: kplus.ContainerProps, context: KmcpRenderContext): ApiObject {
  const container = k8s.toJson_Container(new kplus.Container(server)._toKube())!;
  const [cmd, ...commandArgs] = server.command ?? [];
  const env: { [name: string]: string } = {};
  for (const variable of (container.env ?? []) as Array<{ name: string; value?: string }>) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  const secretRefs = (props.envFrom ?? [])
    .map(source => source._toKube().secretRef?.name)
    .filter((name): name is string => name !== undefined)
    .map(name => ({ name }));
  const volumes = (server.volumeMounts ?? []).map(mount => k8s.toJson_Volume(mount.volume._toKube()));
  const runAs = context.runAs;
  const startupTimeout = context.startupTimeout;

  const deployment: { [key: string]: any } = {
    image: server.image,
    imagePullPolicy: container.imagePullPolicy,
    port: context.port,
    cmd,
    args: [...commandArgs, ...(server.args ?? [])],
    env,
    secretRefs: secretRefs.length > 0 ? secretRefs : undefined,
    volumes,
    volumeMounts: container.volumeMounts,
    replicas: props.replicas ?? 1,
    resources: container.resources,
    securityContext: container.securityContext,
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: runAs.user,
      runAsGroup: runAs.group,
      fsGroup: runAs.group,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // kmcp sets app.kubernetes.io/name|instance|managed-by itself and selects on them.
    labels: context.podLabels,
    annotations: props.podAnnotations,
    serviceAccount: props.serviceAccount ? { annotations: props.serviceAccount.annotations, labels: props.serviceAccount.labels } : undefined,
    serviceAccountName: props.serviceAccountName,
    imagePullSecrets: props.imagePullSecrets?.map(s => ({ name: s.name })),
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations?.map(t => k8s.toJson_Toleration(t._toKube())),
  };
  const spec: { [key: string]: any } = context.isStdio
    ? { transportType: 'stdio', stdioTransport: {} }
    : { transportType: 'http', httpTransport: { targetPort: context.port, path: context.path } };
  spec.timeout = `${startupTimeout.toSeconds()}s`;
  spec.deployment = omitUndefined(deployment);

  return new ApiObject(scope, 'Resource', {
    apiVersion: 'kagent.dev/v1alpha1',
    kind: 'MCPServer',
    metadata: { name: context.name, labels: context.labels },
    spec,
  });
}

/** Props kmcp's MCPServer (v1alpha1) has no field for. */
export function kmcpProblems(server: IConstruct, props: McpServerProps, protocol: McpProtocol): string[] {
  const errors: string[] = [];
  const cannot = (prop: string, what: string, fix: string) =>
    errors.push(propError(server, prop, `cannot be expressed by kmcp: ${what}`, fix));
  const useKubernetes = 'or use workload McpServerWorkload.KUBERNETES.';

  for (const [name, value] of Object.entries(props.env ?? {})) {
    if (value.valueFrom !== undefined) {
      cannot(`env "${name}"`, 'its env is a map of plain strings, without valueFrom',
        `Drop env "${name}" and pass the whole Secret with envFrom: [kplus.Env.fromSecret(secret)], ${useKubernetes}`);
    }
  }
  (props.envFrom ?? []).forEach((source, index) => {
    const kube = source._toKube();
    if (kube.configMapRef) {
      cannot(`envFrom[${index}]`, 'it injects only Secrets as environment (configMapRefs become files)',
        `Drop envFrom[${index}] and mount ConfigMap "${kube.configMapRef.name}" with volumeMounts, ${useKubernetes}`);
    } else if (kube.prefix) {
      cannot(`envFrom[${index}]`, 'its secretRefs have no prefix', `Drop the prefix of envFrom[${index}], ${useKubernetes}`);
    }
  });
  if (protocol === McpProtocol.SSE) {
    cannot('transport', 'its transportType is stdio or http (Streamable HTTP), not SSE', `Drop the SSE transport, ${useKubernetes}`);
  }
  if (props.readiness !== undefined) cannot('readiness', 'it sets no probes', `Drop readiness, ${useKubernetes}`);
  if (props.liveness !== undefined) cannot('liveness', 'it sets no probes', `Drop liveness, ${useKubernetes}`);
  for (const [prop, value] of podManagementOptions(props)) {
    if (value !== undefined) cannot(prop, KMCP_MISSING_FIELDS[prop] ?? 'its deployment spec has no field for it', `Drop ${prop}, ${useKubernetes}`);
  }
  if (props.gatewayImage !== undefined) {
    cannot('gatewayImage', 'it bridges stdio with its own agentgateway init container', `Drop gatewayImage, ${useKubernetes}`);
  }
  if (props.stdioPool !== undefined) {
    cannot('stdioPool', 'its bridge starts one process per session, without a pool', `Drop stdioPool, ${useKubernetes}`);
  }
  return errors;
}
