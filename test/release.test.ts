/**
 * The release pipeline (.github/workflows/release.yml, generated from .projenrc.ts and projenrc/release.ts)
 * cannot run here, so: every workflow passes actionlint, and what it publishes is what the constructs and the
 * README point users at — the gateway image the constructs deploy by default is the repository and tag the
 * release pushes, both npm packages are published with the library's version, and the README installs them.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { McpImages } from '../src';

interface Finding { message: string; line: number; column: number; kind: string }

// actionlint in a process of its own: test/util/actionlint.mjs says why.
const ACTIONLINT = path.join(__dirname, 'util', 'actionlint.mjs');

/** actionlint's findings for the workflow `text`, reported as `file`. */
function actionlint(text: string, file: string): Finding[] {
  return JSON.parse(execFileSync(process.execPath, [ACTIONLINT, file], { input: text, encoding: 'utf8', timeout: 60_000 }));
}

const ROOT = path.resolve(__dirname, '..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const ROOT_PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const TASKS = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
const release = YAML.parse(fs.readFileSync(path.join(WORKFLOWS, 'release.yml'), 'utf8'));

interface Step { id?: string; name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> }
const stepsOf = (job: string): Step[] => release.jobs[job]?.steps ?? [];
const PUBLISHES = "needs.release.outputs.tag_exists != 'true' && needs.release.outputs.latest_commit == github.sha";

describe('workflows', () => {
  const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

  test('every workflow passes actionlint', () => {
    expect(files).toContain('release.yml');
    for (const file of files) {
      const problems = actionlint(fs.readFileSync(path.join(WORKFLOWS, file), 'utf8'), `.github/workflows/${file}`);
      expect({ file, problems: problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`) }).toEqual({ file, problems: [] });
    }
  });

  test('actionlint reports a broken workflow (the check above can fail)', () => {
    const broken = fs.readFileSync(path.join(WORKFLOWS, 'release.yml'), 'utf8')
      .replace('steps.version.outputs.version', 'steps.versoin.outputs.version')
      .replace('packages: write', 'packagez: write');
    const problems = actionlint(broken, 'release.yml');
    expect(problems.map((p) => p.kind).sort()).toEqual(expect.arrayContaining(['expression', 'permissions']));
  });
});

describe('the release publishes what the constructs and the README name', () => {
  const [repository, tag] = [
    McpImages.GATEWAY.slice(0, McpImages.GATEWAY.lastIndexOf(':')),
    McpImages.GATEWAY.slice(McpImages.GATEWAY.lastIndexOf(':') + 1),
  ];

  test('runs on every push to main, versions from conventional commits, builds and tests first', () => {
    expect(release.on.push.branches).toEqual(['main']);
    const bump = TASKS.bump;
    expect(bump.env.BUMP_PACKAGE).toMatch(/^commit-and-tag-version@/); // conventional commits decide the bump
    // The version lands in package.json (what src/images.ts reads for the default image tag) and in
    // dist/version.txt (what the image job tags with).
    expect(bump.env.OUTFILE).toBe('package.json');
    expect(bump.env.BUMPFILE).toBe('dist/version.txt');
    expect(TASKS.release.steps.map((s: { spawn?: string }) => s.spawn).filter(Boolean)).toEqual(['bump', 'build', 'unbump']);
    expect(TASKS.build.steps.map((s: { spawn?: string }) => s.spawn)).toEqual(expect.arrayContaining(['test', 'package']));
    expect(stepsOf('release').map((s) => s.run)).toContain('npx projen release');
    // Built and tested as root on Debian with the shipped Node, so scripts/ensure-test-deps.sh installs Debian's packages.
    expect(release.jobs.release.container.image).toMatch(/^node:24\.\d+\.\d+-bookworm$/);
  });

  test('the default gateway image is the repository the release pushes, tagged with the released version', () => {
    expect(repository).toBe('ghcr.io/cdk8s-mcp/gateway');
    expect(tag).toBe(ROOT_PACKAGE.version); // McpImages.GATEWAY follows package.json, which the release bumps
    const job = release.jobs.release_gateway_image;
    expect(job.needs).toBe('release');
    expect(job.if).toBe(PUBLISHES);
    const version = stepsOf('release_gateway_image').find((s) => s.id === 'version')!;
    expect(version.run).toContain('cat dist/version.txt');
    const push = stepsOf('release_gateway_image').find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(push.with).toMatchObject({
      context: 'runtime',
      file: 'runtime/Dockerfile',
      tags: `${repository}:\${{ steps.version.outputs.version }}`,
    });
    expect(String(push.with!.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    // Attested: the provenance is pushed to the registry beside the image, for the digest just pushed.
    const attest = stepsOf('release_gateway_image').find((s) => s.uses?.startsWith('actions/attest-build-provenance@'))!;
    expect(attest.with).toMatchObject({
      'subject-name': repository,
      'subject-digest': `\${{ steps.${push.id}.outputs.digest }}`,
      'push-to-registry': true,
    });
    expect(job.permissions).toMatchObject({ 'packages': 'write', 'id-token': 'write', 'attestations': 'write' });
  });

  test('both npm packages are published with provenance, the gateway with the library\'s version', () => {
    const npm = stepsOf('release_npm').find((s) => s.run?.includes('publib-npm'))!;
    expect(npm).toBeDefined();
    expect(release.jobs.release_npm.env ?? {}).not.toHaveProperty('NPM_TOKEN');
    expect((npm as Step & { env: Record<string, string> }).env).toMatchObject({ NPM_CONFIG_PROVENANCE: 'true', NPM_TRUSTED_PUBLISHER: 'true' });
    const gateway = stepsOf('release_gateway_npm').find((s) => s.run?.includes('npm publish'))!;
    expect(gateway.run).toMatch(/npm publish "\$tarball" --access public --provenance/);
    expect(gateway.run).toContain('dist/gateway/*.tgz');
    expect(release.jobs.release_gateway_npm.if).toBe(PUBLISHES);
    expect(release.jobs.release_gateway_npm.permissions).toMatchObject({ 'id-token': 'write' });
    // The release build's package step writes that tarball.
    expect(TASKS.package.steps.map((s: { exec?: string }) => s.exec)).toContain('node scripts/pack-gateway.mjs');
  });

  test('the gateway tarball the release packs carries the library\'s version and no development scripts', () => {
    if (!fs.existsSync(path.join(ROOT, 'runtime', 'lib', 'cli.js'))) {
      throw new Error('runtime/lib/cli.js is missing: `npm --prefix runtime run compile` (npm test does) before this test');
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-pack-'));
    try {
      const tarball = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack-gateway.mjs'), '--out', out], { encoding: 'utf8' }).trim();
      const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }));
      expect(manifest).toMatchObject({ name: '@cdk8s-mcp/gateway', version: ROOT_PACKAGE.version, bin: { 'mcp-gateway': 'lib/cli.js' } });
      expect(manifest).not.toHaveProperty('scripts');
      expect(manifest).not.toHaveProperty('devDependencies');
      expect(manifest.engines.node).toBe(ROOT_PACKAGE.engines.node);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('the README installs the packages the release publishes and says how to use another registry', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const install = readme.match(/npm install (cdk8s-mcp[^`\n]*)/)?.[1].split(/\s+/);
    expect(install?.[0]).toBe(ROOT_PACKAGE.name);
    expect(install).toEqual(expect.arrayContaining(Object.keys(ROOT_PACKAGE.peerDependencies)));
    expect(readme).toContain('npm install -g @cdk8s-mcp/gateway');
    expect(readme).toContain(repository);
    expect(readme).toMatch(/gatewayImage/);
  });
});
