import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
import { McpGateway } from '../mcp-gateway';
import type { McpServerProps } from '../mcp-server';
import { McpServer } from '../mcp-server';
import { McpServerSource } from '../mcp-server-source';
import { McpServerTransport } from '../mcp-server-transport';
import { absolutePathProblem, dnsLabelProblem, serviceNameProblem } from '../validation';
import type { ParsedArgs } from './args';
import { flag, list, parse, str } from './args';
import type { CliIo } from './io';
import { UsageError } from './usage-error';

export const SERVER_USAGE = `Usage: cdk8s-mcp server (--npm <package> | --uvx <package> | --image <image>) [options] [-- server args...]

Print the Kubernetes manifests of one MCP server as YAML on stdout (like "kmcp deploy package --dry-run"):
a Deployment and a Service, stdio servers bridged to Streamable HTTP at /mcp. Add --gateway for an
McpGateway in front of it.

What to run (exactly one):
  --npm <package>        npm package, run with npx (e.g. @modelcontextprotocol/server-everything)
  --uvx <package>        PyPI package, run with uvx (e.g. mcp-server-fetch)
  --image <image>        a container image that contains the server

Options:
  --version <version>    Package version (--npm: default "latest"; --uvx: default the newest release)
  --command <program>    Program to run in the image (--image only; required for stdio)
  --args <arg>           An argument for the server (repeatable; or put them after --)
  --transport <kind>     stdio | http | sse (default stdio)
  --name <name>          Name of the Kubernetes objects (default: derived from the package or image)
  --namespace <ns>       Namespace of the objects (default: none, so kubectl's current namespace)
  --env <KEY=VALUE>      Environment variable (repeatable)
  --secret <name>        Existing Secret whose keys become environment variables (repeatable)
  --port <port>          Port of the MCP endpoint in the pod and on the Service (default 3000)
  --gateway              Also deploy an McpGateway that routes to the server
  --path <path>          Path of the gateway route (--gateway only; default /mcp)
  -h, --help             Show this help

Examples:
  cdk8s-mcp server --npm @modelcontextprotocol/server-everything --version 2026.8.31 | kubectl apply -f -
  cdk8s-mcp server --uvx mcp-server-fetch --namespace tools --gateway --path /fetch/mcp
  cdk8s-mcp server --image ghcr.io/example/fetcher:1.0 --transport http --port 8000
  cdk8s-mcp server --npm @modelcontextprotocol/server-github --secret github-token -- --read-only`;

const OPTIONS = {
  npm: { type: 'string' },
  uvx: { type: 'string' },
  image: { type: 'string' },
  version: { type: 'string' },
  command: { type: 'string' },
  args: { type: 'string', multiple: true },
  transport: { type: 'string' },
  name: { type: 'string' },
  namespace: { type: 'string' },
  env: { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  port: { type: 'string' },
  gateway: { type: 'boolean' },
  path: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Source = { kind: 'npm' | 'uvx' | 'image'; value: string };

/** Parses the arguments, builds the chart and returns its YAML (or the help text for --help). */
export function runServer(argv: string[], io: CliIo): string {
  const parsed = parse(argv, OPTIONS, SERVER_USAGE);
  if (flag(parsed, 'help')) return `${SERVER_USAGE}\n`;
  const fail = (reason: string): never => {
    throw new UsageError(reason, SERVER_USAGE);
  };
  if (parsed.positionals.length > 0) {
    fail(`unexpected argument ${JSON.stringify(parsed.positionals[0])} (server arguments go after --, or in --args)`);
  }

  const source = sourceOf(parsed, fail);
  if (source.kind !== 'image' && str(parsed, 'command') !== undefined) {
    fail(`--command works with --image only; --${source.kind} runs the package with ${source.kind === 'npm' ? 'npx' : 'uvx'}`);
  }
  if (source.kind === 'image' && str(parsed, 'command') === undefined && (str(parsed, 'transport') ?? 'stdio') === 'stdio') {
    fail(
      '--image with the stdio transport needs --command (the program the bridge starts); for a server that listens itself pass --transport http '
        + 'or sse',
    );
  }
  if (source.kind === 'image' && str(parsed, 'version') !== undefined) {
    fail('--version works with --npm and --uvx only; put the version in the image tag');
  }
  if (!flag(parsed, 'gateway') && str(parsed, 'path') !== undefined) {
    fail('--path is the path of the gateway route; add --gateway');
  }

  const name = str(parsed, 'name') ?? nameFrom(source);
  const nameProblem = serviceNameProblem(name);
  if (nameProblem) {
    fail(str(parsed, 'name') === undefined
      ? `cannot derive a name from ${JSON.stringify(source.value)}: ${nameProblem}; pass --name`
      : `invalid --name: ${nameProblem}`);
  }
  const namespace = str(parsed, 'namespace');
  const namespaceProblem = namespace === undefined ? undefined : dnsLabelProblem(namespace);
  if (namespaceProblem) fail(`invalid --namespace: ${namespaceProblem}`);
  const gatewayPath = str(parsed, 'path') ?? '/mcp';
  const pathProblem = absolutePathProblem(gatewayPath);
  if (pathProblem) fail(`invalid --path: ${pathProblem}`);

  const app = new App();
  const chart = new Chart(app, name, { namespace, disableResourceNameHashes: true });
  try {
    const options: Omit<McpServerProps, 'source'> = {
      name,
      transport: transportOf(str(parsed, 'transport'), fail),
      port: portOf(str(parsed, 'port'), fail),
      env: envOf(list(parsed, 'env'), fail),
      envFrom: list(parsed, 'secret').map((secret, i) => {
        const problem = dnsLabelProblem(secret);
        if (problem) fail(`invalid --secret: ${problem}`);
        return kplus.Env.fromSecret(kplus.Secret.fromSecretName(chart, `Secret${i}`, secret));
      }),
    };
    const args = [...list(parsed, 'args'), ...parsed.rest];
    const version = str(parsed, 'version');
    let serverSource: McpServerSource;
    switch (source.kind) {
      case 'npm':
        serverSource = McpServerSource.npmPackage(source.value, { version, args });
        break;
      case 'uvx':
        serverSource = McpServerSource.pypiPackage(source.value, { version, args });
        break;
      case 'image': {
        const command = str(parsed, 'command');
        serverSource = McpServerSource.image(source.value, { command: command === undefined ? undefined : [command], args });
        break;
      }
    }
    const server = new McpServer(chart, name, { ...options, source: serverSource });
    if (flag(parsed, 'gateway')) {
      new McpGateway(chart, 'gateway', { routes: [{ path: gatewayPath, targets: [server] }] });
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // A construct that rejects its props throws; its message is the reason.
    fail(firstLine(err));
  }

  // cdk8s would report these as one multi-line error; the CLI reports one line and the usage.
  const problems = validationErrors(app).map((problem) => problem.replace(/\s*\n\s*/g, ' '));
  if (problems.length > 0) fail(problems.join('; '));
  let yaml = '';
  try {
    yaml = app.synthYaml();
  } catch (err) {
    // Some checks run only while rendering (e.g. a gateway's lazily built configuration).
    fail(firstLine(err));
  }
  if (source.kind !== 'image' && str(parsed, 'version') === undefined) {
    // Not an error (kmcp allows it too), but every pod restart may then run different code.
    io.stderr(`cdk8s-mcp: note: ${source.value} is not pinned, so each pod start installs the newest release; pass --version to pin it\n`);
  }
  return yaml;
}

function sourceOf(parsed: ParsedArgs, fail: (reason: string) => never): Source {
  const given = (['npm', 'uvx', 'image'] as const)
    .filter((kind) => str(parsed, kind) !== undefined)
    .map((kind) => ({ kind, value: str(parsed, kind)! }));
  if (given.length === 0) fail('missing what to run: pass --npm <package>, --uvx <package> or --image <image>');
  if (given.length > 1) fail(`${given.map((g) => `--${g.kind}`).join(' and ')} cannot be combined; pass exactly one`);
  if (given[0].value.trim() === '') fail(`--${given[0].kind} is empty`);
  return given[0];
}

/**
 * Object names like kmcp's: the last path segment of the package or image, without scope, tag or
 * digest, in lower case (`@modelcontextprotocol/server-everything` becomes `server-everything`).
 */
function nameFrom(source: Source): string {
  const lastSegment = source.value.split('/').pop()!;
  const bare = source.kind === 'image' ? lastSegment.split('@')[0].split(':')[0] : lastSegment;
  return bare.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

function transportOf(value: string | undefined, fail: (reason: string) => never): McpServerTransport | undefined {
  switch (value) {
    case undefined: return undefined;
    case 'stdio': return McpServerTransport.stdio();
    case 'http': return McpServerTransport.streamableHttp();
    case 'sse': return McpServerTransport.sse();
    default: return fail(`invalid --transport ${JSON.stringify(value)}: use stdio, http or sse`);
  }
}

function portOf(value: string | undefined, fail: (reason: string) => never): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) fail(`invalid --port ${JSON.stringify(value)}: use a number between 1 and 65535`);
  return port;
}

function envOf(pairs: string[], fail: (reason: string) => never): { [name: string]: kplus.EnvValue } | undefined {
  if (pairs.length === 0) return undefined;
  const env: { [name: string]: kplus.EnvValue } = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`invalid --env ${JSON.stringify(pair)}: use KEY=VALUE`);
    env[pair.slice(0, eq)] = kplus.EnvValue.fromValue(pair.slice(eq + 1));
  }
  return env;
}

function validationErrors(app: App): string[] {
  return app.node.findAll().flatMap((c: IConstruct) => c.node.validate());
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0];
}
