import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { ConfigLoader } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { Gateway } from '../gateway.js';
import { planFromManifests } from './manifests.js';
import { endpointPathOf } from '../http/routes.js';
import { StructuredLogger, type LogLevel } from '../telemetry/logger.js';

export const DEV_USAGE = `Usage:
  mcp-gateway dev DIR [--port P] [--gateway NAME] [--once] [--verbose]
      Run what you deploy, on this machine: read the manifests synthesized into DIR (cdk8s synth,
      npm run synth), take the gateway's configuration from its ConfigMap, run the stdio servers the
      manifests describe as local processes, and serve every route on 127.0.0.1. Then list each
      route's tools with an MCP client, so you see it work before you deploy.
      --port P        listen on P instead of the port in the manifests (0: any free port)
      --gateway NAME  the gateway ConfigMap to run when DIR holds several
      --once          list the tools, then stop (exit 0 when every route answered)
      --verbose       the gateway's own log lines (JSON) on stdout
`;

/** A route can take long to answer the first time: npx or uvx may be downloading the server. */
const FIRST_LIST_TIMEOUT_MS = 180_000;

interface DevArgs {
  readonly dir: string;
  readonly port?: number;
  readonly gateway?: string;
  readonly once: boolean;
  readonly verbose: boolean;
}

export class DevUsageError extends Error {}

export function parseDevArgs(argv: readonly string[]): DevArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string' },
        gateway: { type: 'string' },
        once: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new DevUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new DevUsageError(
      positionals.length === 0 ? 'give the folder of synthesized manifests: mcp-gateway dev DIR' : `one folder only, got: ${positionals.join(' ')}`,
    );
  }
  if (values.port !== undefined && (!/^[0-9]+$/.test(values.port) || Number(values.port) > 65535)) {
    throw new DevUsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  }
  return {
    dir: positionals[0],
    port: values.port === undefined ? undefined : Number(values.port),
    gateway: values.gateway,
    once: values.once ?? false,
    verbose: values.verbose ?? false,
  };
}

/** What a person reads goes to stderr, so `--verbose` JSON on stdout stays machine-readable. */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function runDev(args: DevArgs): Promise<void> {
  say(`reading manifests in ${args.dir}`);
  const plan = planFromManifests(args.dir, { port: args.port, gateway: args.gateway });
  say(`gateway configuration: ${plan.source}`);
  for (const note of plan.notes) say(`  ${note}`);

  const loaded = await new ConfigLoader().loadObject(devCredentials(plan.config, say), plan.source);
  // One local process has no replicas to share sessions with: a per-run key, and no warning about it.
  const config = loaded.settings.sessionKey ? loaded : { ...loaded, settings: { ...loaded.settings, sessionKey: randomBytes(32) } };
  const level: LogLevel = args.verbose ? 'info' : 'warn';
  const gateway = await Gateway.create(config, {
    logger: new StructuredLogger(level, args.verbose ? 'json' : 'text', args.verbose ? process.stdout : process.stderr),
    host: '127.0.0.1',
  });
  await gateway.start();

  const ports = [...gateway.ports.values()];
  const endpoints = config.binds.flatMap((bind, index) =>
    bind.listeners.flatMap((listener) => listener.routes.map((route) => ({ route, url: `http://127.0.0.1:${ports[index]}${endpointPathOf(route)}` }))),
  );

  let failures = 0;
  for (const { route, url } of endpoints) {
    say(`route ${route.name}: connecting to ${url} (the first start of an npx/uvx server can take a minute)`);
    try {
      const tools = await listTools(url);
      say(`route ${route.name}: ${tools.length} tools: ${tools.join(', ')}`);
    } catch (error) {
      failures++;
      say(`route ${route.name}: could not list tools: ${(error as Error).message}`);
    }
  }

  if (args.once) {
    await gateway.drain();
    process.exitCode = failures === 0 ? 0 : 1;
    return;
  }
  say(`\nserving ${endpoints.map((e) => e.url).join(', ')} — point an MCP client there. Ctrl-C stops.`);
  const admin = plan.config.config?.adminAddr;
  if (admin) say(`admin page (routes, targets, sessions, recent calls): http://${admin}/`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      say('stopping');
      gateway.drain().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function listTools(url: string): Promise<string[]> {
  // The SDK client loads only here: `mcp-gateway --config` never pays for it.
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const client = new Client({ name: 'mcp-gateway-dev', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport, { timeout: FIRST_LIST_TIMEOUT_MS });
  try {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: FIRST_LIST_TIMEOUT_MS });
      names.push(...page.tools.map((tool) => tool.name));
      cursor = page.nextCursor;
    } while (cursor);
    return names;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

export function describeDevError(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  return `mcp-gateway dev: ${(error as Error).message}`;
}

/**
 * `mcp-gateway dev` keeps users' upstream credentials in memory, sealed with a per-run key: the cluster's
 * database and key Secret are not there locally, and nothing connected in a dev run should outlive it.
 */
function devCredentials(config: GatewayConfig, note: (line: string) => void): GatewayConfig {
  const credentials = config.config?.credentials;
  if (!credentials) return config;
  note('  per-user credentials: in-memory store, per-run encryption key (lost when dev stops)');
  return {
    ...config,
    config: { ...config.config, credentials: { ...credentials, store: { memory: {} }, encryptionKey: { value: randomBytes(32).toString('hex') } } },
  };
}
