import type { UpstreamErrorReason } from '../protocol/errors.js';

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
  /** `sub` of the validated bearer token, when the route authenticates. */
  readonly subject?: string;
  readonly errorCode?: number;
  readonly durationMs: number;
}

export type CallKind = 'tool' | 'prompt' | 'resource' | 'other';
export type CallOutcome = 'ok' | 'error' | 'denied';

/** One JSON-RPC request of a client, answered (a batch POST yields several). */
export interface McpCallRecord {
  readonly route: string;
  /** The target that served it; `all` when it went to every target (lists, fan-out). */
  readonly target: string;
  readonly method: string;
  readonly kind: CallKind;
  /** Tool or prompt name, or resource URI, as the target knows it (un-prefixed); empty for other methods. */
  readonly name: string;
  readonly outcome: CallOutcome;
  readonly durationMs: number;
  readonly sessionId?: string;
  readonly subject?: string;
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

export type StdioEvent = 'started' | 'exited' | 'restarted';

/**
 * How a session got its stdio process: a ready spare (`hit`), none ready (`miss`), a process another
 * session gave back (`reused`), a channel of the shared process (`shared`); `retired` is a process not
 * taken back after its session, `refused` a message a shared process could not pass on.
 */
export type StdioPoolEvent = 'hit' | 'miss' | 'reused' | 'retired' | 'shared' | 'refused';

/** Why an upstream could not serve a request: a closed set, so it can be a metric label. */
export type { UpstreamErrorReason };

export interface Telemetry {
  requestFinished(record: McpRequestRecord): void;
  sessionOpened(route: string): void;
  sessionClosed(route: string): void;
  upstreamProcessExited(target: string, code: number | null, signal: string | null): void;
  // The hooks below are optional so embedders' Telemetry implementations written for the four above keep working.
  /** Each client JSON-RPC request once answered. */
  callFinished?(record: McpCallRecord): void;
  /** Names a target listed (tools, prompts, resources): the only names metrics label by, to bound cardinality. */
  namesListed?(route: string, target: string, kind: Exclude<CallKind, 'other'>, names: readonly string[]): void;
  stdioProcessEvent?(route: string, target: string, event: StdioEvent): void;
  stdioPoolEvent?(route: string, target: string, event: StdioPoolEvent): void;
  /** Spares ready in a target's warm pool now. */
  stdioPoolSpares?(route: string, target: string, count: number): void;
  upstreamError?(route: string, target: string, reason: UpstreamErrorReason, message: string): void;
  /** An upstream answered: its target is healthy again. */
  upstreamOk?(route: string, target: string): void;
  authFailure?(route: string, reason: string, httpMethod: string, status: number): void;
  configReload?(outcome: 'applied' | 'rejected'): void;
  /** Bytes the gateway refused to hold for a client (a byte limit was reached). */
  bytesDropped?(route: string, what: DroppedKind, bytes: number): void;
  /** A request, session or process refused by a limit (`config.limits`, `localRateLimit`). */
  limitRefused?(route: string, limit: LimitKind): void;
}

/** What was cut short: SSE events kept for replay, admin-page activity fields, stdio messages over the size limit. */
export type DroppedKind = 'sse_replay' | 'admin_activity' | 'stdio_message';
/** Which limit refused: sessions (global, per subject), stdio processes per subject, batch size, rate limits. */
export type LimitKind = 'sessions' | 'subject_sessions' | 'subject_processes' | 'batch_size' | 'rate_route' | 'rate_subject' | 'rate_tool';

export const noTelemetry: Telemetry = {
  requestFinished() {},
  sessionOpened() {},
  sessionClosed() {},
  upstreamProcessExited() {},
};

/** Reports to every part in turn: the gateway's own metrics and admin page, and an embedder's Telemetry. */
export function combineTelemetry(parts: readonly Telemetry[]): Telemetry {
  if (parts.length === 1) return parts[0];
  return {
    requestFinished: (record) => parts.forEach((part) => part.requestFinished(record)),
    sessionOpened: (route) => parts.forEach((part) => part.sessionOpened(route)),
    sessionClosed: (route) => parts.forEach((part) => part.sessionClosed(route)),
    upstreamProcessExited: (target, code, signal) => parts.forEach((part) => part.upstreamProcessExited(target, code, signal)),
    callFinished: (record) => parts.forEach((part) => part.callFinished?.(record)),
    namesListed: (route, target, kind, names) => parts.forEach((part) => part.namesListed?.(route, target, kind, names)),
    stdioProcessEvent: (route, target, event) => parts.forEach((part) => part.stdioProcessEvent?.(route, target, event)),
    stdioPoolEvent: (route, target, event) => parts.forEach((part) => part.stdioPoolEvent?.(route, target, event)),
    stdioPoolSpares: (route, target, count) => parts.forEach((part) => part.stdioPoolSpares?.(route, target, count)),
    upstreamError: (route, target, reason, message) => parts.forEach((part) => part.upstreamError?.(route, target, reason, message)),
    upstreamOk: (route, target) => parts.forEach((part) => part.upstreamOk?.(route, target)),
    authFailure: (route, reason, method, status) => parts.forEach((part) => part.authFailure?.(route, reason, method, status)),
    configReload: (outcome) => parts.forEach((part) => part.configReload?.(outcome)),
    bytesDropped: (route, what, bytes) => parts.forEach((part) => part.bytesDropped?.(route, what, bytes)),
    limitRefused: (route, limit) => parts.forEach((part) => part.limitRefused?.(route, limit)),
  };
}
