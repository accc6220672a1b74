/**
 * There is no Docker engine where this runs, so the Dockerfile is checked by reading it: everything it
 * COPYs from the build context exists and is not dockerignored, everything it copies out of the build
 * stage is something the build steps produce, and the command its ENTRYPOINT names actually runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

const RUNTIME = process.cwd();

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

interface Stage {
  index: number;
  name?: string;
  image: string;
  workdir: string;
}

/** Parses a Dockerfile: continuation lines joined, comments dropped, ARG defaults substituted in FROM. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const instructions: Instruction[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) continue;
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=', 2);
      args.set(k, v ?? '');
    }
    if (op === 'FROM') {
      const [image, as, name] = rest.replace(/\$\{(\w+)\}/g, (_, k) => args.get(k) ?? '').split(/\s+/);
      stages.push({ index: stages.length, image, name: as?.toUpperCase() === 'AS' ? name : undefined, workdir: '/' });
    }
    if (op === 'WORKDIR') stages[stages.length - 1].workdir = posix.resolve(stages[stages.length - 1].workdir, rest);
    instructions.push({ op, args: rest, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  /** Sources land inside `dest` (a `dir/` destination or several sources) rather than as `dest`. */
  intoDir: boolean;
  stage: Stage;
}

function copies(instructions: Instruction[], stages: Stage[]): Copy[] {
  // WORKDIR can change between COPYs: replay them in order.
  const workdirs = stages.map(() => '/');
  const out: Copy[] = [];
  for (const i of instructions) {
    if (i.op === 'WORKDIR') workdirs[i.stage] = posix.resolve(workdirs[i.stage], i.args);
    if (i.op !== 'COPY') continue;
    const words = i.args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    const rawDest = paths[paths.length - 1];
    const dest = posix.resolve(workdirs[i.stage], rawDest);
    const sources = paths.slice(0, -1);
    const intoDir = rawDest.endsWith('/') || rawDest === '.' || sources.length > 1;
    out.push({ from, sources, dest, intoDir, stage: { ...stages[i.stage], workdir: workdirs[i.stage] } });
  }
  return out;
}

/** The .dockerignore patterns this project uses: plain names and `*.ext`, matched against any path segment. */
function ignored(path: string, patterns: string[]): boolean {
  const segments = path.replace(/^\.\//, '').split('/');
  return patterns.some((p) => {
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return re.test(segments[0]) || re.test(path.replace(/^\.\//, ''));
  });
}

const dockerfile = readFileSync(join(RUNTIME, 'Dockerfile'), 'utf8');
const { instructions, stages } = parseDockerfile(dockerfile);
const allCopies = copies(instructions, stages);
const dockerignore = readFileSync(join(RUNTIME, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const buildStage = stages.find((s) => s.name === 'build')!;
const finalStage = stages[stages.length - 1];
const buildRuns = instructions.filter((i) => i.stage === buildStage.index && i.op === 'RUN').map((i) => i.args);

/** Where a path inside the build stage comes from in this repository (the context is runtime/). */
function buildPathToRepo(p: string): string {
  const rel = posix.relative(buildStage.workdir, p);
  if (rel.startsWith('..')) throw new Error(`${p} is outside the build stage's WORKDIR ${buildStage.workdir}`);
  return rel;
}

/** What the build stage's own steps create, each with the step that creates it and where the repo says so. */
function producedByBuild(): Map<string, { step: RegExp; where: () => string }> {
  const tsconfig = JSON.parse(
    readFileSync(join(RUNTIME, 'tsconfig.json'), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n'),
  ) as { compilerOptions: { outDir: string } };
  const seaOut = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "import('./scripts/build-sea.mjs').then((m) => process.stdout.write(m.DEFAULT_OUT))"],
    { cwd: RUNTIME, encoding: 'utf8' },
  );
  return new Map([
    ['node_modules', { step: /\bnpm ci\b/, where: () => 'node_modules' }],
    [tsconfig.compilerOptions.outDir, { step: /\btsc --build\b/, where: () => tsconfig.compilerOptions.outDir }],
    ['.sea/mcp-gateway', { step: /\bnode scripts\/build-sea\.mjs\b/, where: () => posix.relative(RUNTIME, seaOut) }],
  ]);
}

describe('runtime/Dockerfile', () => {
  test('is a multi-stage build on pinned Node 24 images, ending non-root with the gateway ports exposed', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage.image).toMatch(/^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    expect(finalStage.image).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:nonroot(@sha256:[0-9a-f]{64})?$/);
    const last = (op: string) => instructions.filter((i) => i.stage === finalStage.index && i.op === op).pop()?.args;
    expect(last('USER')).toBe('65532');
    expect(last('EXPOSE')?.split(/\s+/).sort()).toEqual(['15020', '8080']);
    expect(JSON.parse(last('CMD')!)).toEqual(['--config', '/etc/mcp-gateway/config.yaml']);
  });

  test('the single executable embeds the Node the tests build it with, of the target architecture', () => {
    // scripts/node-dist.mjs pins the Node 24 the SEA tests embed (from npm); the image's build stage is the same release.
    const pinned = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "import('./scripts/node-dist.mjs').then((m) => process.stdout.write(m.NODE_VERSIONS[m.SHIPPED_NODE_MAJOR]))"],
      {
        cwd: RUNTIME,
        encoding: 'utf8',
      },
    );
    expect(buildStage.image).toMatch(new RegExp(`^node:${pinned.replace(/\./g, '\\.')}-`));
    expect(finalStage.image).toContain(`nodejs${pinned.split('.')[0]}-`);
    // buildx sets TARGETARCH per platform; the build stage checks its own Node is that architecture
    // before building the executable from it.
    const buildInstructions = instructions.filter((i) => i.stage === buildStage.index);
    expect(buildInstructions.some((i) => i.op === 'ARG' && i.args === 'TARGETARCH')).toBe(true);
    const seaStep = buildRuns.find((r) => /node scripts\/build-sea\.mjs/.test(r))!;
    expect(seaStep).toMatch(/process\.env\.TARGETARCH.*process\.arch !== want.*process\.exit\(1\).*node scripts\/build-sea\.mjs/s);
    expect(seaStep).not.toMatch(/--node\b/);
  });

  test('every path it COPYs from the build context exists and is not dockerignored', () => {
    const fromContext = allCopies.filter((c) => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const c of fromContext) {
      for (const src of c.sources) {
        expect({ src, exists: existsSync(join(RUNTIME, src)) }).toEqual({ src, exists: true });
        expect({ src, ignored: ignored(src, dockerignore) }).toEqual({ src, ignored: false });
      }
    }
  });

  test('everything copied out of the build stage is copied in or produced by a build step', () => {
    const produced = producedByBuild();
    const copiedIn = allCopies
      .filter((c) => c.from === undefined && c.stage.index === buildStage.index)
      .flatMap((c) => c.sources.map((s) => buildPathToRepo(c.intoDir ? posix.join(c.dest, posix.basename(s)) : c.dest)));
    const fromBuild = allCopies.filter((c) => c.from === 'build');
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const c of fromBuild) {
      for (const src of c.sources) {
        const rel = buildPathToRepo(src);
        const made = produced.get(rel);
        if (made) {
          // The step that makes it runs in the build stage, and the repo's build writes it where the COPY reads it.
          expect({ rel, step: buildRuns.some((r) => made.step.test(r)) }).toEqual({ rel, step: true });
          expect(made.where()).toBe(rel);
        } else {
          expect({ rel, copiedIn: copiedIn.some((p) => rel === p || rel.startsWith(`${p}/`)) }).toEqual({ rel, copiedIn: true });
        }
      }
    }
    // The compiled CLI and the bundle's entry exist after `tsc --build` (the test task compiles first).
    expect(existsSync(join(RUNTIME, 'lib', 'cli.js'))).toBe(true);
  });

  test('the ENTRYPOINT names a command that runs (`node lib/cli.js --help`)', () => {
    const entry = JSON.parse(instructions.filter((i) => i.op === 'ENTRYPOINT').pop()!.args) as string[];
    expect(entry[0]).toBe('/nodejs/bin/node'); // Node in the distroless nodejs images
    // Map the script back through the final stage's COPY --from=build to the file in this repo.
    const script = entry[1];
    const copy = allCopies.find(
      (c) => c.stage.index === finalStage.index && c.from === 'build' && (script === c.dest || script.startsWith(`${c.dest}/`)),
    );
    expect(copy).toBeDefined();
    const repoPath = join(RUNTIME, buildPathToRepo(copy!.sources[0]), posix.relative(copy!.dest, script));
    const help = execFileSync(process.execPath, [repoPath, ...entry.slice(2), '--help'], {
      cwd: RUNTIME,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(help).toMatch(/--config/);
    expect(help).toMatch(/--copy-self/);
  });
});
