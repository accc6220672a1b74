import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct, IConstruct } from 'constructs';
import { dnsSubdomainProblem, emptyProblem, propChecks, propError } from './validation';

/** The runtime's SIGTERM drain when `config.drainTimeout` is not set (runtime/src/config/load.ts). */
export const RUNTIME_DEFAULT_DRAIN = Duration.seconds(25);
/** Headroom after the drain for closing sessions and stopping stdio children before SIGKILL. */
const SHUTDOWN_MARGIN_SECONDS = 5;
const DEFAULT_PRE_STOP_SECONDS = 5;
const DEFAULT_MIN_REPLICAS = 2;
const DEFAULT_CPU_UTILIZATION = 80;

/**
 * Horizontal pod autoscaling: a `autoscaling/v2` HorizontalPodAutoscaler on the workload's Deployment.
 * Utilization targets are percentages of the containers' resource *requests*, so every container needs
 * a request for each resource scaled on.
 */
export interface WorkloadAutoscalingOptions {
  /**
   * Fewest pods. Two keep the workload available while a node is drained.
   * @default 2
   */
  readonly minReplicas?: number;
  /** Most pods. */
  readonly maxReplicas: number;
  /**
   * Average CPU use, in percent of the CPU requests, above which pods are added.
   * @default 80 when `memoryUtilization` is not set either, else no CPU target
   */
  readonly cpuUtilization?: number;
  /**
   * Average memory use, in percent of the memory requests, above which pods are added.
   * @default - no memory target
   */
  readonly memoryUtilization?: number;
}

/**
 * How many pods of a workload voluntary disruptions (node drains, cluster upgrades) may take down at
 * once: a `policy/v1` PodDisruptionBudget, or none.
 */
export class WorkloadDisruptionBudget {
  /**
   * At most `pods` pods may be evicted at a time. Never blocks a drain on its own, so it is the default
   * for workloads with more than one pod.
   */
  public static maxUnavailable(pods: number): WorkloadDisruptionBudget {
    return new WorkloadDisruptionBudget(undefined, pods);
  }

  /**
   * At least `pods` pods must stay available. Must be lower than the number of pods (the autoscaler's
   * `minReplicas` when autoscaling), or no pod can ever be evicted and node drains hang.
   */
  public static minAvailable(pods: number): WorkloadDisruptionBudget {
    return new WorkloadDisruptionBudget(pods, undefined);
  }

  /** No PodDisruptionBudget, e.g. when the cluster's tooling adds its own. */
  public static none(): WorkloadDisruptionBudget {
    return new WorkloadDisruptionBudget(undefined, undefined);
  }

  /**
   * Pods that must stay available (`minAvailable`).
   * @default - not set
   */
  public readonly minAvailablePods?: number;
  /**
   * Pods that may be unavailable at once (`maxUnavailable`).
   * @default - not set
   */
  public readonly maxUnavailablePods?: number;

  private constructor(minAvailable: number | undefined, maxUnavailable: number | undefined) {
    this.minAvailablePods = minAvailable;
    this.maxUnavailablePods = maxUnavailable;
  }

  /** Whether a PodDisruptionBudget is emitted. */
  public get enabled(): boolean {
    return this.minAvailablePods !== undefined || this.maxUnavailablePods !== undefined;
  }
}

/**
 * How a workload scales, survives disruptions, spreads and shuts down. Shared by `McpServer` and
 * `McpGateway` (`KUBERNETES` / `RUNTIME` workloads: the pods these constructs run themselves).
 */
export interface WorkloadOptions {
  /**
   * Fixed number of pods. Mutually exclusive with `autoscaling`, which owns the count instead.
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Scale the pods with a HorizontalPodAutoscaler. The Deployment then has no `replicas` field, so
   * re-applying the manifests never resets the autoscaler's count.
   * @default - a fixed number of pods (`replicas`)
   */
  readonly autoscaling?: WorkloadAutoscalingOptions;

  /**
   * PodDisruptionBudget of the pods.
   * @default - `WorkloadDisruptionBudget.maxUnavailable(1)` when there is more than one pod (`replicas`
   * or `autoscaling.minReplicas`), none for a single pod (a budget there would only block drains)
   */
  readonly disruptionBudget?: WorkloadDisruptionBudget;

  /**
   * Spread the pods evenly across nodes (`kubernetes.io/hostname`) and zones
   * (`topology.kubernetes.io/zone`) with topology spread constraints that prefer, never require,
   * an even spread (`whenUnsatisfiable: ScheduleAnyway`), so a small or single-zone cluster still schedules them.
   * @default - true when there can be more than one pod, false for a single pod
   */
  readonly topologySpread?: boolean;

  /**
   * PriorityClass of the pods (an existing `scheduling.k8s.io/v1` PriorityClass), so they are
   * scheduled, and kept, ahead of less important pods when the cluster is full.
   * @default - the cluster's default priority
   */
  readonly priorityClassName?: string;

  /**
   * How long a pod waits, once told to stop, before it starts draining: Services and gateways take a
   * few seconds to stop sending it new requests. `Duration.seconds(0)` turns it off. Implemented as a
   * preStop hook (Kubernetes 1.28 has no built-in sleep action), which runs `sleep` in the container
   * (`McpServer`; the image must have it) or the gateway image's own Node.js (`McpGateway`).
   * @default - 5 seconds; for an `McpServer`, only with the images of `McpImages` (other images may
   * have no `sleep`), else none
   */
  readonly preStopDelay?: Duration;

  /**
   * Time Kubernetes gives a pod to stop before killing it. It includes `preStopDelay`, so it must be
   * longer than that plus the drain of in-flight requests (the runtime's `drainTimeout`, 25 seconds
   * unless set).
   * @default - `preStopDelay` + drain + 5 seconds (35 seconds with the defaults)
   */
  readonly terminationGracePeriod?: Duration;
}

/** What the construct using `WorkloadOptions` knows about its pods. */
export interface WorkloadContext {
  /** How long the program drains in-flight requests after SIGTERM. */
  readonly drain: Duration;
  /** Builds the preStop command that waits `seconds`; the image must be able to run it. */
  readonly preStopCommand: (seconds: number) => string[];
  /** Delay used when `preStopDelay` is not set. */
  readonly defaultPreStopDelay: Duration;
  /** Labels of the HorizontalPodAutoscaler and PodDisruptionBudget. */
  readonly labels?: { [key: string]: string };
}

/** The default preStop delay of a construct whose image surely has a way to wait. */
export const DEFAULT_PRE_STOP_DELAY = Duration.seconds(DEFAULT_PRE_STOP_SECONDS);

/** The objects `applyWorkloadOptions` added. */
export interface AppliedWorkload {
  readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  readonly disruptionBudget?: k8s.KubePodDisruptionBudget;
}

/** Pods the workload runs at least: the autoscaler's floor, or the fixed count. */
function minimumPods(options: WorkloadOptions): number {
  return options.autoscaling ? options.autoscaling.minReplicas ?? DEFAULT_MIN_REPLICAS : options.replicas ?? 1;
}

/** Pods the workload may run at most. */
function maximumPods(options: WorkloadOptions): number {
  return options.autoscaling ? options.autoscaling.maxReplicas : options.replicas ?? 1;
}

/** Whether the workload may run more than one pod (scale-out, shared session keys, spreading). */
export function mayRunSeveralPods(options: WorkloadOptions): boolean {
  return maximumPods(options) > 1;
}

/** The preStop delay in effect. */
export function preStopDelay(options: WorkloadOptions, context: WorkloadContext): Duration {
  return options.preStopDelay ?? context.defaultPreStopDelay;
}

/** Whole seconds, rounded up: fractions are reported by `workloadProblems`, building must not throw first. */
function seconds(duration: Duration): number {
  return Math.ceil(duration.toSeconds({ integral: false }));
}

/** The grace period in effect: the user's, or the preStop delay plus the drain plus a margin. */
export function terminationGracePeriod(options: WorkloadOptions, context: WorkloadContext): Duration {
  const grace = options.terminationGracePeriod
    ?? Duration.seconds(seconds(preStopDelay(options, context)) + seconds(context.drain) + SHUTDOWN_MARGIN_SECONDS);
  return Duration.seconds(seconds(grace));
}

/**
 * Props for `new kplus.Deployment(...)` that must be known when it is created: the replica count (left
 * out when autoscaled, as cdk8s-plus' HorizontalPodAutoscaler requires) and the grace period.
 */
export function workloadDeploymentProps(options: WorkloadOptions, context: WorkloadContext): { replicas?: number; terminationGracePeriod: Duration } {
  return {
    replicas: options.autoscaling ? undefined : options.replicas ?? 1,
    terminationGracePeriod: terminationGracePeriod(options, context),
  };
}

/** Container lifecycle with the preStop delay, for the container that serves traffic. */
export function workloadLifecycle(options: WorkloadOptions, context: WorkloadContext): kplus.ContainerLifecycle | undefined {
  const delay = seconds(preStopDelay(options, context));
  return delay > 0 ? { preStop: kplus.Handler.fromCommand(context.preStopCommand(delay)) } : undefined;
}

/**
 * Adds what `options` asks for to a Deployment created with `workloadDeploymentProps` (and whose
 * serving container uses `workloadLifecycle`): the autoscaler, the disruption budget, topology spread
 * and the priority class. Validation is separate (`workloadProblems`), so a bad value is reported with
 * the other prop errors instead of throwing here.
 */
export function applyWorkloadOptions(
  scope: Construct,
  deployment: kplus.Deployment,
  options: WorkloadOptions,
  context: WorkloadContext,
): AppliedWorkload {
  const pod = ApiObject.of(deployment);
  const selector = deployment.matchLabels;
  const several = mayRunSeveralPods(options);

  let autoscaler: kplus.HorizontalPodAutoscaler | undefined;
  // cdk8s-plus throws on a bad range; `workloadProblems` reports it with the fix instead.
  if (options.autoscaling && autoscalingRangeProblems(options.autoscaling).length === 0) {
    const { minReplicas, maxReplicas, cpuUtilization, memoryUtilization } = options.autoscaling;
    const metrics: kplus.Metric[] = [];
    const cpu = cpuUtilization ?? (memoryUtilization === undefined ? DEFAULT_CPU_UTILIZATION : undefined);
    if (cpu !== undefined) metrics.push(kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(cpu)));
    if (memoryUtilization !== undefined) metrics.push(kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(memoryUtilization)));
    autoscaler = new kplus.HorizontalPodAutoscaler(scope, 'Autoscaler', {
      metadata: { name: deployment.name, labels: context.labels },
      target: deployment,
      minReplicas: minReplicas ?? DEFAULT_MIN_REPLICAS,
      maxReplicas,
      metrics,
    });
  }

  const budget =
    options.disruptionBudget ?? (minimumPods(options) > 1 ? WorkloadDisruptionBudget.maxUnavailable(1) : WorkloadDisruptionBudget.none());
  let disruptionBudget: k8s.KubePodDisruptionBudget | undefined;
  if (budget.enabled) {
    disruptionBudget = new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
      metadata: { name: deployment.name, labels: context.labels },
      spec: {
        selector: { matchLabels: selector },
        minAvailable: budget.minAvailablePods === undefined ? undefined : k8s.IntOrString.fromNumber(budget.minAvailablePods),
        maxUnavailable: budget.maxUnavailablePods === undefined ? undefined : k8s.IntOrString.fromNumber(budget.maxUnavailablePods),
        // A crash-looping pod should never hold up a node drain because the budget counts it as needed.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }

  // cdk8s-plus' `scheduling.spread` is a pod anti-affinity, which cannot express "prefer an even
  // spread, but schedule anyway"; topology spread constraints can.
  if (options.topologySpread ?? several) {
    const constraint = (topologyKey: string) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: selector },
      // Counts only the pods of the same rollout, so old pods about to go do not skew a rolling update.
      matchLabelKeys: ['pod-template-hash'],
    });
    pod.addJsonPatch(
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        constraint('kubernetes.io/hostname'),
        constraint('topology.kubernetes.io/zone'),
      ]),
    );
  }

  if (options.priorityClassName !== undefined) {
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', options.priorityClassName));
  }
  return { autoscaler, disruptionBudget };
}

/**
 * Every problem with `options`, phrased with `propError` for `construct`. `containers` are the pod's
 * containers, checked for the resource requests that utilization targets are relative to.
 */
export function workloadProblems(construct: IConstruct, options: WorkloadOptions, context: WorkloadContext, containers: kplus.Container[]): string[] {
  const { errors, check } = propChecks(construct);
  const count = (value: number | undefined, min: number) =>
    value !== undefined && (!Number.isInteger(value) || value < min) ? `${value} is not a whole number of at least ${min}` : undefined;

  errors.push(...replicasProblems(construct, options.replicas));
  const scaling = options.autoscaling;
  if (scaling) {
    check('replicas and autoscaling', options.replicas !== undefined ? 'are both set' : undefined,
      'The autoscaler owns the number of pods (a fixed count would be reset on every apply); drop replicas and set autoscaling.minReplicas instead.');
    for (const [prop, problem, fix] of autoscalingRangeProblems(scaling)) check(prop, problem, fix);
    const utilization = (value: number | undefined) =>
      value !== undefined && (!Number.isInteger(value) || value < 1) ? `${value} is not a whole percentage of at least 1` : undefined;
    check('autoscaling.cpuUtilization', utilization(scaling.cpuUtilization), 'Set cpuUtilization to a percentage of the CPU requests, e.g. 80.');
    check(
      'autoscaling.memoryUtilization',
      utilization(scaling.memoryUtilization),
      'Set memoryUtilization to a percentage of the memory requests, e.g. 80.',
    );
    const scalesOnCpu = scaling.cpuUtilization !== undefined || scaling.memoryUtilization === undefined;
    for (const container of containers) {
      if (scalesOnCpu && container.resources?.cpu?.request === undefined) {
        check('autoscaling', `scales on CPU but container "${container.name}" has no CPU request`,
          'Utilization is a percentage of the requests: set resources.cpu.request (e.g. kplus.Cpu.millis(100)), or scale on memory only.');
      }
      if (scaling.memoryUtilization !== undefined && container.resources?.memory?.request === undefined) {
        check('autoscaling', `scales on memory but container "${container.name}" has no memory request`,
          'Utilization is a percentage of the requests: set resources.memory.request (e.g. Size.mebibytes(256)).');
      }
    }
  }

  const budget = options.disruptionBudget;
  if (budget) {
    const pods = minimumPods(options);
    if (budget.maxUnavailablePods !== undefined) {
      check('disruptionBudget', count(budget.maxUnavailablePods, 1) && `maxUnavailable ${count(budget.maxUnavailablePods, 1)}`,
        'Use WorkloadDisruptionBudget.maxUnavailable(1) or more; 0 would block every node drain.');
    }
    if (budget.minAvailablePods !== undefined) {
      const problem = count(budget.minAvailablePods, 1);
      check(
        'disruptionBudget',
        problem && `minAvailable ${problem}`,
        'Use WorkloadDisruptionBudget.minAvailable(1) or more, or WorkloadDisruptionBudget.none().',
      );
      if (!problem && budget.minAvailablePods >= pods) {
        check(
          'disruptionBudget',
          `minAvailable ${budget.minAvailablePods} is not lower than the ${pods} pod(s) the workload may run, so no pod could ever be evicted and `
            + 'node drains would hang',
          pods > 1
            ? `Use WorkloadDisruptionBudget.minAvailable(${pods - 1}) or lower, or WorkloadDisruptionBudget.maxUnavailable(1).`
            : 'A single pod cannot stay available during a drain: run more replicas, or use WorkloadDisruptionBudget.maxUnavailable(1) or none().',
        );
      }
    }
  }

  if (options.priorityClassName !== undefined) {
    const name = options.priorityClassName;
    const problem = emptyProblem(name) ?? dnsSubdomainProblem(name);
    check(
      'priorityClassName',
      problem,
      'Set priorityClassName to the name of an existing PriorityClass, e.g. "system-cluster-critical" or your own.',
    );
  }

  const delay = preStopDelay(options, context).toSeconds({ integral: false });
  if (options.preStopDelay !== undefined && (!Number.isInteger(delay) || delay < 0)) {
    check(
      'preStopDelay',
      `${delay}s is not a whole number of seconds`,
      'Set preStopDelay to whole seconds, e.g. Duration.seconds(5), or Duration.seconds(0) to turn it off.',
    );
  }
  if (options.terminationGracePeriod !== undefined) {
    const grace = options.terminationGracePeriod.toSeconds({ integral: false });
    const needed = seconds(preStopDelay(options, context)) + seconds(context.drain);
    if (!Number.isInteger(grace) || grace <= needed) {
      check(
        'terminationGracePeriod',
        `${grace}s does not leave time for the preStop delay (${delay}s) and the drain (${context.drain.toSeconds()}s): the pod would be killed `
          + 'mid-drain',
        `Set terminationGracePeriod to whole seconds above ${needed}, e.g. Duration.seconds(${needed + SHUTDOWN_MARGIN_SECONDS}), or leave it out `
          + 'to have it computed.',
      );
    }
  }
  return errors;
}

/**
 * The `WorkloadOptions` beyond `replicas`, as [prop, value]: what a controller that runs the pods
 * itself (kmcp, the agentgateway data plane) cannot take from these constructs.
 */
export function podManagementOptions(options: WorkloadOptions): Array<[string, unknown]> {
  return [
    ['autoscaling', options.autoscaling],
    ['disruptionBudget', options.disruptionBudget],
    ['topologySpread', options.topologySpread],
    ['priorityClassName', options.priorityClassName],
    ['preStopDelay', options.preStopDelay],
    ['terminationGracePeriod', options.terminationGracePeriod],
  ];
}

/**
 * The check of a fixed `replicas` count, also for workloads whose pods a controller runs (kmcp, the
 * agentgateway data plane), where the other `WorkloadOptions` do not apply.
 */
export function replicasProblems(construct: IConstruct, replicas: number | undefined): string[] {
  if (replicas === undefined || (Number.isInteger(replicas) && replicas >= 0)) return [];
  return [propError(construct, 'replicas', `${replicas} is not a whole number of pods`, 'Set replicas to 0 or more.')];
}

/** Problems with the replica range of `scaling`, as [prop, problem, fix]. */
function autoscalingRangeProblems(scaling: WorkloadAutoscalingOptions): Array<[string, string, string]> {
  const problems: Array<[string, string, string]> = [];
  const notCount = (value: number | undefined) => value !== undefined && (!Number.isInteger(value) || value < 1);
  const min = scaling.minReplicas ?? DEFAULT_MIN_REPLICAS;
  if (notCount(scaling.minReplicas)) {
    problems.push([
      'autoscaling.minReplicas',
      `${scaling.minReplicas} is not a whole number of at least 1`,
      'Set minReplicas to 1 or more (2 or more to stay available during node drains).',
    ]);
  }
  if (notCount(scaling.maxReplicas)) {
    problems.push([
      'autoscaling.maxReplicas',
      `${scaling.maxReplicas} is not a whole number of at least 1`,
      'Set maxReplicas to the most pods the workload may run, e.g. 10.',
    ]);
  } else if (!notCount(min) && scaling.maxReplicas < min) {
    problems.push([
      'autoscaling.maxReplicas',
      `${scaling.maxReplicas} is lower than minReplicas ${min}`,
      `Set maxReplicas to ${min} or more, or lower minReplicas.`,
    ]);
  }
  return problems;
}
