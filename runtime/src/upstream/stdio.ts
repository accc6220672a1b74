import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BoundedLineSplitter } from './lines.js';
import type { UpstreamConnection } from './types.js';
import type { StdioTarget } from '../config/types.js';
import { INTERNAL_ERROR } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { Logger } from '../telemetry/logger.js';

const STOP_GRACE_MS = 2000;
const STDERR_TAIL_LINES = 20;
/** Longest stderr line logged; the rest of a longer one is skipped. */
const MAX_STDERR_LINE_BYTES = 8 * 1024;
/** Largest stdout message when the backend does not say (`stdio.maxMessageBytes`). */
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** JSON-RPC internal error: the answer a client gets for a response too large to pass on. */

export interface StdioOptions {
  /** Largest stdout line (one JSON-RPC message) held; larger ones become an error for their request. */
  readonly maxMessageBytes?: number;
}

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
  ondropped?: (bytes: number) => void;
  private readonly child: ChildProcessWithoutNullStreams;
  private closing = false;
  private exited = false;
  /** The child's last stderr lines, for error reports (e.g. a warm-up that failed). */
  readonly stderrTail: string[] = [];
  /** Resolves once the child is gone, whichever way it went. */
  readonly exit: Promise<StdioExit>;

  private constructor(
    readonly target: string,
    spec: StdioTarget,
    private readonly logger: Logger,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
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
    const stdout = new BoundedLineSplitter(
      maxMessageBytes,
      (line) => this.receive(line),
      (head) => this.oversized(head),
      (bytes) => this.ondropped?.(bytes),
    );
    this.child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    this.child.stdout.once('end', () => stdout.end());
    const stderrLine = (line: string): void => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      this.logger.info('stdio target stderr', { target, stderr: line });
    };
    const stderr = new BoundedLineSplitter(MAX_STDERR_LINE_BYTES, stderrLine, (head) =>
      stderrLine(`${head}… (line longer than ${MAX_STDERR_LINE_BYTES} bytes, cut)`),
    );
    this.child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    this.child.stderr.once('end', () => stderr.end());
  }

  /** Spawns the process; rejects with a readable message when the command cannot be started (e.g. not installed). */
  static start(target: string, spec: StdioTarget, logger: Logger, options: StdioOptions = {}): Promise<StdioConnection> {
    const connection = new StdioConnection(target, spec, logger, options.maxMessageBytes);
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
   * A message over `maxMessageBytes` is not held. A response among them (its id is at the start of the
   * line) is answered with an error at once, so the client learns why instead of waiting for a timeout.
   */
  private oversized(head: string): void {
    const response = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*"(?:result|error)"\s*:/.exec(head);
    const message = `stdio target "${this.target}" wrote a message larger than ${this.maxMessageBytes} bytes (stdio.maxMessageBytes); it was dropped`;
    this.logger.warn('stdio message over the size limit dropped', {
      target: this.target,
      maxMessageBytes: this.maxMessageBytes,
      start: head.slice(0, 80),
    });
    if (response) this.onmessage?.({ jsonrpc: '2.0', id: JSON.parse(response[1]) as string | number, error: { code: INTERNAL_ERROR, message } });
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
