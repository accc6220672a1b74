import * as fs from 'fs';
import * as path from 'path';
import { dnsLabelProblem } from '../validation';
import { flag, parse, str } from './args';
import { appFiles } from './init-templates';
import type { CliIo } from './io';
import { UsageError } from './usage-error';

export const INIT_USAGE = `Usage: cdk8s-mcp init [dir] [options]

Create a small cdk8s app in dir (default: the current directory): package.json, cdk8s.yaml,
tsconfig.json and main.ts with an McpServer behind an McpGateway. Then:
  cd dir && npm install && npx cdk8s synth

Options:
  --name <name>   Name of the app and its chart (default: the directory name)
  --force         Overwrite files that already exist
  -h, --help      Show this help`;

/** Writes the app and reports what it wrote on stderr. */
export function runInit(argv: string[], io: CliIo): void {
  const parsed = parse(argv, {
    name: { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, INIT_USAGE);
  if (flag(parsed, 'help')) {
    io.stdout(`${INIT_USAGE}\n`);
    return;
  }
  if (parsed.positionals.length > 1) {
    throw new UsageError(`expected at most one directory, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`, INIT_USAGE);
  }
  if (parsed.rest.length > 0) {
    throw new UsageError(`unexpected arguments after --: ${parsed.rest.join(' ')}`, INIT_USAGE);
  }
  const dir = path.resolve(parsed.positionals[0] ?? '.');
  const name = str(parsed, 'name') ?? appNameFrom(dir);
  const problem = dnsLabelProblem(name);
  if (problem) {
    const origin = str(parsed, 'name') === undefined ? ' (taken from the directory name; pass --name)' : '';
    throw new UsageError(`app name ${problem}${origin}`, INIT_USAGE);
  }
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} exists and is not a directory`, INIT_USAGE);
  }

  const files = appFiles(name);
  if (!flag(parsed, 'force')) {
    const existing = Object.keys(files).filter((file) => fs.existsSync(path.join(dir, file)));
    if (existing.length > 0) {
      throw new UsageError(
        `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}; pass --force to overwrite`,
        INIT_USAGE,
      );
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, file), content);
  }

  const cd = path.relative(process.cwd(), dir) || '.';
  io.stderr(`Created cdk8s app "${name}" in ${dir}: ${Object.keys(files).join(', ')}\n`);
  io.stderr(`Next: cd ${cd} && npm install && npx cdk8s synth   (manifests land in dist/)\n`);
}

/** A directory called "My MCP_App" becomes "my-mcp-app"; what is still not a DNS label is reported. */
function appNameFrom(dir: string): string {
  return path.basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}
