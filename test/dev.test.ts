import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { LocalEverythingChart } from '../examples/local-everything/main';

/**
 * `mcp-gateway dev` is the README's main job: synthesized manifests run on this machine, with the
 * stdio server the manifests describe started as a local process and listed with a real MCP client.
 */
const CLI = path.resolve(__dirname, '..', 'runtime', 'lib', 'cli.js');

function runDev(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'dev', ...args], { encoding: 'utf8', timeout: 240_000 });
}

describe('mcp-gateway dev', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-dev-'));
    const app = new App({ outdir: dir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    new LocalEverythingChart(app, 'local-everything');
    app.synth();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('runs the synthesized local-everything example and lists the tools of its stdio server', () => {
    const run = runDev([dir, '--port', '0', '--once']);
    expect(run.stderr).toMatch(/target "everything" runs locally as: npx --yes @modelcontextprotocol\/server-everything@/);
    expect(run.stderr).toMatch(/route mcp: \d+ tools: .*\becho\b/);
    expect(run.status).toBe(0);
  }, 300_000);

  test('a folder without a gateway ConfigMap fails with the reason', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-dev-empty-'));
    fs.writeFileSync(path.join(empty, 'x.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n');
    const run = runDev([empty, '--once']);
    fs.rmSync(empty, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no gateway configuration found: expected a ConfigMap with a "config.yaml" key/);
  });

  test('bad arguments exit 2 with a one-line reason and the usage', () => {
    const run = runDev([dir, '--port', 'eighty']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^mcp-gateway dev: --port must be a number/);
    expect(run.stderr).toMatch(/Usage:/);
  });
});
