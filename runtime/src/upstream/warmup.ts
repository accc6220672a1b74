import { StdioConnection } from './stdio.js';
import type { StdioTarget } from '../config/types.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { Logger } from '../telemetry/logger.js';

/** npx/uvx may download a package (and its dependencies) on the first start. */
export const WARMUP_TIMEOUT_MS = 10 * 60_000;
const WARMUP_PROTOCOL_VERSION = '2025-06-18';

export type WarmupState = { readonly state: 'running' } | { readonly state: 'done' } | { readonly state: 'failed'; readonly reason: string };

/**
 * Starts a stdio target once, runs the MCP handshake (`initialize`, `notifications/initialized`) and stops
 * it: whatever the first start costs (npx/uvx filling their caches) is paid before clients arrive.
 * Resolves when the server answered `initialize` with a result; rejects with a readable reason otherwise
 * (the child's exit code and its last stderr lines included).
 */
export class StdioWarmup {
  private connection?: StdioConnection;
  private stopped = false;
  private abort?: (error: Error) => void;

  constructor(
    readonly target: string,
    private readonly spec: StdioTarget,
    private readonly logger: Logger,
    private readonly timeoutMs = WARMUP_TIMEOUT_MS,
  ) {}

  /** Resolves with the milliseconds the handshake took. */
  async run(): Promise<number> {
    const started = performance.now();
    const connection = await StdioConnection.start(this.target, this.spec, this.logger);
    this.connection = connection;
    try {
      const response = await new Promise<JsonRpcMessage>((resolve, reject) => {
        this.abort = reject;
        const timer = setTimeout(() => reject(new Error(`no answer to initialize within ${formatMs(this.timeoutMs)}`)), this.timeoutMs);
        timer.unref();
        connection.onmessage = (message) => {
          if (message.id !== 1 || message.method !== undefined) return;
          clearTimeout(timer);
          resolve(message);
        };
        connection.onclose = (reason) => {
          clearTimeout(timer);
          reject(reason);
        };
        connection
          .send({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: WARMUP_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-gateway-warmup', version: '1.0.0' } },
          })
          .catch(reject);
      });
      if (this.stopped) throw new Error('warm-up stopped');
      if (response.error) throw new Error(`initialize refused: ${response.error.message} (code ${response.error.code})`);
      await connection.send({ jsonrpc: '2.0', method: 'notifications/initialized' }).catch(() => undefined);
    } catch (error) {
      // The last stderr lines may still be in the pipe when the exit is reported.
      await Promise.race([connection.exit, new Promise((resolve) => setTimeout(resolve, 1000))]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const tail = connection.stderrTail.join('\n');
      connection.onmessage = undefined;
      connection.onclose = undefined;
      await connection.close();
      throw new Error(`${(error as Error).message}${tail ? `; last stderr lines:\n${tail}` : ''}`);
    }
    // Ready as soon as the server answered; stopping it (stdin closed, then signals) goes on in the background.
    connection.onmessage = undefined;
    connection.onclose = undefined;
    void connection.close();
    return Math.round(performance.now() - started);
  }

  /** Drain while warming up: stop the process. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.(new Error('warm-up stopped: the gateway is shutting down'));
    await this.connection?.close();
  }
}

function formatMs(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
