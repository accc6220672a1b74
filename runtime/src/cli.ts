#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { copySelf } from './bridge/copy-self.js';
import { parseDuration } from './config/duration.js';
import { ConfigError } from './config/errors.js';
import { ConfigLoader } from './config/load.js';
import type { ResolvedConfig } from './config/model.js';
import type { GatewayConfig, RouteMatch, StdioTargetPool } from './config/types.js';
import { ConfigWatcher } from './config/watch.js';
import type { DevUsageError } from './dev/command.js';
import { DEV_USAGE, describeDevError, parseDevArgs, runDev } from './dev/command.js';
import type { ForwardedCredential } from './federation/session.js';
import { Gateway } from './gateway.js';
import { BatchingSink } from './telemetry/log-sink.js';
import { StructuredLogger } from './telemetry/logger.js';
import { GATEWAY_VERSION } from './version.js';

const USAGE = `Usage:
  mcp-gateway --config FILE [--host H] [--allowed-hosts NAMES]
      Run the gateway described by FILE (YAML or JSON, agentgateway's format). The file is watched:
      a valid change is applied without dropping sessions, an invalid one is logged and ignored.
      Binds listen on 0.0.0.0 unless --host is given.
  mcp-gateway --port P [--host H] [--path /mcp] [--allowed-hosts NAMES] [--pool N | --shared] -- CMD [ARGS...]
      Bridge one stdio MCP server to Streamable HTTP (one process per session), and to the legacy
      HTTP+SSE transport at any path ending in /sse (GET /sse, POST /sse?sessionId=). Without --path
      every other path is the MCP endpoint (http://H:P/mcp, /mcp/, as kmcp's bridge); with --path P
      only P, P/ and the legacy P's sibling …/sse are served.
      Listens on 127.0.0.1 unless --host is given (containers pass --host 0.0.0.0).
      --pool N keeps N processes started and initialized for new sessions (default 1, 0 for none);
      --pool-idle-timeout D stops them after D without a new session (default 10m); --pool-max N caps
      the server's processes (default 64); --pool-reuse gives a process back to the pool after a clean
      session; --shared serves every session from one process (--pool-reuse and --shared: servers
      without per-session state only).
      --credential-env NAME starts each session's process with the caller's credential in the
      environment variable NAME (e.g. GITHUB_PERSONAL_ACCESS_TOKEN), read from the request header
      --credential-header H (default X-Mcp-User-Credential), which the gateway in front sets through
      its target's credential.inject.header. The header is removed before anything logs the request;
      POST and GET without it are refused, unless --credential-optional (users who have not connected
      yet: their process starts without NAME); a different value later in a session restarts that
      session's process with it. No --pool, --pool-reuse or --shared with it: a process serves one
      credential.
  --allowed-hosts NAMES (comma-separated): Host names accepted besides loopback ones. On a loopback
      address every request must name a loopback host (DNS-rebinding protection); list here the names
      a reverse proxy or /etc/hosts entry sends, e.g. --allowed-hosts mcp.internal.test.
  mcp-gateway --copy-self DIR
      Copy this executable with its dynamic loader and shared libraries into DIR (DIR/mcp-gateway,
      DIR/lib/), for an init container to share it with a server image of the same CPU architecture
      that need not have any libraries: run it as DIR/lib/ld.so --library-path DIR/lib DIR/mcp-gateway.
  mcp-gateway dev DIR [--port P] [--once]
      Run synthesized Kubernetes manifests locally (see mcp-gateway dev --help).
  mcp-gateway --help | --version

Every port also answers GET /healthz (liveness) and GET /readyz (readiness; 503 while draining).
SIGTERM/SIGINT: readiness turns 503, running requests finish (config.drainTimeout), stdio servers stop.
Environment: SESSION_KEY (64 hex) seals session ids so sessions survive restarts and move between replicas.
`;

class UsageError extends Error {}

type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'copySelf'; path: string }
  | { kind: 'config'; file: string; host: string; allowedHosts: string[] }
  | {
    kind: 'bridge';
    port: number;
    host: string;
    path?: string;
    command: string[];
    allowedHosts: string[];
    pool: StdioTargetPool;
    forwardedCredential?: ForwardedCredential;
  };

function parseCommandLine(argv: readonly string[]): Command {
  const separator = argv.indexOf('--');
  const own = separator >= 0 ? argv.slice(0, separator) : [...argv];
  const command = separator >= 0 ? argv.slice(separator + 1) : [];
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      strict: true,
      allowPositionals: false,
      options: {
        'config': { type: 'string' },
        'port': { type: 'string' },
        'host': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'path': { type: 'string' },
        'pool': { type: 'string' },
        'pool-idle-timeout': { type: 'string' },
        'pool-max': { type: 'string' },
        'pool-reuse': { type: 'boolean' },
        'shared': { type: 'boolean' },
        'credential-env': { type: 'string' },
        'credential-header': { type: 'string' },
        'credential-optional': { type: 'boolean' },
        'copy-self': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
        'version': { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (values['copy-self'] !== undefined) {
    if (values.config !== undefined || values.port !== undefined || command.length > 0) throw new UsageError('--copy-self takes no other options');
    return { kind: 'copySelf', path: values['copy-self'] };
  }
  const allowedHosts = (values['allowed-hosts'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (allowedHosts.some((name) => /[\s/:@]/.test(name))) {
    throw new UsageError(`--allowed-hosts takes host names without port or scheme, got "${values['allowed-hosts']}"`);
  }
  if (values.config !== undefined) {
    if (values.port !== undefined || values.path !== undefined || command.length > 0) {
      throw new UsageError('--config cannot be combined with --port, --path or a command');
    }
    return { kind: 'config', file: values.config, host: values.host ?? '0.0.0.0', allowedHosts };
  }
  if (values.port !== undefined) {
    // Pool options first, so every mistake in them is reported even when --port is wrong too.
    const forwardedCredential = bridgeCredential(values);
    const pool = forwardedCredential ? { size: 0 } : bridgePool(values);
    if (!/^[0-9]+$/.test(values.port) || Number(values.port) > 65535) {
      throw new UsageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
    }
    if (command.length === 0) throw new UsageError('the stdio server command is missing: mcp-gateway --port P -- CMD [ARGS...]');
    const path = values.path;
    if (path !== undefined && !path.startsWith('/')) throw new UsageError(`--path must start with "/", got "${path}"`);
    return { kind: 'bridge', port: Number(values.port), host: values.host ?? '127.0.0.1', path, command, allowedHosts, pool, forwardedCredential };
  }
  if (values['credential-env'] !== undefined || values['credential-header'] !== undefined || values['credential-optional']) {
    throw new UsageError('--credential-env is a bridge option: --port P --credential-env NAME -- CMD');
  }
  throw new UsageError('give --config FILE, or --port P -- CMD');
}

/**
 * Where the bridge answers. Without `--path`, on every path, as kmcp's in-pod bridge does: a server image
 * configured for `/mcp/` or `/` keeps working. With `--path P`, on P and P/ (clients and docs disagree on the
 * trailing slash), plus the legacy HTTP+SSE transport beside it (`/a/mcp` → `/a/sse`).
 */
function bridgeMatches(path: string | undefined): RouteMatch[] {
  if (path === undefined) return [{ path: { pathPrefix: '/' } }];
  const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const sibling = `${bare.slice(0, bare.lastIndexOf('/'))}/sse`;
  return [...new Set([bare, bare === '/' ? '/' : `${bare}/`, sibling])].map((exact) => ({ path: { exact } }));
}

/** The header a bridge reads the caller's credential from unless --credential-header names another. */
const CREDENTIAL_HEADER = 'X-Mcp-User-Credential';

/**
 * `--credential-env`: every process carries one caller's credential, so none may wait as a spare, go back to
 * a pool or serve two sessions.
 */
function bridgeCredential(values: {
  'credential-env'?: string;
  'credential-header'?: string;
  'credential-optional'?: boolean;
  'pool'?: string;
  'pool-idle-timeout'?: string;
  'pool-reuse'?: boolean;
  'shared'?: boolean;
}): ForwardedCredential | undefined {
  const env = values['credential-env'];
  if (env === undefined) {
    if (values['credential-header'] !== undefined || values['credential-optional']) {
      throw new UsageError('--credential-header and --credential-optional need --credential-env NAME');
    }
    return undefined;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) {
    throw new UsageError(`--credential-env takes an environment variable name such as GITHUB_PERSONAL_ACCESS_TOKEN, got "${env}"`);
  }
  const header = values['credential-header'] ?? CREDENTIAL_HEADER;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header) || RESERVED_HEADERS.includes(header.toLowerCase())) {
    throw new UsageError(`--credential-header takes a header name of its own such as ${CREDENTIAL_HEADER}, got "${header}"`);
  }
  const pooled = (['pool', 'pool-idle-timeout', 'pool-reuse', 'shared'] as const).filter((flag) => values[flag] !== undefined);
  if (pooled.length > 0) {
    throw new UsageError(
      `--credential-env excludes ${pooled.map((flag) => `--${flag}`).join(', ')}: each session's process carries its caller's credential, `
        + 'so it is started for that session and never pooled, reused or shared',
    );
  }
  return { header: header.toLowerCase(), env, ...(values['credential-optional'] ? { optional: true } : {}) };
}

/** Headers the transport or the gateway own; a credential in them would be lost or break the request. */
const RESERVED_HEADERS = [
  'host',
  'authorization',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'mcp-session-id',
  'mcp-protocol-version',
];

/** One spare: the next session starts at once, for the price of one idle process. */
const BRIDGE_POOL_SIZE = 1;

/**
 * The bridge's process ceiling (the configuration's default), with no lower ceiling per client: in a pod
 * every session arrives from the gateway in front, one address, which a per-client share would halve. The
 * gateway is where sessions are limited per signed-in subject.
 */
const BRIDGE_MAX_PROCESSES = 64;

function bridgePool(values: {
  'pool'?: string;
  'pool-idle-timeout'?: string;
  'pool-max'?: string;
  'pool-reuse'?: boolean;
  'shared'?: boolean;
}): StdioTargetPool {
  const count = (flag: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > 1024) {
      throw new UsageError(`${flag} must be a number from ${min} to 1024, got "${text}"`);
    }
    return Number(text);
  };
  const size = count('--pool', values.pool, 0);
  const maxProcesses = count('--pool-max', values['pool-max'], 1);
  const idleTimeout = values['pool-idle-timeout'];
  if (idleTimeout !== undefined && !parseDuration(idleTimeout)) {
    throw new UsageError(`--pool-idle-timeout must be a duration such as 30s or 10m, got "${idleTimeout}"`);
  }
  if (values.shared && (size !== undefined || values['pool-reuse'])) {
    throw new UsageError('--shared excludes --pool and --pool-reuse: one process serves every session');
  }
  if (size !== undefined && maxProcesses !== undefined && size > maxProcesses) {
    throw new UsageError(`--pool ${size} does not fit under --pool-max ${maxProcesses}`);
  }
  return {
    size: size ?? Math.min(BRIDGE_POOL_SIZE, maxProcesses ?? BRIDGE_POOL_SIZE),
    ...(idleTimeout !== undefined ? { idleTimeout } : {}),
    ...(maxProcesses !== undefined ? { maxProcesses } : {}),
    ...(values['pool-reuse'] ? { reuse: true } : {}),
    ...(values.shared ? { shared: true } : {}),
  };
}

/** The bridge is the one-route, one-target case of the full configuration. */
function bridgeConfig(port: number, path: string | undefined, command: readonly string[], pool: StdioTargetPool): GatewayConfig {
  const name =
    basename(command[0])
      .toLowerCase()
      .replace(/\.[a-z0-9]+$/, '')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'stdio';
  return {
    binds: [
      {
        port,
        listeners: [
          {
            routes: [
              {
                name: 'bridge',
                matches: bridgeMatches(path),
                // Warm-up: the first start (npx/uvx downloading the package) happens before /readyz says 200.
                backends: [
                  {
                    mcp: {
                      name,
                      stdio: { warmup: true, maxProcesses: BRIDGE_MAX_PROCESSES, maxProcessesPerSubject: BRIDGE_MAX_PROCESSES },
                      targets: [{ name, stdio: { cmd: command[0], args: command.slice(1), pool } }],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

async function run(command: Exclude<Command, { kind: 'help' | 'version' | 'copySelf' }>): Promise<void> {
  const loader = new ConfigLoader();
  let config: ResolvedConfig;
  let initialText = '';
  if (command.kind === 'config') {
    config = await loader.loadFile(command.file);
    initialText = readFileSync(command.file, 'utf8');
  } else {
    config = await loader.loadObject(bridgeConfig(command.port, command.path, command.command, command.pool), 'command line', process.env, {
      generated: true,
    });
  }
  const logger = new StructuredLogger(config.settings.logLevel, config.settings.logFormat, new BatchingSink());
  const forwardedCredential = command.kind === 'bridge' ? command.forwardedCredential : undefined;
  const gateway = await Gateway.create(config, { logger, host: command.host, allowedHosts: command.allowedHosts, forwardedCredential });
  await gateway.start();

  let reloading = Promise.resolve();
  const watcher =
    command.kind === 'config'
      ? new ConfigWatcher(
        command.file,
        initialText,
        (text) => {
          // One reload at a time, in the order the changes happened.
          reloading = reloading
            .then(() => loader.loadText(text, command.file))
            .then((next) => gateway.reload(next))
            .then(
              () => {
                gateway.recordReload('applied');
                logger.info('configuration reloaded', { source: command.file });
              },
              (error: Error) => {
                gateway.recordReload('rejected');
                logger.error('configuration change rejected; the previous configuration keeps serving', { error: error.message });
              },
            );
        },
        (error) => logger.warn('cannot watch the configuration file', { error: error.message }),
      )
      : undefined;

  // One bad request or upstream must never take the whole gateway down.
  process.on('uncaughtException', (error) => logger.error('uncaught exception', { error: error.stack ?? error.message }));
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled rejection', { error: reason instanceof Error ? reason.stack : String(reason) }),
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('draining', { signal, drainTimeoutMs: gateway.config.settings.drainTimeoutMs });
    watcher?.close();
    gateway.drain().then(
      () => {
        logger.info('stopped');
        process.exitCode = 0;
        // Let the log line flush before leaving.
        setImmediate(() => process.exit(0));
      },
      (error: Error) => {
        logger.error('drain failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function dev(argv: readonly string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(DEV_USAGE);
    return;
  }
  let args;
  try {
    args = parseDevArgs(argv);
  } catch (error) {
    process.stderr.write(`mcp-gateway dev: ${(error as DevUsageError).message}\n\n${DEV_USAGE}`);
    process.exit(2);
  }
  runDev(args).catch((error: unknown) => {
    process.stderr.write(`${describeDevError(error)}\n`);
    process.exit(1);
  });
}

function main(argv: readonly string[]): void {
  if (argv[0] === 'dev') return dev(argv.slice(1));
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    process.stderr.write(`mcp-gateway: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'version':
      process.stdout.write(`${GATEWAY_VERSION}\n`);
      return;
    case 'copySelf':
      try {
        const copied = copySelf(command.path);
        process.stderr.write(
          `mcp-gateway: copied the bridge and ${copied.libraries.length} libraries to ${copied.dir} (${(copied.bytes / 2 ** 20).toFixed(1)} MiB); `
            + `run it as ${copied.invocation.join(' ')}\n`,
        );
      } catch (error) {
        process.stderr.write(`mcp-gateway: --copy-self ${command.path}: ${(error as Error).message}\n`);
        process.exit(1);
      }
      return;
    default:
      run(command).catch((error: Error) => {
        process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `mcp-gateway: ${error.message}\n`);
        process.exit(1);
      });
  }
}

main(process.argv.slice(2));
