import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { CRDS_DIR, expectValidManifests, validateManifests } from './util/manifest-validation';

const crdsPresent = fs.existsSync(CRDS_DIR);
if (!crdsPresent) {
  console.warn(`manifest-validation.test: ${CRDS_DIR} not found; custom-resource checks did not run`);
}

function deployment(): any {
  const chart = new Chart(Testing.app(), 'test');
  const deploy = new kplus.Deployment(chart, 'web', {
    containers: [{ image: 'nginx:1.27', portNumber: 8080, envVariables: { A: kplus.EnvValue.fromValue('1') } }],
  });
  deploy.exposeViaService();
  return Testing.synth(chart);
}

function httpRoute(): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'mcp', namespace: 'tools' },
    spec: {
      parentRefs: [{ name: 'gateway' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/mcp' } }], backendRefs: [{ name: 'github', port: 3000 }] }],
    },
  };
}

describe('built-in kinds', () => {
  test('cdk8s-plus output is valid', () => {
    const report = expectValidManifests(deployment());
    expect(report.checked).toEqual(expect.arrayContaining([expect.stringMatching(/^Deployment\//), expect.stringMatching(/^Service\//)]));
  });

  test('a field of the wrong type is reported with its path', () => {
    const objects = deployment();
    const deploy = objects.find((o: any) => o.kind === 'Deployment');
    deploy.spec.replicas = 'three';
    deploy.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    const report = validateManifests(objects);
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ object: expect.stringMatching(/^Deployment\//), path: 'spec.replicas' }),
      expect.objectContaining({ path: 'spec.template.spec.containers[0].ports[0].containerPort' }),
    ]));
  });

  test('a missing required field is reported', () => {
    const objects = deployment();
    delete objects.find((o: any) => o.kind === 'Deployment').spec.selector;
    expect(() => expectValidManifests(objects)).toThrow(/Deployment\/.*selector/);
  });

  test('unknown fields are reported, but map keys (labels, limits) are not', () => {
    const objects = deployment();
    const deploy = objects.find((o: any) => o.kind === 'Deployment');
    deploy.spec.template.spec.containers[0].securityContext.runAsRoot = false;
    deploy.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'] = '1';
    deploy.metadata.labels = { 'app.kubernetes.io/name': 'web' };
    deploy.spec.replica = 2;
    const report = validateManifests(objects);
    expect(report.errors.map(e => `${e.path}: ${e.message}`).sort()).toEqual([
      'spec.replica: unknown field "replica"',
      'spec.template.spec.containers[0].securityContext.runAsRoot: unknown field "runAsRoot"',
    ]);
  });

  test('an unknown apiVersion or kind is an error', () => {
    const report = validateManifests([
      { apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'y' } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoutes', metadata: { name: 'z' } },
    ]);
    expect(report.errors.map(e => e.object)).toEqual(['Deploymnt/x', 'Widget/y', 'HTTPRoutes/z']);
  });

  test('a missing or invalid metadata.name is an error', () => {
    const report = validateManifests([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } },
    ]);
    expect(report.errors.map(e => e.path)).toEqual(['metadata.name', 'metadata.name']);
  });

  test('expectValidManifests lists every error in its message', () => {
    const objects = deployment();
    const deploy = objects.find((o: any) => o.kind === 'Deployment');
    deploy.spec.replicas = 'three';
    deploy.spec.bogus = true;
    expect(() => expectValidManifests(objects)).toThrow(/2 manifest error\(s\):\n.*spec\.replicas.*\n.*spec\.bogus: unknown field/);
  });
});

describe('custom resources', () => {
  test('a valid HTTPRoute passes (or is reported as not checked without ../shared/crds)', () => {
    const report = validateManifests([httpRoute()]);
    expect(report.valid).toBe(true);
    if (crdsPresent) {
      expect(report.checked).toEqual(['HTTPRoute/mcp']);
    } else {
      expect(report.notChecked).toEqual([{ object: 'HTTPRoute/mcp', reason: '../shared/crds not found' }]);
    }
  });

  test('a bad HTTPRoute is reported: wrong enum, unknown field, missing name', () => {
    const route = httpRoute();
    route.spec.rules[0].matches[0].path.type = 'Prefix';
    route.spec.rules[0].backendRefs[0].serviceName = 'github';
    route.spec.rules[0].backendRefs[0].port = 'http';
    const report = validateManifests([route, { ...httpRoute(), metadata: {} }]);
    if (!crdsPresent) {
      expect(report.errors.map(e => `${e.object} ${e.path}`)).toEqual(['HTTPRoute #1 metadata.name']);
      return;
    }
    expect(report.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: 'HTTPRoute/mcp',
          path: 'spec.rules[0].matches[0].path.type',
          message: expect.stringContaining('"PathPrefix"'),
        }),
        expect.objectContaining({
          object: 'HTTPRoute/mcp',
          path: 'spec.rules[0].backendRefs[0].serviceName',
          message: 'unknown field "serviceName"',
        }),
        expect.objectContaining({ object: 'HTTPRoute/mcp', path: 'spec.rules[0].backendRefs[0].port' }),
        expect.objectContaining({ object: 'HTTPRoute #1', path: 'metadata.name' }),
      ]),
    );
  });

  test('x-kubernetes-int-or-string fields accept integers and strings, nothing else', () => {
    const server = (cpu: unknown) => ({
      apiVersion: 'kagent.dev/v1alpha1',
      kind: 'MCPServer',
      metadata: { name: 'everything' },
      spec: {
        deployment: { image: 'node:22', cmd: 'npx', port: 3000, resources: { limits: { cpu, memory: '256Mi' } } },
        transportType: 'stdio',
      },
    });
    expect(validateManifests([server(1)]).errors).toEqual([]);
    expect(validateManifests([server('500m')]).errors).toEqual([]);
    const bad = validateManifests([server(true)]);
    if (crdsPresent) {
      expect(bad.errors.map(e => e.path)).toContain('spec.deployment.resources.limits.cpu');
    } else {
      expect(bad.notChecked).toHaveLength(1);
    }
  });

  test('without a CRD folder custom resources are "not checked" (warned once) while built-in kinds are still checked', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const missing = path.join(os.tmpdir(), 'cdk8s-mcp-no-crds-here');
      const objects = [httpRoute(), httpRoute(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, dataa: {} }];
      const report = validateManifests(objects, { crdsDir: missing });
      expect(report.notChecked).toEqual([
        { object: 'HTTPRoute/mcp', reason: '../shared/crds not found' },
        { object: 'HTTPRoute/mcp', reason: '../shared/crds not found' },
      ]);
      expect(report.errors).toEqual([expect.objectContaining({ object: 'ConfigMap/c', path: 'dataa' })]);
      validateManifests(objects, { crdsDir: missing });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toContain('not found');
    } finally {
      warn.mockRestore();
    }
  });

  test('every CRD schema this project relies on compiles', () => {
    const kinds: Array<[string, string]> = [
      ['gateway.networking.k8s.io/v1', 'Gateway'], ['gateway.networking.k8s.io/v1', 'GatewayClass'],
      ['gateway.networking.k8s.io/v1', 'HTTPRoute'], ['gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'],
      ['kagent.dev/v1alpha1', 'MCPServer'], ['agentgateway.dev/v1alpha1', 'AgentgatewayBackend'],
      ['agentgateway.dev/v1alpha1', 'AgentgatewayPolicy'], ['agentgateway.dev/v1alpha1', 'AgentgatewayParameters'],
      ['gateway.kgateway.dev/v1alpha1', 'Backend'], ['gateway.kgateway.dev/v1alpha1', 'TrafficPolicy'],
      ['gateway.kgateway.dev/v1alpha1', 'GatewayParameters'], ['k8s.keycloak.org/v2alpha1', 'Keycloak'],
      ['k8s.keycloak.org/v2alpha1', 'KeycloakRealmImport'],
    ];
    const report = validateManifests(kinds.map(([apiVersion, kind]) => ({ apiVersion, kind, metadata: { name: 'x' }, spec: {}, bogus: 1 })));
    if (crdsPresent) {
      expect(report.checked).toHaveLength(kinds.length);
      // `bogus` proves each schema rejects unknown top-level fields.
      expect(new Set(report.errors.filter(e => e.path === 'bogus').map(e => e.object)).size).toBe(kinds.length);
    } else {
      expect(report.notChecked).toHaveLength(kinds.length);
    }
  });

  test('a version the CRD does not serve is an error', () => {
    const route = { ...httpRoute(), apiVersion: 'gateway.networking.k8s.io/v9' };
    const report = validateManifests([route]);
    if (crdsPresent) {
      expect(report.errors).toEqual([expect.objectContaining({ path: 'apiVersion', message: expect.stringContaining('served versions: v1') })]);
    } else {
      expect(report.notChecked).toHaveLength(1);
    }
  });
});
