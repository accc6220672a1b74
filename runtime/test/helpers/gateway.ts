import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(RUNTIME_DIR, 'lib', 'cli.js');
export const FIXTURES = join(RUNTIME_DIR, 'test', 'fixtures');
export const PYTHON_SERVER = join(FIXTURES, 'python_server.py');
/** server-everything's entry point, resolved from node_modules (no npx at test time). */
export const EVERYTHING = createRequire(join(RUNTIME_DIR, 'package.json')).resolve('@modelcontextprotocol/server-everything/dist/index.js');

export interface LogLine {
  readonly msg: string;
  readonly level: string;
  readonly [field: string]: unknown;
}

/** A gateway process started from the compiled CLI, with its log lines collected. */
export class GatewayProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  /** Output that is not a log line (--help). */
  stdout = '';
  readonly ports: number[] = [];
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        if (!line.startsWith('{')) {
          this.stdout += `${line}\n`;
          continue;
        }
        const parsed = JSON.parse(line) as LogLine;
        this.logs.push(parsed);
        if (parsed.msg === 'listening') this.ports.push(parsed.port as number);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
    return new GatewayProcess(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Starts the gateway and waits until it listens on `binds` ports. */
  static async listening(args: readonly string[], env: NodeJS.ProcessEnv = {}, binds = 1): Promise<GatewayProcess> {
    const gateway = GatewayProcess.start(args, env);
    await gateway.waitFor(() => gateway.ports.length >= binds, `listening on ${binds} port(s)`);
    return gateway;
  }

  /** Starts the full gateway on `configFile`, bound to 127.0.0.1, and waits until it listens on `binds` ports. */
  static serving(configFile: string, env: NodeJS.ProcessEnv = {}, binds = 1): Promise<GatewayProcess> {
    return GatewayProcess.listening(['--config', configFile, '--host', '127.0.0.1'], env, binds);
  }

  get url(): string {
    return `http://127.0.0.1:${this.ports[0]}`;
  }

  /** Resolves when `condition` holds after some log line; rejects if the process exits first. */
  async waitFor(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      const exit = this.exited.then((code) => {
        throw new Error(`gateway exited (code ${code}) before ${what}; stderr: ${this.stderr}`);
      });
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), exit]);
    }
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Connects an SDK client over Streamable HTTP; `headers` go with every request (a bearer token, a role header). */
export async function connectClient(
  url: string,
  client = new Client({ name: 'test-client', version: '1.0.0' }),
  headers?: Record<string, string>,
): Promise<Client> {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined));
  return client;
}

/** Raw POST with the headers an MCP client sends; override any of them. */
export function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept': 'application/json, text/event-stream', ...headers },
    body,
  });
}

export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Opens a session with raw HTTP; returns its id. */
export async function rawSession(url: string): Promise<string> {
  const response = await post(url, INITIALIZE);
  if (response.status !== 200) throw new Error(`initialize failed: ${response.status} ${await response.text()}`);
  await response.text();
  const id = response.headers.get('mcp-session-id')!;
  const initialized = await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
    'mcp-session-id': id,
    'mcp-protocol-version': '2025-06-18',
  });
  await initialized.text();
  return id;
}
