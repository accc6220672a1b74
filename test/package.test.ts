/**
 * The npm package as users get it: `npm pack` of this checkout (after the jsii compile that `npm test`
 * runs first), its file list checked against what we mean to publish, then the tarball installed into
 * a fresh app outside the repository and used there, both as a library and through its bin.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const ROOT_PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const SERVER_PACKAGE = '@modelcontextprotocol/server-everything';

/** What the tarball may contain, relative to its `package/` folder. */
const ALLOWED: RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^API\.md$/,
  /^\.jsii$/,
  /^bin\/cdk8s-mcp$/,
  /^lib\/.+\.(js|d\.ts)$/,
  // jsii requires non-jsii dependencies to be bundled.
  /^node_modules\/@bufbuild\/.+$/,
];

/** What it must contain. */
const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  '.jsii',
  'bin/cdk8s-mcp',
  'lib/index.js',
  'lib/index.d.ts',
  'lib/cli/main.js',
  'node_modules/@bufbuild/cel/package.json',
];

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

function objects(yaml: string): any[] {
  return YAML.parseAllDocuments(yaml).map((doc) => doc.toJS());
}

let work: string;
let tarball: string;
let files: string[];

beforeAll(() => {
  for (const built of ['.jsii', 'lib/index.js', 'lib/cli/main.js']) {
    if (!fs.existsSync(path.join(ROOT, built))) {
      throw new Error(`${built} is missing: compile with \`npx jsii --silence-warnings=reserved-word\` (npm test does) before this test`);
    }
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mcp-package-'));
  // `npm pack` prints lifecycle output before the JSON on stdout; the file name is its last line.
  const output = npm(['pack', '--pack-destination', work], ROOT).trim().split('\n');
  tarball = path.join(work, output[output.length - 1].trim());
  files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, ''));
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the library, its assembly, docs, the CLI launcher and bundled deps, and nothing else', () => {
  const unexpected = files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
  expect(unexpected).toEqual([]);
  expect(files).toEqual(expect.arrayContaining(REQUIRED));
  if (fs.existsSync(path.join(ROOT, 'API.md'))) expect(files).toContain('API.md');
  // Every compiled module ships with its declarations.
  for (const js of files.filter((file) => /^lib\/.+\.js$/.test(file))) {
    expect(files).toContain(js.replace(/\.js$/, '.d.ts'));
  }
});

test('its package.json has no lifecycle script: nothing of the repository\'s development runs on install', () => {
  const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  const lifecycle = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare', 'prepack', 'postpack'];
  expect(Object.keys(manifest.scripts ?? {}).filter((name) => lifecycle.includes(name))).toEqual([]);
  expect(manifest.engines.node).toBe('>= 22.0.0');
});

test('the gateway runtime package (@cdk8s-mcp/gateway) ships its compiled program, schema and docs only', () => {
  const runtime = path.join(ROOT, 'runtime');
  if (!fs.existsSync(path.join(runtime, 'lib', 'cli.js'))) {
    throw new Error('runtime/lib/cli.js is missing: `npm --prefix runtime run compile` (npm test does) before this test');
  }
  // A dry run lists what `npm publish` would upload; --json output is the manifest npm computed.
  const report = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], runtime));
  const runtimeFiles: string[] = report[0].files.map((f: { path: string }) => f.path);
  const unexpected = runtimeFiles.filter((file) => !/^(package\.json|README\.md|LICENSE|lib\/.+\.(js|d\.ts)|schema\/.+\.json)$/.test(file));
  expect(unexpected).toEqual([]);
  expect(runtimeFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'lib/cli.js', 'schema/config.schema.json']));
  expect(report[0].name).toBe('@cdk8s-mcp/gateway');
});

describe('installed into a fresh app', () => {
  let app: string;

  beforeAll(() => {
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke', version: '0.0.0', private: true }));
    const dev = ROOT_PACKAGE.devDependencies;
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball,
      `cdk8s@${dev.cdk8s}`, `cdk8s-plus-28@${dev['cdk8s-plus-28']}`, `constructs@${dev.constructs}`], app);
  }, 240_000);

  test('a plain JavaScript app synthesizes an npm server behind a gateway', () => {
    fs.writeFileSync(
      path.join(app, 'main.js'),
      `
const { App, Chart } = require('cdk8s');
const { McpGateway, McpServer, McpServerSource } = require('cdk8s-mcp');

const app = new App();
const chart = new Chart(app, 'smoke', { namespace: 'tools' });
const everything = new McpServer(chart, 'everything', {
  source: McpServerSource.npmPackage('${SERVER_PACKAGE}', { version: '2026.8.31' }),
  name: 'everything',
});
new McpGateway(chart, 'gateway', { routes: [{ path: '/mcp', targets: [everything] }] });
process.stdout.write(app.synthYaml());
`,
    );
    const run = spawnSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // The app's cdk8s-mcp is the installed copy, not this checkout.
    expect(fs.realpathSync(path.join(app, 'node_modules', 'cdk8s-mcp'))).not.toContain(ROOT);

    const objs = objects(run.stdout);
    const deployments = objs.filter((o) => o.kind === 'Deployment');
    expect(deployments).toHaveLength(2);
    const server = deployments.find((d) => d.metadata.name === 'everything');
    expect(server.spec.template.spec.containers[0].args).toContain(`${SERVER_PACKAGE}@2026.8.31`);
    const config = YAML.parse(objs.find((o) => o.kind === 'ConfigMap').data['config.yaml']);
    expect(JSON.stringify(config)).toContain('http://everything.tools.svc.cluster.local:3000/mcp');

    // The gateway image (bridge init container and gateway) is the one released with this version.
    const images = deployments.flatMap((d) => [...d.spec.template.spec.initContainers ?? [], ...d.spec.template.spec.containers])
      .map((c: any) => c.image as string)
      .filter((image) => image.startsWith('ghcr.io/cdk8s-mcp/gateway:'));
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toBe(`ghcr.io/cdk8s-mcp/gateway:${ROOT_PACKAGE.version}`);
  });

  test('an app from the installed `cdk8s-mcp init` synthesizes against the installed package', () => {
    const bin = path.join(app, 'node_modules', '.bin', 'cdk8s-mcp');
    // Inside the app, so the generated main.ts resolves cdk8s-mcp and cdk8s from its node_modules.
    const init = spawnSync(bin, ['init', 'generated'], { cwd: app, encoding: 'utf8' });
    expect(init.status).toBe(0);
    expect(init.stdout).toBe('');
    const generated = path.join(app, 'generated');
    const tsNode = require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
    const synth = spawnSync(process.execPath, [tsNode, 'main.ts'], { cwd: generated, encoding: 'utf8', timeout: 120_000 });
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);
    const objs = objects(fs.readFileSync(path.join(generated, 'dist', 'generated.k8s.yaml'), 'utf8'));
    expect(objs.filter((o) => o.kind === 'Deployment')).toHaveLength(2);
  }, 150_000);

  test('the installed cdk8s-mcp bin prints manifests and rejects bad arguments', () => {
    const bin = path.join(app, 'node_modules', '.bin', 'cdk8s-mcp');
    const ok = spawnSync(bin, ['server', '--npm', SERVER_PACKAGE, '--version', '2026.8.31', '--gateway'], { cwd: app, encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(objects(ok.stdout).map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap']));

    const bad = spawnSync(bin, ['server', '--npm', 'x', '--env', 'NOEQUALS'], { cwd: app, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.split('\n')[0]).toBe('cdk8s-mcp: invalid --env "NOEQUALS": use KEY=VALUE');
  });
});
