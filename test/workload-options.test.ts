import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as YAML from 'yaml';
import type { McpGatewayProps, McpServerProps } from '../src';
import {
  McpGateway, McpGatewayExposure, McpGatewayImplementation, McpImages, McpServer, McpServerSource, McpServerWorkload,
  McpTarget, WorkloadDisruptionBudget,
} from '../src';
import { expectValidManifests } from './util/manifest-validation';

const EVERYTHING = McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' });

function newChart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'tools' });
}

/** Synthesizes, checks every object against the Kubernetes 1.28 schemas, and returns the objects. */
function synthValid(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  const report = expectValidManifests(objects);
  expect(report.notChecked).toEqual([]);
  return objects;
}

function ofKind(objects: any[], kind: string): any[] {
  return objects.filter(o => o.kind === kind);
}

function only(objects: any[], kind: string): any {
  const matches = ofKind(objects, kind);
  expect(matches).toHaveLength(1);
  return matches[0];
}

function npmServer(options: Partial<McpServerProps> = {}): any[] {
  const chart = newChart();
  new McpServer(chart, 'everything', { source: EVERYTHING, ...options });
  return synthValid(chart);
}

function expectSynthError(props: Partial<McpServerProps>, ...messages: Array<string | RegExp>) {
  const chart = newChart();
  new McpServer(chart, 'everything', { source: EVERYTHING, ...props });
  let error: Error | undefined;
  try {
    Testing.synth(chart);
  } catch (e: any) {
    error = e;
  }
  expect(error).toBeDefined();
  for (const message of messages) expect(error!.message).toMatch(message);
  // Every message names the construct and its path, so the user knows which server to fix.
  expect(error!.message).toContain('McpServer test/everything:');
}

describe('defaults', () => {
  test('a single replica gets no PodDisruptionBudget, no spread, no autoscaler', () => {
    const objects = npmServer();
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(deployment.spec.template.spec.priorityClassName).toBeUndefined();
  });

  test('more than one replica: PDB with maxUnavailable 1 selecting the pods, spread over nodes and zones', () => {
    const objects = npmServer({ replicas: 3 });
    const deployment = only(objects, 'Deployment');
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.metadata.name).toBe(deployment.metadata.name);
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deployment.spec.selector.matchLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    // The PDB must select exactly the Deployment's pods.
    for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) {
      expect(deployment.spec.template.metadata.labels[key]).toBe(value);
    }
    const spread = deployment.spec.template.spec.topologySpreadConstraints;
    expect(spread.map((c: any) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of spread) {
      expect(constraint).toMatchObject({
        maxSkew: 1,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
      });
    }
  });

  test('shutdown: default images sleep 5 s before the drain, grace period covers sleep + 25 s drain + margin', () => {
    const pod = only(npmServer(), 'Deployment').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(35);
    const server = pod.containers.find((c: any) => c.name === 'mcp-server');
    expect(server.lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '5'] } } });
    // Only the serving container stops gracefully; the init container has long exited.
    expect(pod.initContainers[0].lifecycle).toBeUndefined();
  });

  test('shutdown: an image not known to have `sleep` gets no preStop hook and a 30 s grace period', () => {
    const chart = newChart();
    new McpServer(chart, 'custom', { source: McpServerSource.image('ghcr.io/example/mcp:1', { command: ['/mcp'] }) });
    const pod = only(synthValid(chart), 'Deployment').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.containers[0].lifecycle).toBeUndefined();
  });

  test('shutdown: the uv image has `sleep` too', () => {
    const chart = newChart();
    new McpServer(chart, 'fetch', { source: McpServerSource.pypiPackage('mcp-server-fetch', { version: '2025.4.7' }) });
    const pod = only(synthValid(chart), 'Deployment').spec.template.spec;
    expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(McpImages.UV).toBe(pod.containers[0].image);
  });
});

describe('autoscaling', () => {
  test('an autoscaled McpServer: HPA autoscaling/v2 on CPU, no fixed replicas, PDB and spread from minReplicas', () => {
    const objects = npmServer({ autoscaling: { maxReplicas: 6 } });
    const deployment = only(objects, 'Deployment');
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    // Re-applying a Deployment with replicas would reset what the autoscaler chose.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(6);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
  });

  test('CPU and memory targets', () => {
    const hpa = only(
      npmServer({ autoscaling: { minReplicas: 3, maxReplicas: 9, cpuUtilization: 60, memoryUtilization: 75 } }),
      'HorizontalPodAutoscaler',
    );
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([['cpu', 60], ['memory', 75]]);
  });

  test('memory only: no implicit CPU target', () => {
    const hpa = only(npmServer({ autoscaling: { maxReplicas: 4, memoryUtilization: 70 } }), 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics.map((m: any) => m.resource.name)).toEqual(['memory']);
  });

  test('minReplicas 1 autoscaled: no PDB by default, spread still on because it may scale out', () => {
    const objects = npmServer({ autoscaling: { minReplicas: 1, maxReplicas: 3 } });
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    expect(only(objects, 'Deployment').spec.template.spec.topologySpreadConstraints).toHaveLength(2);
  });

  test('the autoscaler is exposed on the construct', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'everything', { source: EVERYTHING, autoscaling: { maxReplicas: 3 } });
    expect(server.autoscaler).toBeInstanceOf(kplus.HorizontalPodAutoscaler);
    expect(server.autoscaler!.maxReplicas).toBe(3);
    expect(server.disruptionBudget?.kind).toBe('PodDisruptionBudget');
  });
});

describe('explicit options', () => {
  test('disruption budget minAvailable, spread off, priority class, grace period and preStop delay', () => {
    const objects = npmServer({
      replicas: 4,
      disruptionBudget: WorkloadDisruptionBudget.minAvailable(2),
      topologySpread: false,
      priorityClassName: 'mcp-critical',
      preStopDelay: Duration.seconds(10),
      terminationGracePeriod: Duration.seconds(60),
    });
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(pdb.spec.maxUnavailable).toBeUndefined();
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.priorityClassName).toBe('mcp-critical');
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
  });

  test('a larger preStop delay lengthens the computed grace period', () => {
    const pod = only(npmServer({ preStopDelay: Duration.seconds(12) }), 'Deployment').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(12 + 25 + 5);
  });

  test('preStopDelay 0 turns the hook off', () => {
    const pod = only(npmServer({ preStopDelay: Duration.seconds(0) }), 'Deployment').spec.template.spec;
    expect(pod.containers[0].lifecycle).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBe(30);
  });

  test('none() turns the default PDB off; spread can be forced on for a single replica', () => {
    const objects = npmServer({ replicas: 3, disruptionBudget: WorkloadDisruptionBudget.none() });
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    const single = only(npmServer({ topologySpread: true }), 'Deployment');
    expect(single.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
  });

  test('maxUnavailable(1) on a single replica is allowed (it never blocks a drain)', () => {
    expect(only(npmServer({ disruptionBudget: WorkloadDisruptionBudget.maxUnavailable(1) }), 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });
});

describe('validation', () => {
  test('replicas together with autoscaling', () => {
    expectSynthError(
      { replicas: 3, autoscaling: { maxReplicas: 5 } },
      /replicas and autoscaling are both set\. .*drop replicas and set autoscaling\.minReplicas/,
    );
  });

  test('maxReplicas below minReplicas, zero and fractional counts', () => {
    expectSynthError(
      { autoscaling: { minReplicas: 4, maxReplicas: 3 } },
      /autoscaling\.maxReplicas 3 is lower than minReplicas 4\. Set maxReplicas to 4 or more/,
    );
    expectSynthError({ autoscaling: { maxReplicas: 1 } }, /autoscaling\.maxReplicas 1 is lower than minReplicas 2/);
    expectSynthError({ autoscaling: { minReplicas: 0, maxReplicas: 3 } }, /autoscaling\.minReplicas 0 is not a whole number of at least 1/);
    expectSynthError({ autoscaling: { maxReplicas: 2.5 } }, /autoscaling\.maxReplicas 2\.5 is not a whole number/);
  });

  test('utilization targets must be positive whole percentages', () => {
    expectSynthError({ autoscaling: { maxReplicas: 3, cpuUtilization: 0 } }, /autoscaling\.cpuUtilization 0 is not a whole percentage/);
    expectSynthError({ autoscaling: { maxReplicas: 3, memoryUtilization: 50.5 } }, /autoscaling\.memoryUtilization 50\.5 is not a whole percentage/);
  });

  test('utilization needs the matching resource request', () => {
    expectSynthError({ autoscaling: { maxReplicas: 3 }, resources: { memory: { request: Size.mebibytes(256) } } },
      /autoscaling scales on CPU but container "mcp-server" has no CPU request\. Utilization is a percentage of the requests/);
    expectSynthError({ autoscaling: { maxReplicas: 3, memoryUtilization: 80 }, resources: { cpu: { request: kplus.Cpu.millis(100) } } },
      /autoscaling scales on memory but container "mcp-server" has no memory request/);
  });

  test('a minAvailable budget that would block every eviction', () => {
    expectSynthError({ disruptionBudget: WorkloadDisruptionBudget.minAvailable(1) },
      /disruptionBudget minAvailable 1 is not lower than the 1 pod\(s\).*node drains would hang\. A single pod cannot stay available/);
    expectSynthError({ replicas: 3, disruptionBudget: WorkloadDisruptionBudget.minAvailable(3) },
      /minAvailable 3 is not lower than the 3 pod\(s\).*Use WorkloadDisruptionBudget\.minAvailable\(2\) or lower/);
    // With autoscaling the floor is minReplicas.
    expectSynthError({ autoscaling: { minReplicas: 2, maxReplicas: 5 }, disruptionBudget: WorkloadDisruptionBudget.minAvailable(2) },
      /minAvailable 2 is not lower than the 2 pod\(s\)/);
  });

  test('maxUnavailable 0 blocks every drain', () => {
    expectSynthError(
      { replicas: 2, disruptionBudget: WorkloadDisruptionBudget.maxUnavailable(0) },
      /disruptionBudget maxUnavailable 0 is not a whole number of at least 1/,
    );
  });

  test('a grace period that would kill the pod mid-drain', () => {
    expectSynthError({ terminationGracePeriod: Duration.seconds(20) },
      /terminationGracePeriod 20s does not leave time for the preStop delay \(5s\) and the drain \(25s\).*e\.g\. Duration\.seconds\(35\)/);
    expectSynthError({ terminationGracePeriod: Duration.seconds(30) }, /terminationGracePeriod 30s does not leave time/);
  });

  test('priority class name and preStop delay', () => {
    expectSynthError({ priorityClassName: 'High_Priority' }, /priorityClassName "High_Priority" is not a DNS-1123 subdomain/);
    expectSynthError({ priorityClassName: ' ' }, /priorityClassName is empty/);
    expectSynthError({ preStopDelay: Duration.millis(1500) }, /preStopDelay 1\.5s is not a whole number of seconds/);
  });

  test('the kmcp workload cannot express the workload options', () => {
    const chart = newChart();
    new McpServer(chart, 'everything', {
      source: EVERYTHING,
      workload: McpServerWorkload.KMCP,
      autoscaling: { maxReplicas: 3 },
      disruptionBudget: WorkloadDisruptionBudget.maxUnavailable(1),
      priorityClassName: 'high',
    });
    expect(() => Testing.synth(chart)).toThrow(
      /autoscaling cannot be expressed by kmcp[\s\S]*disruptionBudget cannot be expressed by kmcp[\s\S]*priorityClassName cannot be expressed/,
    );
  });
});

describe('McpGateway', () => {
  const github = McpTarget.fromUrl('github', 'http://github:3000/mcp');
  const routes = [{ path: '/github/mcp', targets: [github] }];

  function gateway(props: Partial<McpGatewayProps> = {}) {
    const chart = newChart();
    const construct = new McpGateway(chart, 'gateway', { routes, ...props });
    return { chart, construct };
  }

  function sessionKey(chart: Chart) {
    return kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'SessionKey', 'mcp-session'), key: 'key' });
  }

  function withSessionKey(props: Partial<McpGatewayProps>): any[] {
    const chart = newChart();
    new McpGateway(chart, 'gateway', { routes, sessionKey: sessionKey(chart), ...props });
    return synthValid(chart);
  }

  function gatewayConfig(objects: any[]): any {
    return YAML.parse(only(objects, 'ConfigMap').data['config.yaml']);
  }

  function gatewayErrors(props: Partial<McpGatewayProps>): string[] {
    const { chart } = gateway(props);
    return chart.node.findAll().flatMap(c => c.node.validate());
  }

  test('defaults: one pod, no PDB, a 5 s preStop wait with the image\'s Node.js, the drain rendered and covered by the grace period', () => {
    const { chart } = gateway();
    const objects = synthValid(chart);
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(35);
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.containers[0].lifecycle).toEqual({ preStop: { exec: { command: ['/nodejs/bin/node', '-e', 'setTimeout(() => {}, 5000)'] } } });
    expect(gatewayConfig(objects).config).toEqual({ drainTimeout: '25s', statsAddr: '0.0.0.0:15020', adminAddr: '127.0.0.1:15000' });
  });

  test('drainTimeout renders into config.drainTimeout and lengthens the grace period; the config stays valid for the runtime', () => {
    const { chart, construct } = gateway({ drainTimeout: Duration.seconds(40) });
    const objects = synthValid(chart);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(5 + 40 + 5);
    const config = gatewayConfig(objects);
    expect(config.config.drainTimeout).toBe('40s');
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'runtime', 'schema', 'config.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate(construct.renderConfig()) ? [] : validate.errors).toEqual([]);
  });

  test('several replicas with a session key from a Secret: SESSION_KEY env, PDB and spread', () => {
    const objects = withSessionKey({ replicas: 3 });
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: 'SESSION_KEY', valueFrom: { secretKeyRef: { name: 'mcp-session', key: 'key' } } },
    ]);
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toHaveLength(2);
  });

  test('autoscaled gateway: HPA on the gateway Deployment, no fixed replicas', () => {
    const objects = withSessionKey({ autoscaling: { minReplicas: 2, maxReplicas: 8, cpuUtilization: 70 }, priorityClassName: 'mcp-gateway' });
    const deployment = only(objects, 'Deployment');
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(hpa.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 8 });
    expect(deployment.spec.template.spec.priorityClassName).toBe('mcp-gateway');
  });

  test('more than one pod without a session key fails with the kubectl fix', () => {
    for (const props of [{ replicas: 2 }, { autoscaling: { minReplicas: 1, maxReplicas: 4 } }]) {
      expect(gatewayErrors(props)).toEqual([
        expect.stringMatching(
          /^McpGateway test\/gateway: sessionKey is missing, but the gateway may run more than one pod.*kubectl create secret generic mcp-session/,
        ),
      ]);
    }
  });

  test('a session key that is not a Secret key fails', () => {
    expect(gatewayErrors({ sessionKey: kplus.EnvValue.fromValue('0'.repeat(64)) })).toEqual([
      expect.stringMatching(
        /^McpGateway test\/gateway: sessionKey is not a key of a Secret: a literal or ConfigMap value would be stored in plain text/,
      ),
    ]);
  });

  test('workload problems of the gateway are reported with the gateway path', () => {
    expect(gatewayErrors({ terminationGracePeriod: Duration.seconds(20), drainTimeout: Duration.seconds(30) })).toEqual([
      expect.stringMatching(
        /^McpGateway test\/gateway: terminationGracePeriod 20s does not leave time for the preStop delay \(5s\) and the drain \(30s\)/,
      ),
    ]);
    expect(gatewayErrors({ drainTimeout: Duration.millis(0) })).toEqual([
      expect.stringMatching(/drainTimeout 0s is not a whole number of seconds of at least 1/),
    ]);
    expect(gatewayErrors({ replicas: -1 })).toEqual([expect.stringMatching(/replicas -1 is not a whole number of pods/)]);
  });

  test('controller-based implementations reject the runtime-only options', () => {
    const errors = gatewayErrors({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway(),
      autoscaling: { maxReplicas: 3 },
      drainTimeout: Duration.seconds(10),
    });
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/McpGateway test\/gateway: autoscaling applies to the RUNTIME implementation only, not agentgateway/),
      expect.stringMatching(/drainTimeout applies to the RUNTIME implementation only/),
    ]));
  });

  test('controller-based implementations reject the other runtime-only props instead of ignoring them', () => {
    const errors = gatewayErrors({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway(),
      port: 9090,
      image: 'example.com/gateway:1',
      replicas: 2,
    });
    expect(errors).toEqual(
      expect.arrayContaining(
        ['port', 'image', 'replicas'].map((prop) =>
          expect.stringMatching(
            new RegExp(`^McpGateway test/gateway: ${prop} applies to the RUNTIME implementation only, not agentgateway\\. Drop ${prop}`),
          ),
        ),
      ),
    );
  });
});
