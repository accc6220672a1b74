/**
 * Using the constructs without the cdk8s CLI (docs/programmatic-use.md): the programmatic example is
 * imported and also run as a program, and the Pulumi example is type-checked against the real
 * `@pulumi/kubernetes` types (running Pulumi needs a cluster and its engine, which tests do not have).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as YAML from 'yaml';
import { expectValidManifests } from './util/manifest-validation';
import { mcpObjects, mcpYaml } from '../examples/programmatic/main';

const ROOT = path.resolve(__dirname, '..');

describe('examples/programmatic', () => {
  test('mcpObjects() returns plain, valid Kubernetes objects for another tool', () => {
    const objs = mcpObjects();
    expectValidManifests(objs);
    // Plain JSON: what Pulumi's ConfigGroup `objs`, a Kubernetes client or JSON.stringify accept.
    expect(JSON.parse(JSON.stringify(objs))).toEqual(objs);
    for (const o of objs) {
      expect(o).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String), metadata: { name: expect.any(String), namespace: 'mcp' } });
    }
    const kinds = objs.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(2);
    expect(kinds).toEqual(expect.arrayContaining(['Service', 'ConfigMap']));
  });

  test('mcpYaml() is the same objects as YAML', () => {
    const fromYaml = YAML.parseAllDocuments(mcpYaml()).map((d) => d.toJS());
    expect(fromYaml).toEqual(mcpObjects());
  });

  test('props reach the objects, and a bad prop throws the constructs\' message', () => {
    const objs = mcpObjects({ everythingVersion: '2025.1.1', path: '/everything/mcp' });
    const args = objs.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers[0].args ?? []);
    expect(args).toContain('@modelcontextprotocol/server-everything@2025.1.1');
    const config = YAML.parse(objs.find((o) => o.kind === 'ConfigMap').data['config.yaml']);
    expect(JSON.stringify(config)).toContain('"/everything/mcp"');

    expect(() => mcpObjects({ path: 'everything' })).toThrow(/path must start with "\/"/);
  });

  test('run as a program, it prints the YAML on stdout', () => {
    const tsNode = require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
    const run = spawnSync(process.execPath, [tsNode, '--project', 'examples/tsconfig.json', 'examples/programmatic/main.ts'],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(YAML.parseAllDocuments(run.stdout).map((d) => d.toJS())).toEqual(mcpObjects());
  }, 150_000);
});

describe('examples/pulumi', () => {
  test('type-checks against @pulumi/kubernetes (objects handed to yaml.v2.ConfigGroup)', () => {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    const run = spawnSync(process.execPath, [tsc, '-p', 'examples/pulumi/tsconfig.json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 150_000);
});
