/**
 * The `cdk8s-mcp` CLI, run as a real process the way users run it: `node bin/cdk8s-mcp ...` on the
 * compiled library (`npm test` compiles first). Without a compiled `lib/` (a quick `npx jest` after
 * editing src/) it runs the same entry point from source through ts-node.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { expectValidManifests } from './util/manifest-validation';

const ROOT = path.resolve(__dirname, '..');
// CDK8S_MCP_TEST_FROM_SOURCE=1 forces the source path even when lib/ exists (e.g. a stale lib/).
const COMPILED = !process.env.CDK8S_MCP_TEST_FROM_SOURCE && fs.existsSync(path.join(ROOT, 'lib', 'cli', 'main.js'));
const FROM_SOURCE = `require(${JSON.stringify(require.resolve('ts-node', { paths: [ROOT] }))})`
  + `.register({ project: ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))}, transpileOnly: true });
require(${JSON.stringify(path.join(ROOT, 'src', 'cli', 'main.ts'))}).main(process.argv.slice(1)).then((code) => { process.exitCode = code; });`;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], cwd: string = ROOT): Run {
  const argv = COMPILED ? [path.join(ROOT, 'bin', 'cdk8s-mcp'), ...args] : ['-e', FROM_SOURCE, '--', ...args];
  const result = spawnSync(process.execPath, argv, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function objects(yaml: string): any[] {
  return YAML.parseAllDocuments(yaml).map((doc) => doc.toJS());
}

function find(objs: any[], kind: string, name?: string): any {
  const found = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? `/${name}` : ''} in ${objs.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found;
}

/** A failed run: exit 2, nothing on stdout, the reason on the first stderr line, then the usage. */
function expectUsageError(run: Run, reason: RegExp, usage: RegExp = /^Usage: cdk8s-mcp server/m) {
  expect(run.stdout).toBe('');
  const [first, ...rest] = run.stderr.split('\n');
  expect(first).toMatch(/^cdk8s-mcp: /);
  expect(first).toMatch(reason);
  expect(rest.join('\n')).toMatch(usage);
  expect(run.status).toBe(2);
}

describe('cdk8s-mcp server', () => {
  test('--npm prints a bridged server as YAML, and only YAML, on stdout', () => {
    const run = cli(['server', '--npm', '@modelcontextprotocol/server-everything', '--version', '2026.8.31',
      '--namespace', 'tools', '--env', 'LOG_LEVEL=debug', '--env', 'EMPTY=', '--secret', 'everything-env',
      '--args=--verbose', '--', 'stdio', '--name=x']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const objs = objects(run.stdout);
    // Isolated by default: only a gateway routing to it (none here) or peers allowed later may connect.
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/server-everything',
      'NetworkPolicy/server-everything-connections-ingress',
      'Service/server-everything',
    ]);
    expectValidManifests(objs);

    const deployment = find(objs, 'Deployment');
    expect(deployment.metadata.namespace).toBe('tools');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toMatch(/^node:/);
    // The bridge starts npx with the pinned package; --args come before the words after --.
    expect(container.args).toEqual([
      '--host',
      '0.0.0.0',
      '--port',
      '3000',
      '--',
      'npx',
      '--yes',
      '@modelcontextprotocol/server-everything@2026.8.31',
      '--verbose',
      'stdio',
      '--name=x',
    ]);
    expect(container.env).toEqual(expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'EMPTY', value: '' }]));
    expect(container.envFrom).toEqual([{ secretRef: { name: 'everything-env' } }]);
    const service = find(objs, 'Service');
    expect(service.spec.ports[0]).toMatchObject({ port: 3000, targetPort: 3000 });
  });

  test('--gateway adds an McpGateway whose route at --path targets the server', () => {
    const run = cli(['server', '--uvx', 'mcp-server-fetch', '--version', '2025.4.7', '--name', 'fetch', '--namespace', 'tools',
      '--port', '3100', '--gateway', '--path', '/fetch/mcp']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const objs = objects(run.stdout);
    expectValidManifests(objs);
    const server = find(objs, 'Deployment', 'fetch');
    expect(server.spec.template.spec.containers[0].args).toEqual(['--host', '0.0.0.0', '--port', '3100', '--', 'uvx', 'mcp-server-fetch@2025.4.7']);
    const configMap = find(objs, 'ConfigMap');
    const config = YAML.parse(configMap.data['config.yaml']);
    const route = config.binds[0].listeners[0].routes[0];
    expect(route.matches).toEqual([{ path: { exact: '/fetch/mcp' } }]);
    expect(JSON.stringify(route.backends)).toContain('http://fetch.tools.svc.cluster.local:3100/mcp');
    // The gateway runs in the same namespace as the server.
    for (const o of objs) expect(o.metadata.namespace).toBe('tools');
    expect(objs.filter((o) => o.kind === 'Deployment')).toHaveLength(2);
  });

  test('--image with --transport http runs the image as is, listening on --port', () => {
    const run = cli(['server', '--image', 'ghcr.io/example/fetcher:1.0', '--transport', 'http', '--port', '8000']);
    expect(run.status).toBe(0);
    const objs = objects(run.stdout);
    expectValidManifests(objs);
    const deployment = find(objs, 'Deployment', 'fetcher');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/example/fetcher:1.0');
    expect(container.command).toBeUndefined();
    expect(deployment.spec.template.spec.initContainers ?? []).toEqual([]);
    expect(find(objs, 'Service', 'fetcher').metadata.annotations['agentgateway.dev/mcp-path']).toBe('/mcp');
  });

  test('--image with --command runs a stdio server behind the bridge', () => {
    const run = cli(['server', '--image', 'python:3.12-slim', '--name', 'echo', '--command', 'python', '--', '-m', 'echo_server']);
    expect(run.status).toBe(0);
    const container = find(objects(run.stdout), 'Deployment', 'echo').spec.template.spec.containers[0];
    expect(container.command).toEqual(['/mcp-bridge/lib/ld.so', '--library-path', '/mcp-bridge/lib', '/mcp-bridge/mcp-gateway']);
    expect(container.args).toEqual(['--host', '0.0.0.0', '--port', '3000', '--', 'python', '-m', 'echo_server']);
  });

  test('an unpinned package gets a note on stderr; stdout stays pure YAML', () => {
    const run = cli(['server', '--npm', '@modelcontextprotocol/server-everything']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^cdk8s-mcp: note: @modelcontextprotocol\/server-everything is not pinned.*--version/);
    const args = find(objects(run.stdout), 'Deployment').spec.template.spec.containers[0].args;
    expect(args).toContain('@modelcontextprotocol/server-everything@latest');
  });

  test('--help prints the usage on stdout and exits 0', () => {
    const run = cli(['server', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: cdk8s-mcp server/);
    expect(run.stdout).toContain('--npm <package>');
    expect(run.stderr).toBe('');
  });

  test.each([
    [['--npm', 'x', '--bogus'], /unknown option --bogus/],
    [[], /missing what to run/],
    [['--npm', 'a', '--uvx', 'b'], /--npm and --uvx cannot be combined/],
    [['--npm', 'x', '--env', 'FOO'], /invalid --env "FOO": use KEY=VALUE/],
    [['--npm', 'x', '--env', '=bar'], /invalid --env "=bar"/],
    [['--npm', 'x', '--name', 'Bad_Name'], /invalid --name: "Bad_Name" is not a DNS-1123 label/],
    [['--npm', '@scope/1tool'], /cannot derive a name from "@scope\/1tool".*pass --name/],
    [['--npm', 'x', '--namespace', 'Tools'], /invalid --namespace/],
    [['--npm', 'x', '--port', '70000'], /invalid --port "70000"/],
    [['--npm', 'x', '--transport', 'grpc'], /invalid --transport "grpc"/],
    [['--npm'], /option --npm needs a value/],
    [['--npm', 'x', '--path', '/x/mcp'], /--path .* add --gateway/],
    [['--npm', 'x', '--gateway', '--path', 'mcp'], /invalid --path: "mcp" does not start with "\/"/],
    [['--npm', 'x', '--command', 'node'], /--command works with --image only/],
    [['--image', 'img'], /needs --command/],
    [['--npm', 'x', 'stray'], /unexpected argument "stray"/],
  ])('bad arguments %j: one-line reason, usage, exit 2', (args, reason) => {
    expectUsageError(cli(['server', ...args]), reason);
  });

  test('a value the constructs reject surfaces as the one-line reason', () => {
    // The CLI does not check variable names itself; McpServer's validation does.
    const run = cli(['server', '--npm', 'x', '--env', '1BAD=x']);
    expectUsageError(run, /env "1BAD".*not a valid environment variable name/);
    expect(run.stderr.split('\n')[0]).not.toMatch(/Validation failed/);
  });
});

describe('cdk8s-mcp', () => {
  test('without a command: reason and the command list, exit 2', () => {
    expectUsageError(cli([]), /missing command/, /^Commands:/m);
  });

  test('an unknown command: reason and the command list, exit 2', () => {
    expectUsageError(cli(['deploy']), /unknown command "deploy"/, /^Commands:/m);
  });

  test('--help and --version', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/server .*\n.*init /);
    const serverHelp = cli(['help', 'server']);
    expect(serverHelp.status).toBe(0);
    expect(serverHelp.stdout).toMatch(/^Usage: cdk8s-mcp server/);
    const version = cli(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe('cdk8s-mcp init', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mcp-init-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The generated app against this checkout: the packages it imports are linked into its
   * node_modules (the same copies the library resolves, so construct classes match), and its main.ts
   * runs with the repository's ts-node, type-checked, exactly as `cdk8s synth` would run it.
   */
  function linkDependencies(app: string) {
    const modules = path.join(app, 'node_modules');
    fs.mkdirSync(path.join(modules, '@types'), { recursive: true });
    if (COMPILED) {
      fs.symlinkSync(ROOT, path.join(modules, 'cdk8s-mcp'), 'dir');
    } else {
      // No lib/: compile the sources into the app's copy of the package (TypeScript never emits a
      // .ts file it reached through node_modules, so pointing the package at src/ does not work).
      const copy = path.join(modules, 'cdk8s-mcp');
      const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
      const build = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', path.join(copy, 'lib')], {
        encoding: 'utf8',
      });
      if (build.status !== 0) throw new Error(`tsc failed:\n${build.stdout}${build.stderr}`);
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    }
    for (const dep of ['cdk8s', 'cdk8s-plus-28', 'constructs', '@types/node', '@bufbuild']) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep), 'dir');
    }
  }

  test('creates a cdk8s app whose main.ts synthesizes a server behind a gateway', () => {
    const app = path.join(dir, 'My MCP App');
    const run = cli(['init', app]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('npx cdk8s synth');
    expect(fs.readdirSync(app).sort()).toEqual(['.gitignore', 'cdk8s.yaml', 'main.ts', 'package.json', 'tsconfig.json']);

    const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-mcp-app');
    expect(pkg.dependencies).toEqual({
      'cdk8s': root.peerDependencies.cdk8s,
      'cdk8s-mcp': `^${root.version}`,
      'cdk8s-plus-28': root.peerDependencies['cdk8s-plus-28'],
      'constructs': root.peerDependencies.constructs,
    });
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['cdk8s-cli', 'ts-node', 'typescript']));
    expect(YAML.parse(fs.readFileSync(path.join(app, 'cdk8s.yaml'), 'utf8'))).toEqual({ language: 'typescript', app: 'npx ts-node main.ts' });

    linkDependencies(app);
    const tsNode = require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
    const synth = spawnSync(process.execPath, [tsNode, 'main.ts'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);

    const objs = objects(fs.readFileSync(path.join(app, 'dist', 'my-mcp-app.k8s.yaml'), 'utf8'));
    expectValidManifests(objs);
    const kinds = objs.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(2);
    expect(kinds).toEqual(expect.arrayContaining(['Service', 'ConfigMap']));
    const args = objs.flatMap((o) => o.kind === 'Deployment' ? o.spec.template.spec.containers[0].args ?? [] : []);
    expect(args).toContain('@modelcontextprotocol/server-everything@2026.8.31');
  }, 180_000);

  test('refuses to overwrite an existing app unless --force', () => {
    fs.writeFileSync(path.join(dir, 'main.ts'), '// mine\n');
    const refused = cli(['init', dir]);
    expectUsageError(refused, /main\.ts already exists in .*; pass --force to overwrite/, /^Usage: cdk8s-mcp init/m);
    expect(fs.readFileSync(path.join(dir, 'main.ts'), 'utf8')).toBe('// mine\n');
    expect(fs.existsSync(path.join(dir, 'package.json'))).toBe(false);

    const forced = cli(['init', dir, '--force', '--name', 'tools']);
    expect(forced.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'main.ts'), 'utf8')).toContain("new McpChart(app, 'tools')");
  });

  test('bad arguments: one-line reason, usage, exit 2', () => {
    expectUsageError(cli(['init', dir, '--name', 'Not Valid']), /app name "Not Valid" is not a DNS-1123 label/, /^Usage: cdk8s-mcp init/m);
    expectUsageError(cli(['init', 'a', 'b']), /expected at most one directory/, /^Usage: cdk8s-mcp init/m);
    expectUsageError(cli(['init', '--template', 'go']), /unknown option --template/, /^Usage: cdk8s-mcp init/m);
    expectUsageError(cli(['init', '___'], dir), /app name is empty \(taken from the directory name; pass --name\)/, /^Usage: cdk8s-mcp init/m);
  });
});
