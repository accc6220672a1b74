import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type {
  IMcpTarget,
  McpServerProps,
} from '../src';
import {
  McpImages, McpProtocol, McpServer, McpServerSource, McpServerTransport, McpServerWorkload,
  WorkloadDisruptionBudget,
} from '../src';
import { CRDS_DIR, expectValidManifests } from './util/manifest-validation';
import { synthError } from './util/synth';

const crdsPresent = fs.existsSync(CRDS_DIR);
if (!crdsPresent) {
  console.warn(`mcp-server.test: ${CRDS_DIR} not found; the kmcp MCPServer output was not checked against its CRD`);
}

const EVERYTHING = McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' });

function newChart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'tools' });
}

/** Synthesizes, checks every object against its schema, and returns the objects. */
function synthValid(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectValidManifests(objects);
  return objects;
}

function find(objects: any[], kind: string): any {
  const matches = objects.filter(o => o.kind === kind);
  expect(matches).toHaveLength(1);
  return matches[0];
}

function podSpec(objects: any[]): any {
  return find(objects, 'Deployment').spec.template.spec;
}

function serverContainer(objects: any[]): any {
  return podSpec(objects).containers.find((c: any) => c.name === 'mcp-server');
}

function env(container: any): { [name: string]: any } {
  return Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

describe('stdio server from an npm package', () => {
  const chart = newChart();
  const server = new McpServer(chart, 'Everything', { source: EVERYTHING });
  const objects = synthValid(chart);

  test('emits a Deployment and a Service, and no ServiceAccount', () => {
    expect(objects.map(o => o.kind).sort()).toEqual(['Deployment', 'NetworkPolicy', 'Service']);
  });

  test('an init container copies the bridge from the gateway image into a shared emptyDir', () => {
    const spec = podSpec(objects);
    expect(spec.initContainers).toHaveLength(1);
    expect(spec.initContainers[0]).toMatchObject({
      image: McpImages.GATEWAY,
      command: ['/opt/mcp-gateway/bin/mcp-gateway', '--copy-self', '/mcp-bridge'],
      volumeMounts: [{ name: 'mcp-bridge', mountPath: '/mcp-bridge' }],
    });
    expect(spec.volumes).toEqual(expect.arrayContaining([{ name: 'mcp-bridge', emptyDir: {} }]));
  });

  test('the server container runs the bridge with the npx command as its child', () => {
    const container = serverContainer(objects);
    expect(container.image).toBe(McpImages.NODE);
    // Through the copied loader, with only the copied libraries: nothing of the image's libc is used.
    expect(container.command).toEqual(['/mcp-bridge/lib/ld.so', '--library-path', '/mcp-bridge/lib', '/mcp-bridge/mcp-gateway']);
    expect(container.env ?? []).not.toEqual(expect.arrayContaining([expect.objectContaining({ name: expect.stringMatching(/^LD_/) })]));
    expect(container.args).toEqual([
      '--host',
      '0.0.0.0',
      '--port',
      '3000',
      '--',
      'npx',
      '--yes',
      '@modelcontextprotocol/server-everything@2026.8.31',
    ]);
    expect(container.ports).toEqual([{ containerPort: 3000, name: 'mcp' }]);
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: 'mcp-bridge', mountPath: '/mcp-bridge', readOnly: true }]));
  });

  test('probes use the bridge health endpoints; the startup probe allows 120 s', () => {
    const container = serverContainer(objects);
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 3000 });
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 3000 });
    expect(container.startupProbe.httpGet).toMatchObject({ path: '/readyz', port: 3000 });
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBe(120);
  });

  test('secure defaults: non-root numeric uid, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    const spec = podSpec(objects);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
    for (const container of [...spec.initContainers, ...spec.containers]) {
      expect(container.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  test('HOME and the npm/uv/XDG caches are on a writable emptyDir, and /tmp is writable', () => {
    const container = serverContainer(objects);
    expect(env(container)).toEqual({
      HOME: '/home/mcp',
      XDG_CACHE_HOME: '/home/mcp/.cache',
      npm_config_cache: '/home/mcp/.npm',
      UV_CACHE_DIR: '/home/mcp/.cache/uv',
    });
    expect(container.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'home', mountPath: '/home/mcp' },
    ]));
    expect(podSpec(objects).volumes).toEqual(expect.arrayContaining([{ name: 'tmp', emptyDir: {} }, { name: 'home', emptyDir: {} }]));
  });

  test('default resources have requests and limits', () => {
    expect(serverContainer(objects).resources).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { cpu: '1', memory: '1024Mi' },
    });
  });

  test('one replica by default', () => {
    expect(find(objects, 'Deployment').spec.replicas).toBe(1);
  });

  test('the Service exposes port "mcp" with the agentgateway MCP appProtocol, labels and path annotation', () => {
    const service = find(objects, 'Service');
    const labels = {
      'app.kubernetes.io/name': 'everything',
      'app.kubernetes.io/instance': server.name,
      'app.kubernetes.io/component': 'mcp-server',
      'app.kubernetes.io/managed-by': 'cdk8s',
      'app.kubernetes.io/part-of': 'cdk8s-mcp',
      'app.kubernetes.io/version': '2026.8.31',
      'mcp.cdk8s.io/server': 'everything',
    };
    expect(service.metadata.name).toBe(server.name);
    expect(service.metadata.labels).toEqual(labels);
    expect(service.metadata.annotations).toEqual({ 'agentgateway.dev/mcp-path': '/mcp', 'agentgateway.dev/mcp-target-name': 'everything' });
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([{ name: 'mcp', port: 3000, targetPort: 3000, appProtocol: 'agentgateway.dev/mcp' }]);
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'everything', 'app.kubernetes.io/instance': server.name });

    const deployment = find(objects, 'Deployment');
    expect(deployment.metadata.labels).toEqual(labels);
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(deployment.spec.template.metadata.labels).toMatchObject(labels);
  });

  test('is a gateway target with a cluster-local URL', () => {
    const target: IMcpTarget = server;
    expect(target).toMatchObject({
      targetName: 'everything',
      protocol: McpProtocol.STREAMABLE_HTTP,
      host: `${server.name}.tools.svc.cluster.local`,
      port: 3000,
      path: '/mcp',
      serviceName: server.name,
      serviceNamespace: 'tools',
    });
    expect(target.url).toBe(`http://${server.name}.tools.svc.cluster.local:3000/mcp`);
    expect(server.name).toMatch(/^test-everything-[0-9a-f]{8}$/);
  });
});

test('without a chart namespace the URL uses the short Service name', () => {
  const chart = new Chart(Testing.app(), 'test');
  const server = new McpServer(chart, 'everything', { source: EVERYTHING, name: 'everything' });
  synthValid(chart);
  expect(server.url).toBe('http://everything:3000/mcp');
  expect(server.serviceNamespace).toBeUndefined();
});

test('fromNpmPackage without a version runs the latest release', () => {
  const chart = newChart();
  new McpServer(chart, 'everything', { source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { args: ['stdio'] }) });
  expect(serverContainer(synthValid(chart)).args).toEqual([
    '--host',
    '0.0.0.0',
    '--port',
    '3000',
    '--',
    'npx',
    '--yes',
    '@modelcontextprotocol/server-everything@latest',
    'stdio',
  ]);
});

describe('fromUvxPackage', () => {
  test('pins the version and uses the uv image', () => {
    const chart = newChart();
    new McpServer(chart, 'fetch', {
      source: McpServerSource.pypiPackage('mcp-server-fetch', { version: '2025.4.7', args: ['--ignore-robots-txt'] }),
    });
    const container = serverContainer(synthValid(chart));
    expect(container.image).toBe(McpImages.UV);
    expect(container.args).toEqual(['--host', '0.0.0.0', '--port', '3000', '--', 'uvx', 'mcp-server-fetch@2025.4.7', '--ignore-robots-txt']);
  });

  test('an executable named unlike the package uses --from', () => {
    const chart = newChart();
    new McpServer(chart, 'git', { source: McpServerSource.pypiPackage('mcp-git-tools', { version: '1.2.0', executable: 'mcp-git' }) });
    expect(serverContainer(synthValid(chart)).args).toEqual([
      '--host',
      '0.0.0.0',
      '--port',
      '3000',
      '--',
      'uvx',
      '--from',
      'mcp-git-tools==1.2.0',
      'mcp-git',
    ]);
  });
});

describe('HTTP servers', () => {
  test('Streamable HTTP: no bridge, the image command, TCP probes, custom path and port', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'github', {
      source: McpServerSource.image('ghcr.io/github/github-mcp-server:v0.20.1', {
        command: ['/server/github-mcp-server'],
        args: ['http', '--port', '8082'],
      }),
      port: 8082,
      transport: McpServerTransport.streamableHttp({ path: '/api/mcp' }),
    });
    const objects = synthValid(chart);
    const spec = podSpec(objects);
    expect(spec.initContainers).toBeUndefined();
    expect(spec.volumes.map((v: any) => v.name)).not.toContain('mcp-bridge');
    const container = serverContainer(objects);
    expect(container.command).toEqual(['/server/github-mcp-server']);
    expect(container.args).toEqual(['http', '--port', '8082']);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(container[probe].tcpSocket).toEqual({ port: 8082 });
    }
    expect(find(objects, 'Service').metadata.annotations['agentgateway.dev/mcp-path']).toBe('/api/mcp');
    expect(server.url).toBe(`http://${server.name}.tools.svc.cluster.local:8082/api/mcp`);
  });

  test('without a command the image entrypoint runs', () => {
    const chart = newChart();
    new McpServer(chart, 'github', { source: McpServerSource.image('example/mcp:1'), transport: McpServerTransport.streamableHttp() });
    const container = serverContainer(synthValid(chart));
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
  });

  test('SSE: protocol, default /sse path and the mcp-sse appProtocol', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'legacy', { source: McpServerSource.image('example/legacy:1'), transport: McpServerTransport.sse() });
    const service = find(synthValid(chart), 'Service');
    expect(server.protocol).toBe(McpProtocol.SSE);
    expect(server.path).toBe('/sse');
    expect(service.spec.ports[0].appProtocol).toBe('agentgateway.dev/mcp-sse');
  });

  test('readiness and liveness can be overridden', () => {
    const chart = newChart();
    new McpServer(chart, 'github', {
      source: McpServerSource.image('example/mcp:1'),
      transport: McpServerTransport.streamableHttp(),
      readiness: kplus.Probe.fromHttpGet('/health', { port: 3000 }),
      liveness: kplus.Probe.fromCommand(['true']),
    });
    const container = serverContainer(synthValid(chart));
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/health', port: 3000 });
    expect(container.livenessProbe.exec).toEqual({ command: ['true'] });
  });
});

describe('configuration', () => {
  test('env from values, Secret and ConfigMap keys; whole Secrets and ConfigMaps; files', () => {
    const chart = newChart();
    const secret = kplus.Secret.fromSecretName(chart, 'GithubSecret', 'github');
    const config = kplus.ConfigMap.fromConfigMapName(chart, 'GithubConfig', 'github-config');
    new McpServer(chart, 'github', {
      source: McpServerSource.image('example/mcp:1', { command: ['github-mcp-server', 'stdio'] }),
      env: {
        GITHUB_TOOLSETS: kplus.EnvValue.fromValue('repos,issues'),
        GITHUB_PERSONAL_ACCESS_TOKEN: kplus.EnvValue.fromSecretValue({ secret, key: 'token' }),
        GITHUB_HOST: kplus.EnvValue.fromConfigMap(config, 'host'),
        HOME: kplus.EnvValue.fromValue('/home/custom'),
      },
      home: '/home/custom',
      envFrom: [kplus.Env.fromSecret(secret), kplus.Env.fromConfigMap(config, 'CFG_')],
      volumeMounts: [{ path: '/etc/github', volume: kplus.Volume.fromSecret(chart, 'Files', secret), readOnly: true }],
    });
    const objects = synthValid(chart);
    const container = serverContainer(objects);
    expect(env(container)).toMatchObject({
      GITHUB_TOOLSETS: 'repos,issues',
      GITHUB_PERSONAL_ACCESS_TOKEN: { secretKeyRef: { name: 'github', key: 'token' } },
      GITHUB_HOST: { configMapKeyRef: { name: 'github-config', key: 'host' } },
      HOME: '/home/custom',
      npm_config_cache: '/home/custom/.npm',
    });
    expect(container.envFrom).toEqual([{ secretRef: { name: 'github' } }, { configMapRef: { name: 'github-config' }, prefix: 'CFG_' }]);
    const fileMount = container.volumeMounts.find((m: any) => m.mountPath === '/etc/github');
    expect(fileMount).toMatchObject({ readOnly: true });
    expect(podSpec(objects).volumes.find((v: any) => v.name === fileMount.name)).toMatchObject({ secret: { secretName: 'github' } });
    expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: 'home', mountPath: '/home/custom' }]));
  });

  test('a created ServiceAccount carries workload-identity annotations and its token is mounted', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'bigquery', {
      source: McpServerSource.pypiPackage('mcp-server-bigquery', { version: '0.3.0' }),
      serviceAccount: {
        annotations: { 'iam.gke.io/gcp-service-account': 'mcp@project.iam.gserviceaccount.com' },
        labels: { team: 'data' },
      },
    });
    const objects = synthValid(chart);
    const account = find(objects, 'ServiceAccount');
    expect(account.metadata).toMatchObject({
      name: server.name,
      annotations: { 'iam.gke.io/gcp-service-account': 'mcp@project.iam.gserviceaccount.com' },
      labels: { 'team': 'data', 'mcp.cdk8s.io/server': 'bigquery' },
    });
    expect(podSpec(objects)).toMatchObject({ serviceAccountName: server.name, automountServiceAccountToken: true });
  });

  test('an existing ServiceAccount is used by name and not created', () => {
    const chart = newChart();
    new McpServer(chart, 'github', { source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }), serviceAccountName: 'github-reader' });
    const objects = synthValid(chart);
    expect(objects.filter(o => o.kind === 'ServiceAccount')).toEqual([]);
    expect(podSpec(objects)).toMatchObject({ serviceAccountName: 'github-reader', automountServiceAccountToken: true });
  });

  test('pull secrets, scheduling, pod metadata, replicas, resources, identity, start-up timeout and gateway image', () => {
    const chart = newChart();
    new McpServer(chart, 'github', {
      source: McpServerSource.image('registry.example.com/mcp:1', { command: ['mcp'] }),
      name: 'github-mcp',
      targetName: 'gh',
      imagePullSecrets: [kplus.Secret.fromSecretName(chart, 'Pull1', 'registry-a'), kplus.Secret.fromSecretName(chart, 'Pull2', 'registry-b')],
      imagePullPolicy: kplus.ImagePullPolicy.ALWAYS,
      nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      tolerations: [kplus.NodeTaintQuery.is('dedicated', 'mcp', { effect: kplus.TaintEffect.NO_SCHEDULE })],
      podLabels: { team: 'platform' },
      podAnnotations: { 'prometheus.io/scrape': 'false' },
      replicas: 3,
      resources: { cpu: { request: kplus.Cpu.millis(250) }, memory: { request: Size.mebibytes(512), limit: Size.mebibytes(512) } },
      user: 10001,
      group: 10001,
      readOnlyRootFilesystem: false,
      startupTimeout: Duration.minutes(5),
      gatewayImage: 'registry.example.com/mcp-gateway:1.2.3',
    });
    const objects = synthValid(chart);
    const deployment = find(objects, 'Deployment');
    const spec = deployment.spec.template.spec;
    expect(deployment.metadata.name).toBe('github-mcp');
    expect(find(objects, 'Service').metadata.name).toBe('github-mcp');
    expect(deployment.spec.replicas).toBe(3);
    expect(spec.imagePullSecrets).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'mcp', effect: 'NoSchedule' }]);
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'team': 'platform', 'app.kubernetes.io/name': 'gh' });
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'false' });
    expect(spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
    expect(spec.initContainers[0].image).toBe('registry.example.com/mcp-gateway:1.2.3');
    const container = serverContainer(objects);
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.securityContext).toMatchObject({ runAsUser: 10001, readOnlyRootFilesystem: false });
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } });
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBe(300);
  });

  test('targetName defaults to the lower-cased construct id', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'GitHub', { source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }) });
    expect(server.targetName).toBe('github');
    expect(find(synthValid(chart), 'Service').metadata.labels['mcp.cdk8s.io/server']).toBe('github');
  });

  test('the deployment is open to cdk8s-plus scheduling', () => {
    const chart = newChart();
    const server = new McpServer(chart, 'github', { source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }) });
    server.deployment.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is('pool', 'tools')));
    expect(podSpec(synthValid(chart)).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toBeDefined();
  });
});

describe('images', () => {
  test('the gateway image is tagged with this package version', () => {
    const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
    expect(McpImages.GATEWAY).toBe(`ghcr.io/cdk8s-mcp/gateway:${version}`);
  });

  test('runtime images are pinned Debian bookworm images', () => {
    for (const image of [McpImages.NODE, McpImages.UV]) {
      expect(image).toMatch(/:[0-9]+\.[0-9]+\.[0-9]+-.*bookworm/);
      expect(image).not.toMatch(/alpine/);
    }
  });
});

describe('kmcp workload', () => {
  function kmcpResource(objects: any[]): any {
    expect(objects.map(o => o.kind).sort()).toEqual(['MCPServer', 'NetworkPolicy']);
    return objects.find(o => o.kind === 'MCPServer');
  }

  function synthKmcp(chart: Chart): any {
    const objects = Testing.synth(chart);
    const report = expectValidManifests(objects);
    if (crdsPresent) {
      expect(report.checked.sort()).toEqual(objects.map(o => `${o.kind}/${o.metadata.name}`).sort());
    } else {
      expect(report.notChecked).toHaveLength(1);
    }
    return kmcpResource(objects);
  }

  test('a stdio npm server becomes an MCPServer with transportType stdio', () => {
    const chart = newChart();
    const secret = kplus.Secret.fromSecretName(chart, 'Secret', 'everything-env');
    const server = new McpServer(chart, 'everything', {
      source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31', args: ['stdio'] }),
      workload: McpServerWorkload.KMCP,
      env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') },
      envFrom: [kplus.Env.fromSecret(secret)],
      serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/mcp' } },
      imagePullSecrets: [kplus.Secret.fromSecretName(chart, 'Pull', 'registry')],
      nodeSelector: { pool: 'tools' },
      tolerations: [kplus.NodeTaintQuery.exists('dedicated')],
      podLabels: { team: 'platform' },
      podAnnotations: { note: 'x' },
      replicas: 2,
      startupTimeout: Duration.seconds(90),
      volumeMounts: [{ path: '/etc/everything', volume: kplus.Volume.fromSecret(chart, 'Files', secret), readOnly: true }],
    });
    const resource = synthKmcp(chart);
    expect(() => server.deployment.scheduling).toThrow(
      /McpServer test\/\w+: deployment does not exist with workload McpServerWorkload.KMCP: the kmcp controller creates the Deployment/,
    );
    expect(() => server.service).toThrow(/service does not exist with workload McpServerWorkload.KMCP/);
    expect(server.kmcpResource).toBeDefined();
    expect(resource.metadata.name).toBe(server.name);
    expect(resource.spec).toMatchObject({ transportType: 'stdio', stdioTransport: {}, timeout: '90s' });
    expect(resource.spec.deployment).toMatchObject({
      image: McpImages.NODE,
      port: 3000,
      cmd: 'npx',
      args: ['--yes', '@modelcontextprotocol/server-everything@2026.8.31', 'stdio'],
      env: { LOG_LEVEL: 'debug', HOME: '/home/mcp', npm_config_cache: '/home/mcp/.npm' },
      secretRefs: [{ name: 'everything-env' }],
      serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/mcp' } },
      imagePullSecrets: [{ name: 'registry' }],
      nodeSelector: { pool: 'tools' },
      tolerations: [{ key: 'dedicated', operator: 'Exists' }],
      labels: { 'team': 'platform', 'mcp.cdk8s.io/server': 'everything' },
      annotations: { note: 'x' },
      replicas: 2,
      resources: { requests: { cpu: '100m', memory: '256Mi' } },
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      podSecurityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      volumeMounts: [
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'home', mountPath: '/home/mcp' },
        { name: expect.any(String), mountPath: '/etc/everything', readOnly: true },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'home', emptyDir: {} }, expect.objectContaining({ secret: { secretName: 'everything-env' } })],
    });
    // kmcp's controller names the Service after the MCPServer and serves stdio servers at /mcp.
    expect(server.url).toBe(`http://${server.name}.tools.svc.cluster.local:3000/mcp`);
  });

  test('an HTTP server becomes transportType http with targetPort and path', () => {
    const chart = newChart();
    new McpServer(chart, 'github', {
      source: McpServerSource.image('example/mcp:1', { command: ['/server', 'http'], args: ['--port', '8080'] }),
      port: 8080,
      transport: McpServerTransport.streamableHttp(),
      serviceAccountName: 'existing',
      workload: McpServerWorkload.KMCP,
    });
    const resource = synthKmcp(chart);
    expect(resource.spec).toMatchObject({ transportType: 'http', httpTransport: { targetPort: 8080, path: '/mcp' } });
    expect(resource.spec.deployment).toMatchObject({ cmd: '/server', args: ['http', '--port', '8080'], port: 8080, serviceAccountName: 'existing' });
  });
});

describe('validation', () => {
  function expectSynthError(props: Partial<McpServerProps>, message: RegExp | string, id = 'server') {
    const chart = newChart();
    new McpServer(chart, id, { source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }), ...props });
    expect(() => Testing.synth(chart)).toThrow(message);
  }

  test.each([0, 70000, 3000.5])('port %p is out of range', port => {
    expectSynthError({ port }, new RegExp(`McpServer test/server: port ${port} is not a port number between 1 and 65535\\. Set port`));
  });

  test('empty image', () => {
    expectSynthError(
      { source: McpServerSource.image(' ', { command: ['mcp'] }) },
      /McpServer test\/server: source image is empty\. Pass the container image/,
    );
  });

  test('a stdio server without a command', () => {
    expectSynthError(
      { source: McpServerSource.image('example/mcp:1') },
      /source command is missing for a stdio server\. The bridge replaces the image entrypoint/,
    );
    expectSynthError({ source: McpServerSource.image('example/mcp:1', { command: ['npx', ''] }) }, /source command is empty or has an empty element/);
  });

  test('an HTTP path that does not start with "/"', () => {
    expectSynthError(
      { transport: McpServerTransport.streamableHttp({ path: 'mcp' }) },
      /transport path "mcp" does not start with "\/"\. Pass a path starting with "\/"/,
    );
  });

  test('a targetName that is not a DNS-1123 label, from the id or set', () => {
    expectSynthError(
      {},
      /targetName "my_server" is not a DNS-1123 label.*The default comes from the construct id "My_Server"; set targetName/,
      'My_Server',
    );
    expectSynthError({ targetName: 'GitHub' }, /targetName "GitHub" is not a DNS-1123 label.*Set targetName to a DNS-1123 label/);
  });

  test('a name that cannot name a Service', () => {
    expectSynthError({ name: '1github' }, /name "1github" must start with a letter to be a Service name.*Set name to a DNS-1035 label/);
    expectSynthError({ name: 'x'.repeat(64) }, /name "x+" is longer than 63 characters/);
  });

  test('both serviceAccount and serviceAccountName', () => {
    expectSynthError(
      { serviceAccount: {}, serviceAccountName: 'existing' },
      /serviceAccount and serviceAccountName are both set\. Set.*serviceAccountName.*not both/,
    );
  });

  test('a Secret or ConfigMap reference without a key', () => {
    const chart = newChart();
    const secret = kplus.Secret.fromSecretName(chart, 'Secret', 'github');
    const config = kplus.ConfigMap.fromConfigMapName(chart, 'Config', 'github');
    new McpServer(chart, 'server', {
      source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }),
      env: { TOKEN: kplus.EnvValue.fromSecretValue({ secret, key: '' }), HOST: kplus.EnvValue.fromConfigMap(config, '') },
    });
    expect(() => Testing.synth(chart)).toThrow(/env "TOKEN" references Secret "github" without a key\. Name the key/);
    expect(() => Testing.synth(chart)).toThrow(/env "HOST" references ConfigMap "github" without a key/);
  });

  test('an invalid environment variable name', () => {
    expectSynthError({ env: { '1TOKEN': kplus.EnvValue.fromValue('x') } }, /env "1TOKEN" "1TOKEN" is not a valid environment variable name/);
  });

  test('a volume mount at a relative or taken path', () => {
    const chart = newChart();
    const volume = kplus.Volume.fromConfigMap(chart, 'Files', kplus.ConfigMap.fromConfigMapName(chart, 'Config', 'files'));
    new McpServer(chart, 'server', {
      source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }),
      volumeMounts: [{ path: 'etc/files', volume }, { path: '/tmp/', volume }, { path: '/mcp-bridge', volume }],
    });
    expect(() => Testing.synth(chart)).toThrow(/volumeMounts\[0\]\.path "etc\/files" does not start with "\/"/);
    expect(() => Testing.synth(chart)).toThrow(/volumeMounts\[1\]\.path "\/tmp\/" is already mounted by McpServer/);
    expect(() => Testing.synth(chart)).toThrow(/volumeMounts\[2\]\.path "\/mcp-bridge" is already mounted by McpServer/);
  });

  test('pod labels that would change the selector', () => {
    expectSynthError(
      { podLabels: { 'app.kubernetes.io/name': 'other' } },
      /podLabels "app.kubernetes.io\/name" is the pod selector of the server\. Drop it/,
    );
  });

  test('root user, negative replicas, too short start-up timeout, relative home', () => {
    expectSynthError({ user: 0 }, /user is 0 \(root\)\. Containers run as non-root/);
    expectSynthError({ replicas: -1 }, /replicas -1 is not a whole number of pods/);
    expectSynthError({ startupTimeout: Duration.seconds(1) }, /startupTimeout 1s is shorter than one probe period/);
    expectSynthError({ home: 'home' }, /home "home" does not start with "\/"/);
  });

  test('an empty npm or PyPI package name', () => {
    const chart = newChart();
    new McpServer(chart, 'npm', { source: McpServerSource.npmPackage('') });
    new McpServer(chart, 'uvx', { source: McpServerSource.pypiPackage('mcp-server-fetch', { version: '' }) });
    expect(() => Testing.synth(chart)).toThrow(/McpServer test\/npm: source npm package or version is empty\. Pass the package name and its version/);
    expect(() => Testing.synth(chart)).toThrow(
      /McpServer test\/uvx: source PyPI package, version or executable is empty\. Pass the package name and its version/,
    );
  });

  test('every problem is reported at once', () => {
    const chart = newChart();
    new McpServer(chart, 'server', { source: McpServerSource.image('', { command: [] }), port: 0 });
    let message = '';
    try {
      Testing.synth(chart);
    } catch (e: any) {
      message = e.message;
    }
    expect(message).toMatch(/image is empty/);
    expect(message).toMatch(/port 0 is not a port number/);
    expect(message).toMatch(/command is empty/);
  });

  describe('what kmcp cannot express', () => {
    const KMCP = McpServerWorkload.KMCP;

    test('env from Secret keys', () => {
      const chart = newChart();
      const secret = kplus.Secret.fromSecretName(chart, 'Secret', 'github');
      new McpServer(chart, 'server', {
        source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }),
        workload: KMCP,
        env: { TOKEN: kplus.EnvValue.fromSecretValue({ secret, key: 'token' }) },
      });
      expect(() => Testing.synth(chart)).toThrow(
        /env "TOKEN" cannot be expressed by kmcp: its.*valueFrom\. Drop env "TOKEN".*or use workload McpServerWorkload\.KUBERNETES/,
      );
    });

    test('ConfigMaps as environment, and prefixes', () => {
      const chart = newChart();
      new McpServer(chart, 'server', {
        source: McpServerSource.image('example/mcp:1', { command: ['mcp'] }),
        workload: KMCP,
        envFrom: [
          kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(chart, 'Config', 'settings')),
          new kplus.EnvFrom(undefined, 'GH_', kplus.Secret.fromSecretName(chart, 'Secret', 'github')),
        ],
      });
      expect(() => Testing.synth(chart)).toThrow(
        /envFrom\[0\] cannot be expressed by kmcp: it injects only Secrets as environment.*mount ConfigMap "settings" with volumeMounts/,
      );
      expect(() => Testing.synth(chart)).toThrow(/envFrom\[1\] cannot be expressed by kmcp: its secretRefs have no prefix/);
    });

    test('SSE transport, probes and a gateway image', () => {
      const chart = newChart();
      new McpServer(chart, 'server', {
        source: McpServerSource.image('example/mcp:1'),
        workload: KMCP,
        transport: McpServerTransport.sse(),
        readiness: kplus.Probe.fromTcpSocket(),
        liveness: kplus.Probe.fromTcpSocket(),
        gatewayImage: 'example/gateway:1',
      });
      const synth = () => Testing.synth(chart);
      expect(synth).toThrow(/transport cannot be expressed by kmcp: its transportType is stdio or http/);
      expect(synth).toThrow(/readiness cannot be expressed by kmcp: it sets no probes\. Drop readiness/);
      expect(synth).toThrow(/liveness cannot be expressed by kmcp/);
      expect(synth).toThrow(/gatewayImage cannot be expressed by kmcp: it bridges stdio with its own agentgateway/);
    });

    test('pod-management options, each with its own reason, all in one synthesis with the other problems', () => {
      const chart = newChart();
      new McpServer(chart, 'server', {
        source: McpServerSource.image('', { command: ['mcp'] }),
        workload: KMCP,
        readiness: kplus.Probe.fromTcpSocket(),
        priorityClassName: 'high',
        topologySpread: true,
        autoscaling: { maxReplicas: 3 },
        disruptionBudget: WorkloadDisruptionBudget.maxUnavailable(1),
        preStopDelay: Duration.seconds(3),
        terminationGracePeriod: Duration.seconds(30),
      });
      const message = synthError(chart);
      for (const expected of [
        'image is empty',
        'readiness cannot be expressed by kmcp: it sets no probes',
        'priorityClassName cannot be expressed by kmcp: its deployment spec has no priorityClassName.',
        'topologySpread cannot be expressed by kmcp: its deployment spec has no topologySpreadConstraints (only affinity).',
        'autoscaling cannot be expressed by kmcp: its deployment spec has only a fixed replicas count and kmcp creates no HorizontalPodAutoscaler.',
        'disruptionBudget cannot be expressed by kmcp: kmcp creates no PodDisruptionBudget',
        'preStopDelay cannot be expressed by kmcp: its deployment spec has no lifecycle hooks',
        'terminationGracePeriod cannot be expressed by kmcp: its deployment spec has no terminationGracePeriodSeconds.',
      ]) {
        expect(message).toContain(expected);
      }
    });
  });
});
