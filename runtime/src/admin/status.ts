import type { ResolvedConfig } from '../config/model.js';
import type { McpTarget } from '../config/types.js';
import type { McpSession } from '../federation/session.js';
import type { ActivityRecorder, RecentCall, TargetHealth } from '../telemetry/activity.js';
import { redactConfig, redactText, shortId } from '../telemetry/redact.js';
import type { StdioPool, StdioPoolInfo, StdioProcessInfo } from '../upstream/stdio-pool.js';

/** Sessions listed on the page at most; the count is always exact. */
const MAX_LISTED_SESSIONS = 200;

export interface AdminStatus {
  readonly version: string;
  readonly ready: boolean;
  readonly configSource: string;
  readonly ports: readonly number[];
  readonly routes: ReadonlyArray<{
    readonly name: string;
    readonly backend: string;
    readonly sessions: number;
    readonly targets: ReadonlyArray<{
      readonly name: string;
      readonly kind: 'stdio' | 'mcp' | 'sse';
      readonly endpoint: string;
      readonly health: TargetHealth;
    }>;
    readonly stdioProcesses: readonly StdioProcessInfo[];
    /** Warm pools and shared processes of the route's stdio targets. */
    readonly stdioPools: readonly StdioPoolInfo[];
  }>;
  readonly sessionCount: number;
  readonly sessions: ReadonlyArray<{
    readonly id: string;
    readonly route: string;
    readonly subject?: string;
    readonly protocolVersion: string;
    readonly ageS: number;
    readonly idleS: number;
  }>;
  readonly recentCalls: readonly RecentCall[];
  readonly config: unknown;
  /** `config.credentials` in brief; the users' connections are at `/api/connections` (who and when, never a token). */
  readonly userCredentials?: { readonly store: string; readonly providers: ReadonlyArray<{ readonly name: string; readonly kind: string }> };
}

export interface StatusSources {
  readonly version: string;
  readonly ready: boolean;
  readonly config: ResolvedConfig;
  readonly ports: readonly number[];
  readonly sessions: readonly McpSession[];
  readonly pools: ReadonlyMap<string, StdioPool>;
  readonly activity: ActivityRecorder;
}

/** The admin page's JSON: a snapshot built on request, secrets redacted. */
export function adminStatus(sources: StatusSources): AdminStatus {
  const now = Date.now();
  const credentials = sources.config.settings.credentials;
  const routes = sources.config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes));
  return {
    version: sources.version,
    ready: sources.ready,
    configSource: sources.config.source,
    ports: sources.ports,
    routes: routes.map((route) => ({
      name: route.name,
      backend: route.backend.name,
      sessions: sources.sessions.filter((session) => session.context.routeId === route.id).length,
      targets: route.backend.targets.map((target) => ({
        name: target.name,
        kind: target.stdio ? 'stdio' : target.mcp ? 'mcp' : 'sse',
        endpoint: endpointOf(target),
        health: redactHealth(sources.activity.targetHealth(route.name, target.name)),
      })),
      stdioProcesses: sources.pools.get(route.id)?.processes() ?? [],
      stdioPools: sources.pools.get(route.id)?.poolInfo() ?? [],
    })),
    sessionCount: sources.sessions.length,
    sessions: sources.sessions.slice(0, MAX_LISTED_SESSIONS).map((session) => ({
      // A session id lets its holder use the session: the page shows enough to tell sessions apart, no more.
      id: shortId(session.id),
      route: session.context.routeName,
      subject: session.subject,
      protocolVersion: session.protocolVersion,
      ageS: Math.round((now - session.createdAt) / 1000),
      idleS: Math.round((now - session.lastActivity) / 1000),
    })),
    recentCalls: sources.activity.recentCalls().map(redactCall),
    config: redactConfig({
      source: sources.config.source,
      settings: { ...sources.config.settings, credentials: undefined },
      binds: sources.config.binds,
    }),
    ...(credentials
      ? {
        userCredentials: {
          store: credentials.store.kind,
          providers: [...credentials.providers.values()].map(({ name, kind }) => ({ name, kind })),
        },
      }
      : {}),
  };
}

// Error texts come from upstreams and the network stack: a URL in one may carry credentials.
function redactHealth(health: TargetHealth): TargetHealth {
  return health.lastError === undefined ? health : { ...health, lastError: redactText(health.lastError) };
}

function redactCall(call: RecentCall): RecentCall {
  return call.error === undefined ? call : { ...call, error: redactText(call.error) };
}

/** The command or URL, through the same redaction as the configuration. */
function endpointOf(target: McpTarget): string {
  if (target.stdio) {
    const redacted = redactConfig({ args: target.stdio.args ?? [] }) as { args: string[] };
    return [target.stdio.cmd, ...redacted.args].join(' ');
  }
  const http = (target.mcp ?? target.sse)!;
  const url = /^[a-z]+:\/\//i.test(http.host) ? http.host : `${http.host}${http.port ? `:${http.port}` : ''}${http.path ?? ''}`;
  return redactText(url);
}
