import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { StdioTarget } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { JsonRpcMessage, UpstreamConnection } from './types.js';

const STOP_GRACE_MS = 2000;
const STDERR_TAIL_LINES = 20;

export interface StdioExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the gateway stopped the process; false for a crash or a server that quit on its own. */
  readonly expected: boolean;
}

/**
 * A stdio MCP server as a child process speaking newline-delimited JSON-RPC. Own framing rather than the
 * SDK's StdioClientTransport: that one validates every message against the SDK's schemas (slow, and it
 * would reject methods the gateway passes through) and hides the exit code we need to report.
 */
export class StdioConnection implements UpstreamConnection {
  readonly kind = 'stdio' as const;
  readonly sessionId = undefined;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  private readonly child: ChildProcessWithoutNullStreams;
  private closing = false;
  /** stdout text after the last newline: the start of a message still arriving. */
  private partial = '';
  private exited = false;
  /** The child's last stderr lines, for error reports (e.g. a warm-up that failed). */
  readonly stderrTail: string[] = [];
  /** Resolves once the child is gone, whichever way it went. */
  readonly exit: Promise<StdioExit>;

  private constructor(
    readonly target: string,
    spec: StdioTarget,
    private readonly logger: Logger,
  ) {
    const env = spec.clearEnv ? { ...spec.env } : { ...process.env, ...spec.env };
    this.child = spawn(spec.cmd, spec.args ?? [], { env, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal, expected: this.closing });
        if (this.closing) return;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.logger.warn('stdio target exited', { target, code, signal });
        this.onclose?.(new Error(`stdio target "${target}" ${how}`));
      });
    });
    this.child.stdin.on('error', (error) => this.logger.debug('stdio stdin error', { target, error }));
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.frame(chunk));
    const stderr = createInterface({ input: this.child.stderr, crlfDelay: Infinity });
    stderr.on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      this.logger.info('stdio target stderr', { target, stderr: line });
    });
  }

  /** Spawns the process; rejects with a readable message when the command cannot be started (e.g. not installed). */
  static start(target: string, spec: StdioTarget, logger: Logger): Promise<StdioConnection> {
    const connection = new StdioConnection(target, spec, logger);
    return new Promise((resolve, reject) => {
      connection.child.once('spawn', () => resolve(connection));
      connection.child.once('error', (error: NodeJS.ErrnoException) => {
        const reason =
          error.code === 'ENOENT' ? `command "${spec.cmd}" not found (is it installed and on PATH?)` : `cannot start "${spec.cmd}": ${error.message}`;
        logger.error('stdio target failed to start', { target, error: reason });
        reject(new Error(`stdio target "${target}": ${reason}`));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.exited) throw new Error(`stdio target "${this.target}" is not running`);
    this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  setProtocolVersion(): void {}

  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    // MCP's stdio shutdown: close stdin, then SIGTERM, then SIGKILL.
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGTERM'), STOP_GRACE_MS / 2);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exit;
    clearTimeout(timer);
    clearTimeout(killer);
  }

  /**
   * Newline-delimited JSON by hand: readline's per-line machinery cost more than the parse itself, and a
   * chunk usually holds exactly one whole message.
   */
  private frame(chunk: string): void {
    let text = this.partial === '' ? chunk : this.partial + chunk;
    let end = text.indexOf('\n');
    while (end >= 0) {
      this.receive(text.charCodeAt(end - 1) === 13 ? text.slice(0, end - 1) : text.slice(0, end));
      text = text.slice(end + 1);
      end = text.indexOf('\n');
    }
    this.partial = text;
  }

  private receive(line: string): void {
    if (line.length === 0 || line.trim() === '') return;
    let message: JsonRpcMessage;
    try {
      message = JSON.parse(line) as JsonRpcMessage;
    } catch {
      // Servers that print banners on stdout are common; the line is not ours to interpret.
      this.logger.warn('stdio target wrote a non-JSON line on stdout', { target: this.target, line: line.slice(0, 200) });
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    this.onmessage?.(message);
  }
}
