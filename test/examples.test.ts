import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { EXAMPLES, synthExamples } from '../examples/synth';
import { expectValidManifests } from './util/manifest-validation';

const RECOMMENDED_LABELS = ['name', 'instance', 'component', 'part-of', 'managed-by'].map((key) => `app.kubernetes.io/${key}`);

/** Whether a NetworkPolicy selects the pods of a workload (same namespace, matchLabels a subset of the pod labels). */
function selects(policy: any, workload: any): boolean {
  const labels = workload.spec.template.metadata.labels ?? {};
  return policy.metadata.namespace === workload.metadata.namespace
    && Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

describe.each(EXAMPLES.map((example) => [example.name, example] as const))('example %s', (_name, example) => {
  test('synthesizes, and every object passes the Kubernetes and CRD schemas', () => {
    const chart = example.create(Testing.app(), example.name);
    const manifests = Testing.synth(chart);
    const report = expectValidManifests(manifests);
    expect(report.checked.length + report.notChecked.length).toBe(manifests.length);
    expect(manifests.filter((o: any) => o.kind === 'ConfigMap' && o.data?.['config.yaml'])).toHaveLength(1);
  });

  test('is ready for a real cluster: NetworkPolicies select its pods, recommended labels everywhere, no start-dev', () => {
    const manifests = Testing.synth(example.create(Testing.app(), example.name));
    const policies = manifests.filter((o: any) => o.kind === 'NetworkPolicy');
    const workloads = manifests.filter((o: any) => o.kind === 'Deployment');
    expect(workloads.length).toBeGreaterThan(0);
    for (const workload of workloads) {
      const isolating = policies.filter((policy: any) => selects(policy, workload));
      expect({ workload: workload.metadata.name, isolated: isolating.some((p: any) => p.spec.policyTypes.includes('Ingress')) })
        .toEqual({ workload: workload.metadata.name, isolated: true });
    }
    for (const object of manifests) {
      const labels = object.metadata.labels ?? {};
      expect({ object: `${object.kind}/${object.metadata.name}`, missing: RECOMMENDED_LABELS.filter((key) => !labels[key]) })
        .toEqual({ object: `${object.kind}/${object.metadata.name}`, missing: [] });
      const podLabels = object.spec?.template?.metadata?.labels;
      if (podLabels) expect(RECOMMENDED_LABELS.filter((key) => !podLabels[key])).toEqual([]);
      // One domain for our own keys: nothing under the two retired ones.
      const keys = [
        ...Object.keys(labels),
        ...Object.keys(object.metadata.annotations ?? {}),
        ...Object.keys(object.spec?.template?.metadata?.annotations ?? {}),
      ];
      expect(keys.filter((key) => key.startsWith('cdk8s-mcp.dev/'))).toEqual([]);
    }
    const args = workloads.flatMap((w: any) => w.spec.template.spec.containers.flatMap((c: any) => [...(c.command ?? []), ...(c.args ?? [])]));
    if (example.name !== 'local-everything') expect(args).not.toContain('start-dev');
  });
});

test('github-stdio serves the GitHub server at /github/mcp through a Gateway and HTTPRoute', () => {
  const example = EXAMPLES.find((e) => e.name === 'github-stdio')!;
  const manifests = Testing.synth(example.create(Testing.app(), 'github-stdio'));
  expect(manifests.map((o: any) => o.kind)).toEqual(expect.arrayContaining(['Gateway', 'HTTPRoute']));
  const config = YAML.parse(manifests.find((o: any) => o.kind === 'ConfigMap' && o.data?.['config.yaml']).data['config.yaml']);
  const [route] = config.binds[0].listeners[0].routes;
  expect(route.matches).toEqual([{ path: { exact: '/github/mcp' } }]);
  const server = manifests.find(
    (o: any) => o.kind === 'Deployment' && o.spec.template.spec.containers.some((c: any) => c.image.startsWith('ghcr.io/github/github-mcp-server:')),
  );
  const container = server.spec.template.spec.containers[0];
  expect(container.args).toEqual(expect.arrayContaining(['/server/github-mcp-server', 'stdio']));
  expect(container.env).toEqual(expect.arrayContaining([
    { name: 'GITHUB_PERSONAL_ACCESS_TOKEN', valueFrom: { secretKeyRef: { name: 'github-token', key: 'token' } } },
  ]));
});

test('federation puts an npm, a uvx and an HTTP server behind one endpoint', () => {
  const example = EXAMPLES.find((e) => e.name === 'federation')!;
  const manifests = Testing.synth(example.create(Testing.app(), 'federation'));
  const config = YAML.parse(manifests.find((o: any) => o.kind === 'ConfigMap' && o.data?.['config.yaml']).data['config.yaml']);
  const routes = config.binds[0].listeners[0].routes;
  expect(routes).toHaveLength(1);
  expect(routes[0].backends[0].mcp.targets.map((t: any) => t.name)).toEqual(['everything', 'time', 'deepwiki']);
});

test('synth.ts writes each example as YAML under its own folder', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mcp-examples-'));
  try {
    const written = synthExamples(root);
    expect(written.map((dir) => path.basename(dir))).toEqual(EXAMPLES.map((e) => e.name));
    for (const dir of written) {
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
      expect(files).toHaveLength(1);
      const documents = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
      expect(documents.length).toBeGreaterThan(0);
      expect(documents.every((d) => d.errors.length === 0)).toBe(true);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('secure-github-per-user sends each user\'s own GitHub token: no shared PAT, a credential store, /connect/ routed', () => {
  const example = EXAMPLES.find((e) => e.name === 'secure-github-per-user')!;
  const manifests = Testing.synth(example.create(Testing.app(), 'secure-github-per-user'));
  const isGithubServer = (o: any) => o.kind === 'Deployment'
    && o.spec.template.spec.containers.some((c: any) => c.image.startsWith('ghcr.io/github/github-mcp-server:'));
  const container = manifests.find(isGithubServer).spec.template.spec.containers[0];
  expect([...container.command, ...container.args]).toEqual(['/server/github-mcp-server', 'http', '--port', '3000']);
  expect(JSON.stringify(manifests)).not.toContain('github-token');
  const config = YAML.parse(manifests.find((o: any) => o.kind === 'ConfigMap' && o.data?.['config.yaml']).data['config.yaml']);
  expect(config.binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].credential).toEqual({
    provider: 'github',
    inject: { header: 'Authorization' },
  });
  expect(Object.keys(config.config.credentials.providers)).toEqual(['github']);
  expect(config.config.credentials.publicUrl).toBe('http://mcp.192.168.49.2.nip.io');
  expect(config.config.credentials.browserSignIn).toEqual({
    clientId: 'mcp-gateway-connect',
    clientSecret: { env: 'CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET' },
  });
  const gatewayIngress = manifests.find((o: any) => o.kind === 'Ingress' && o.spec.rules[0].host.startsWith('mcp.'));
  expect(gatewayIngress.spec.rules[0].http.paths.map((p: any) => `${p.pathType} ${p.path}`)).toContain('Prefix /connect');
  const databases = manifests.filter((o: any) => o.kind === 'Cluster').map((o: any) => o.spec.bootstrap.initdb.database);
  expect(databases.sort()).toEqual(['keycloak', 'mcp_credentials']);
});
