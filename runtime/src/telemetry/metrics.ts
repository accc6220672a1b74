import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NameCatalog } from './names.js';
import type {
  CallKind,
  DroppedKind,
  LimitKind,
  McpCallRecord,
  McpRequestRecord,
  StdioEvent,
  StdioPoolEvent,
  Telemetry,
  UpstreamErrorReason,
} from './telemetry.js';

/**
 * Methods the metrics name as themselves; anything else (a typo, an experimental method) is `other`, so a
 * client cannot create series at will.
 */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'server/discover',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
]);

const HTTP_METHODS = new Set(['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD']);

/**
 * The Prometheus metrics of one gateway (the contract in docs/ARCHITECTURE.md), in a registry of its own.
 * Label values for names are bounded by the catalog of listed names.
 */
export class PrometheusMetrics implements Telemetry {
  readonly registry = new Registry();
  private readonly names = new NameCatalog();
  private readonly httpRequests: Counter;
  private readonly mcpRequests: Counter;
  private readonly mcpDuration: Histogram;
  private readonly sessions: Gauge;
  private readonly stdioProcesses: Gauge;
  private readonly stdioEvents: Counter;
  private readonly poolEvents: Counter;
  private readonly poolSpares: Gauge;
  private readonly upstreamErrors: Counter;
  private readonly authFailures: Counter;
  private readonly configReloads: Counter;
  private readonly droppedBytes: Counter;
  private readonly limitRefusals: Counter;

  constructor() {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'mcp_gateway_http_requests_total',
      help: 'HTTP requests served on MCP routes',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.mcpRequests = new Counter({
      name: 'mcp_gateway_mcp_requests_total',
      help: 'MCP JSON-RPC requests answered, by target, method, tool/prompt/resource name and outcome',
      labelNames: ['route', 'target', 'method', 'kind', 'name', 'outcome'],
      registers,
    });
    this.mcpDuration = new Histogram({
      name: 'mcp_gateway_mcp_request_duration_seconds',
      help: 'Time from a client request to its answer',
      labelNames: ['route', 'target', 'method', 'kind', 'name'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.sessions = new Gauge({
      name: 'mcp_gateway_sessions_active',
      help: 'Client sessions held by this process',
      labelNames: ['route'],
      registers,
    });
    this.stdioProcesses = new Gauge({
      name: 'mcp_gateway_stdio_processes',
      help: 'Running stdio server processes',
      labelNames: ['route', 'target'],
      registers,
    });
    this.stdioEvents = new Counter({
      name: 'mcp_gateway_stdio_process_events_total',
      help: 'stdio server processes started, exited, and started again after a crash',
      labelNames: ['route', 'target', 'event'],
      registers,
    });
    this.poolEvents = new Counter({
      name: 'mcp_gateway_stdio_pool_events_total',
      help: 'How sessions got a stdio process (hit: a ready spare, miss: none ready, reused, shared) and processes retired or messages refused by '
        + 'the pool',
      labelNames: ['route', 'target', 'event'],
      registers,
    });
    this.poolSpares = new Gauge({
      name: 'mcp_gateway_stdio_pool_spares',
      help: 'Pre-initialized stdio processes ready for new sessions',
      labelNames: ['route', 'target'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'mcp_gateway_upstream_errors_total',
      help: 'Requests an upstream could not serve, by reason',
      labelNames: ['route', 'target', 'reason'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'mcp_gateway_auth_failures_total',
      help: 'Requests refused by authentication',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.configReloads = new Counter({
      name: 'mcp_gateway_config_reloads_total',
      help: 'Configuration changes applied or rejected',
      labelNames: ['outcome'],
      registers,
    });
    this.droppedBytes = new Counter({
      name: 'mcp_gateway_dropped_bytes_total',
      help: 'Bytes not held for clients because a byte limit was reached, by what was cut',
      labelNames: ['route', 'what'],
      registers,
    });
    this.limitRefusals = new Counter({
      name: 'mcp_gateway_limit_refusals_total',
      help: 'Requests, sessions and processes refused by a configured limit',
      labelNames: ['route', 'limit'],
      registers,
    });
  }

  /** The text exposition format. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  requestFinished(record: McpRequestRecord): void {
    this.httpRequests.inc({ route: record.route, method: httpMethod(record.httpMethod), status: String(record.httpStatus) });
  }

  callFinished(record: McpCallRecord): void {
    const method = KNOWN_METHODS.has(record.method) ? record.method : 'other';
    const name = this.boundedName(record.route, record.target, record.kind, record.name);
    const labels = { route: record.route, target: record.target, method, kind: record.kind, name };
    this.mcpRequests.inc({ ...labels, outcome: record.outcome });
    this.mcpDuration.observe(labels, record.durationMs / 1000);
  }

  namesListed(route: string, target: string, kind: Exclude<CallKind, 'other'>, names: readonly string[]): void {
    this.names.add(route, target, kind, names);
  }

  sessionOpened(route: string): void {
    this.sessions.inc({ route });
  }

  sessionClosed(route: string): void {
    this.sessions.dec({ route });
  }

  upstreamProcessExited(): void {
    // Counted through stdioProcessEvent, which knows the route.
  }

  stdioProcessEvent(route: string, target: string, event: StdioEvent): void {
    this.stdioEvents.inc({ route, target, event });
    if (event === 'started') this.stdioProcesses.inc({ route, target });
    else if (event === 'exited') this.stdioProcesses.dec({ route, target });
  }

  stdioPoolEvent(route: string, target: string, event: StdioPoolEvent): void {
    this.poolEvents.inc({ route, target, event });
  }

  stdioPoolSpares(route: string, target: string, count: number): void {
    this.poolSpares.set({ route, target }, count);
  }

  upstreamError(route: string, target: string, reason: UpstreamErrorReason): void {
    this.upstreamErrors.inc({ route, target, reason });
  }

  authFailure(route: string, reason: string, method: string, status: number): void {
    this.authFailures.inc({ route, reason });
    // Refused before the MCP endpoint saw the request, so the HTTP counter hears of it here.
    this.httpRequests.inc({ route, method: httpMethod(method), status: String(status) });
  }

  configReload(outcome: 'applied' | 'rejected'): void {
    this.configReloads.inc({ outcome });
  }

  bytesDropped(route: string, what: DroppedKind, bytes: number): void {
    this.droppedBytes.inc({ route, what }, bytes);
  }

  limitRefused(route: string, limit: LimitKind): void {
    this.limitRefusals.inc({ route, limit });
  }

  private boundedName(route: string, target: string, kind: CallKind, name: string): string {
    if (kind === 'other' || name === '') return '';
    return this.names.has(route, target, kind, name) ? name : 'other';
  }
}

function httpMethod(method: string): string {
  return HTTP_METHODS.has(method) ? method : 'other';
}
