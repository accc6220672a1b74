/**
 * What the request path reports about each MCP exchange. Metrics (Prometheus) and the admin page
 * implement it; the default does nothing so the hot path pays one virtual call.
 */
export interface McpRequestRecord {
  readonly route: string;
  readonly httpMethod: string;
  readonly httpStatus: number;
  /** JSON-RPC method, e.g. `tools/call`; undefined for GET/DELETE or responses. */
  readonly mcpMethod?: string;
  readonly target?: string;
  readonly resourceType?: 'tool' | 'prompt' | 'resource' | 'template';
  readonly resource?: string;
  readonly sessionId?: string;
  readonly errorCode?: number;
  readonly durationMs: number;
}

export interface Telemetry {
  requestFinished(record: McpRequestRecord): void;
  sessionOpened(route: string): void;
  sessionClosed(route: string): void;
  upstreamProcessExited(target: string, code: number | null, signal: string | null): void;
}

export const noTelemetry: Telemetry = {
  requestFinished() {},
  sessionOpened() {},
  sessionClosed() {},
  upstreamProcessExited() {},
};
