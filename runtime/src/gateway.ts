import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminServer, type AdminEndpoints } from './admin/server.js';
import { adminStatus, type AdminStatus } from './admin/status.js';
import type { RouteAuthenticator } from './auth/index.js';
import { IssuerChannel } from './auth/issuer-channel.js';
import type { ListenAddress, ResolvedConfig, ResolvedRoute } from './config/model.js';
import { CredentialBroker } from './credentials/broker.js';
import { BrowserSignIn, type SignInIssuer } from './credentials/browser-sign-in.js';
import { ConnectEndpoint } from './credentials/connect-endpoint.js';
import type { UserRef } from './credentials/store.js';
import { UpstreamBridge } from './federation/bridge.js';
import type { BackendContext, ForwardedCredential, McpSession } from './federation/session.js';
import { compileMatcher, endpointPathOf, type CompiledListener, type CompiledRoute } from './http/routes.js';
import { BindServer } from './http/server.js';
import { Admission, RateLimiter } from './session/limits.js';
import { SessionStore } from './session/store.js';
import { SessionCodec } from './session/token.js';
import { ActivityRecorder } from './telemetry/activity.js';
import type { Logger } from './telemetry/logger.js';
import type { PrometheusMetrics } from './telemetry/metrics.js';
import { combineTelemetry, type Telemetry } from './telemetry/telemetry.js';
import type { Tracer } from './telemetry/tracing.js';
import { StdioPool } from './upstream/stdio-pool.js';
import { StdioWarmup, type WarmupState } from './upstream/warmup.js';
import { GATEWAY_VERSION } from './version.js';

/** What the admin page shows: a snapshot, cheap to build. */
export interface GatewayStatus {
  readonly ready: boolean;
  readonly configSource: string;
  readonly ports: readonly number[];
  readonly sessions: number;
  readonly routes: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly targets: readonly string[];
    readonly stdioProcesses: number;
  }>;
}

export interface GatewayOptions {
  readonly logger: Logger;
  readonly telemetry?: Telemetry;
  /** Address every bind listens on. */
  readonly host: string;
  /** Host names accepted besides loopback ones on routes with DNS-rebinding protection (`--allowed-hosts`). */
  readonly allowedHosts?: readonly string[];
  /** The stdio bridge's `--credential-env`: each session's processes get the caller's credential from a header. */
  readonly forwardedCredential?: ForwardedCredential;
  /** How long a `stdio.warmup` start may take (default 10 minutes: npx/uvx downloads). */
  readonly warmupTimeoutMs?: number;
}

/**
 * Authentication (jose) and authorization (CEL) are loaded only when some route uses them: together they
 * are a third of the gateway's memory, which a plain stdio bridge does not need.
 */
interface PolicyModules {
  auth?: typeof import('./auth/index.js');
  authz?: typeof import('./authz/index.js');
}

async function loadPolicyModules(config: ResolvedConfig, loaded: PolicyModules): Promise<void> {
  const routes = config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes));
  if (!loaded.auth && routes.some((route) => route.authentication)) loaded.auth = await import('./auth/index.js');
  if (!loaded.authz && routes.some((route) => route.authorization)) loaded.authz = await import('./authz/index.js');
}

/**
 * The gateway's own observers. prom-client and the OpenTelemetry SDK are loaded only when configured:
 * the bridge command line sets neither, and stays small.
 */
interface Observability {
  readonly activity: ActivityRecorder;
  readonly metrics?: PrometheusMetrics;
  readonly tracer?: Tracer;
}

async function loadObservability(config: ResolvedConfig): Promise<Observability> {
  const metrics = config.settings.statsAddr ? new (await import('./telemetry/metrics.js')).PrometheusMetrics() : undefined;
  const tracing = config.settings.tracing;
  const tracer = tracing ? new (await import('./telemetry/otel.js')).OtelTracer(tracing, GATEWAY_VERSION) : undefined;
  return { activity: new ActivityRecorder(), metrics, tracer };
}

interface RoutingTable {
  readonly config: ResolvedConfig;
  /** Per bind (same order as config.binds). */
  readonly binds: ReadonlyArray<readonly CompiledListener[]>;
  readonly authenticators: readonly RouteAuthenticator[];
}

/**
 * The running gateway: its ports, routes, sessions and stdio pools. Everything hangs off this object;
 * a reload builds a complete new routing table first and swaps it in only when all of it compiled.
 */
export class Gateway {
  private readonly logger: Logger;
  private readonly warmupTimeoutMs?: number;
  private readonly telemetry: Telemetry;
  private readonly sessions: SessionStore<McpSession>;
  private readonly codec: SessionCodec;
  private readonly pools = new Map<string, StdioPool>();
  /** Per route: upstream sessions kept for 2026-07-28 callers of session-era targets (federation/BRIDGING.md). */
  private readonly bridges = new Map<string, UpstreamBridge>();
  private readonly sessionKey: Buffer;
  private readonly admission: Admission;
  /** `localRateLimit` buckets by route id, kept across reloads while the route's limits stay the same. */
  private readonly rateLimiters = new Map<string, RateLimiter>();
  private readonly servers = new Map<string, BindServer>();
  private table?: RoutingTable;
  private drainingNow = false;
  /** Stdio targets warmed up at start-up (`stdio.warmup`), by route id and target name. */
  private readonly warmups = new Map<string, { readonly warmup: StdioWarmup; state: WarmupState }>();
  private readonly adminServers: AdminServer[] = [];
  readonly ports = new Map<string, number>();
  /** Ports of the admin page and `/metrics` once listening (0 = not served). */
  readonly adminPorts = { admin: 0, stats: 0 };

  /** Builds a gateway for `initial`; throws ConfigError when a route's auth or authorization does not compile. */
  static async create(initial: ResolvedConfig, options: GatewayOptions): Promise<Gateway> {
    const modules: PolicyModules = {};
    await loadPolicyModules(initial, modules);
    const credentials = initial.settings.credentials;
    // `config.credentials` is read at start-up only, like the rest of `config`.
    let gateway: Gateway | undefined;
    const broker = credentials
      ? await CredentialBroker.create(credentials, options.logger, (issuer) => gateway!.discoverTokenUrl(issuer))
      : undefined;
    gateway = new Gateway(initial, options, modules, await loadObservability(initial), broker);
    return gateway;
  }

  /** Users' upstream credentials; undefined unless `config.credentials` is set. */
  private readonly connectEndpoint?: ConnectEndpoint;
  private readonly tokenEndpoints = new Map<string, Promise<string>>();
  private readonly signInIssuers = new Map<string, Promise<SignInIssuer>>();

  private constructor(
    initial: ResolvedConfig,
    private readonly options: GatewayOptions,
    private readonly modules: PolicyModules,
    private readonly observability: Observability,
    private readonly broker?: CredentialBroker,
  ) {
    this.logger = options.logger;
    this.warmupTimeoutMs = options.warmupTimeoutMs;
    const parts: Telemetry[] = [observability.activity];
    if (observability.metrics) parts.push(observability.metrics);
    if (options.telemetry) parts.push(options.telemetry);
    this.telemetry = combineTelemetry(parts);
    observability.activity.onTruncated = (route, bytes) => this.telemetry.bytesDropped?.(route, 'admin_activity', bytes);
    this.sessions = new SessionStore<McpSession>(initial.settings.sessionTtlMs, this.logger, this.telemetry);
    this.admission = new Admission(initial.settings);
    this.sessionKey = initial.settings.sessionKey ?? SessionCodec.randomKey();
    this.codec = new SessionCodec(this.sessionKey);
    if (!initial.settings.sessionKey) {
      this.logger.warn(
        'no session key configured (config.session.key or SESSION_KEY): using a random key, so sessions will not survive a restart or move '
          + 'between replicas',
      );
    }
    this.table = this.compile(initial);
    if (broker) {
      const { browserSignIn, encryptionKey } = broker.settings;
      const signIn = browserSignIn && new BrowserSignIn(browserSignIn, encryptionKey, (issuer) => this.discoverSignIn(issuer));
      this.connectEndpoint = new ConnectEndpoint(broker, (provider, req, res) => this.identify(provider, req, res), this.logger, signIn);
      broker.onConnected = (user, provider, elicitationId) => this.elicitationComplete(user, provider, elicitationId);
    }
  }

  /**
   * After a user connected a provider: `notifications/elicitation/complete` on each of the user's sessions
   * here that can take it. Sessions at other replicas get none; their client's retry finds the credential
   * in the shared store.
   */
  private elicitationComplete(user: UserRef, provider: string, elicitationId: string): void {
    let notified = 0;
    for (const session of this.sessions.list()) {
      const owner = session.user;
      if (!owner || owner.issuer !== user.issuer || owner.subject !== user.subject || session.clientCapabilities.elicitation === undefined) continue;
      session.notifyClient({ jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId } });
      notified++;
    }
    this.logger.info('elicitation complete sent', { provider, subject: user.subject, sessions: notified });
  }

  /** The caller of a `/connect/` request, by the bearer token a route using `provider` accepts; null once refused. */
  private async identify(provider: string, req: IncomingMessage, res: ServerResponse): Promise<UserRef | null> {
    for (const listeners of this.table!.binds) {
      for (const compiled of listeners.flatMap((listener) => listener.routes)) {
        if (!compiled.authenticator || !compiled.route.backend.targets.some((target) => target.credential?.provider === provider)) continue;
        const identity = await compiled.authenticator.authenticate(req, res, { routePath: compiled.endpointPath });
        if (!identity) {
          if (!res.headersSent) res.writeHead(401).end();
          return null;
        }
        const { iss, sub } = identity.claims;
        return { issuer: typeof iss === 'string' ? iss : '', subject: String(sub) };
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route uses provider "${provider}"`);
    return null;
  }

  /** Token-exchange providers without `tokenUrl`: the sign-in issuer's token endpoint, found through discovery (back channel when set). */
  private discoverTokenUrl(issuer: string): Promise<string> {
    let found = this.tokenEndpoints.get(issuer);
    if (!found) {
      const routes = this.table!.config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes));
      const trimmed = issuer.replace(/\/+$/, '');
      const auth = routes.map((route) => route.authentication).find((candidate) => candidate?.issuer.replace(/\/+$/, '') === trimmed);
      const channel = new IssuerChannel(issuer, auth?.backchannelUrl);
      found = fetch(channel.internal(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`), { signal: AbortSignal.timeout(10_000) })
        .then(async (response) => {
          const document = (await response.json()) as { token_endpoint?: unknown };
          if (!response.ok || typeof document.token_endpoint !== 'string') {
            throw new Error(`no token_endpoint in the discovery document of ${issuer}`);
          }
          return channel.internal(document.token_endpoint);
        })
        .catch((error: Error) => {
          this.tokenEndpoints.delete(issuer);
          throw error;
        });
      this.tokenEndpoints.set(issuer, found);
    }
    return found;
  }

  /**
   * The endpoints for signing a connect link's browser in at `issuer` (a route's sign-in issuer): the
   * authorization endpoint as browsers see it, token and JWKS endpoints over the back-channel when set.
   */
  private discoverSignIn(issuer: string): Promise<SignInIssuer> {
    let found = this.signInIssuers.get(issuer);
    if (!found) {
      const routes = this.table!.config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes));
      const trimmed = issuer.replace(/\/+$/, '');
      const auth = routes.map((route) => route.authentication).find((candidate) => candidate?.issuer.replace(/\/+$/, '') === trimmed);
      if (!auth) return Promise.reject(new Error(`${issuer} is no route's sign-in issuer`));
      const channel = new IssuerChannel(issuer, auth.backchannelUrl);
      found = fetch(channel.internal(`${trimmed}/.well-known/openid-configuration`), { signal: AbortSignal.timeout(10_000) })
        .then(async (response) => {
          const document = channel.publicDocument((await response.json()) as Record<string, unknown>);
          const { issuer: named, authorization_endpoint: authorize, token_endpoint: token, jwks_uri: jwks } = document;
          if (!response.ok || named !== issuer || typeof authorize !== 'string' || typeof token !== 'string' || typeof jwks !== 'string') {
            throw new Error(`the discovery document of ${issuer} does not name it with authorization, token and JWKS endpoints`);
          }
          return {
            authorizationEndpoint: authorize,
            tokenEndpoint: channel.internal(token),
            jwksUri: channel.internal(jwks),
            sendsIss: document.authorization_response_iss_parameter_supported === true,
          };
        })
        .catch((error: Error) => {
          this.signInIssuers.delete(issuer);
          this.logger.warn('browser sign-in: discovery failed', { issuer, error: error.message });
          throw error;
        });
      this.signInIssuers.set(issuer, found);
    }
    return found;
  }

  /** `/readyz`: not while draining, nor before every warm-up succeeded. */
  get ready(): boolean {
    if (this.drainingNow || this.table === undefined) return false;
    for (const { state } of this.warmups.values()) if (state.state !== 'done') return false;
    return true;
  }

  get draining(): boolean {
    return this.drainingNow;
  }

  /** Why `/readyz` says 503. */
  get notReadyReason(): string | undefined {
    if (this.drainingNow) return 'draining';
    const reasons: string[] = [];
    for (const { warmup, state } of this.warmups.values()) {
      if (state.state === 'running') reasons.push(`warming up ${warmup.target}`);
      else if (state.state === 'failed') reasons.push(`warm-up of ${warmup.target} failed: ${state.reason}`);
    }
    return reasons.length > 0 ? reasons.join('\n') : undefined;
  }

  get config(): ResolvedConfig {
    return this.table!.config;
  }

  status(): GatewayStatus {
    const config = this.table!.config;
    const routes = config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes));
    return {
      ready: this.ready,
      configSource: config.source,
      ports: [...this.ports.values()],
      sessions: this.sessions.size,
      routes: routes.map((route) => ({
        id: route.id,
        name: route.name,
        targets: route.backend.targets.map((target) => target.name),
        stdioProcesses: this.pools.get(route.id)?.liveProcesses ?? 0,
      })),
    };
  }

  /** The admin page's JSON (secrets redacted). */
  adminStatus(): AdminStatus {
    return adminStatus({
      version: GATEWAY_VERSION,
      ready: this.ready,
      config: this.table!.config,
      ports: [...this.ports.values()],
      sessions: this.sessions.list(),
      pools: this.pools,
      activity: this.observability.activity,
    });
  }

  /** Counts a configuration change (the watcher's outcome: loading and applying). */
  recordReload(outcome: 'applied' | 'rejected'): void {
    this.telemetry.configReload?.(outcome);
  }

  async start(): Promise<void> {
    // Registered first so /readyz is 503 from the first request; run once the ports are bound, so a port
    // that is taken does not leave a warm-up process behind.
    const warmups = this.registerWarmups(this.table!.config);
    await this.applyBinds(this.table!);
    const warmed = warmups.map((run) => run());
    // Spares start once the warm-ups are through, so a first `npx` download does not run several times at once.
    void Promise.allSettled(warmed).then(() => this.preparePools(this.table!.config));
    await this.startAdmin(this.table!.config);
  }

  /** Warm pools and shared stdio processes of every route, started or resized to the configuration. */
  private preparePools(config: ResolvedConfig): void {
    if (this.drainingNow) return;
    for (const route of config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes))) {
      this.pools.get(route.id)?.prepare(route.backend.targets);
    }
  }

  /**
   * `stdio.warmup`: each stdio target of such a backend is started once, in the background, while the
   * ports already listen (liveness 200, readiness 503). A failure keeps the gateway unready, so a startup
   * probe restarts the pod and the log line says why.
   */
  private registerWarmups(config: ResolvedConfig): Array<() => Promise<unknown>> {
    const runs: Array<() => Promise<unknown>> = [];
    for (const route of config.binds.flatMap((bind) => bind.listeners.flatMap((listener) => listener.routes))) {
      if (!route.backend.stdio.warmup) continue;
      for (const target of route.backend.targets) {
        const key = `${route.id}\u0000${target.name}`;
        if (!target.stdio || this.warmups.has(key)) continue;
        const warmup = new StdioWarmup(target.name, target.stdio, this.logger, this.warmupTimeoutMs);
        const entry: { warmup: StdioWarmup; state: WarmupState } = { warmup, state: { state: 'running' } };
        this.warmups.set(key, entry);
        const cmd = target.stdio.cmd;
        runs.push(() => {
          this.logger.info('warming up stdio target', { route: route.name, target: target.name, cmd });
          return warmup.run().then(
            (durationMs) => {
              entry.state = { state: 'done' };
              this.logger.info('stdio target warmed up', { route: route.name, target: target.name, durationMs });
            },
            (error: Error) => {
              entry.state = { state: 'failed', reason: error.message };
              if (this.drainingNow) return;
              this.logger.error('stdio target warm-up failed: the gateway stays unready (/readyz 503) until it is restarted', {
                route: route.name,
                target: target.name,
                cmd,
                error: error.message,
              });
            },
          );
        });
      }
    }
    return runs;
  }

  /**
   * Admin page and metrics, at start-up only. A port that cannot be bound is logged and skipped: losing
   * the dashboard must not take MCP traffic down with it.
   */
  private async startAdmin(config: ResolvedConfig): Promise<void> {
    const { statsAddr, adminAddr } = config.settings;
    const metrics = this.observability.metrics;
    const status: AdminEndpoints['status'] = () => this.adminStatus();
    const scrape: AdminEndpoints['metrics'] = metrics ? () => metrics.scrape() : undefined;
    const broker = this.broker;
    const connections: AdminEndpoints['connections'] = broker
      ? async () => ({ store: broker.store.kind, connections: await broker.listConnections() })
      : undefined;
    const sameAddress = statsAddr && adminAddr && statsAddr.port !== 0 && statsAddr.port === adminAddr.port && statsAddr.host === adminAddr.host;
    if (adminAddr) {
      const port = await this.listenAdmin(adminAddr, sameAddress ? { status, connections, metrics: scrape } : { status, connections }, 'admin page');
      this.adminPorts.admin = port;
      if (sameAddress) this.adminPorts.stats = port;
    }
    if (statsAddr && scrape && !sameAddress) this.adminPorts.stats = await this.listenAdmin(statsAddr, { metrics: scrape }, 'metrics');
  }

  private async listenAdmin(address: ListenAddress, endpoints: AdminEndpoints, what: 'admin page' | 'metrics'): Promise<number> {
    const server = new AdminServer(endpoints, this.logger);
    try {
      const port = await server.listen(address.port, address.host);
      this.adminServers.push(server);
      this.logger.info(`${what} listening`, { host: address.host, port });
      return port;
    } catch (error) {
      this.logger.error(`${what} not served: cannot listen on ${address.host}:${address.port}`, { error: (error as Error).message });
      return 0;
    }
  }

  /** Applies a new configuration; throws (ConfigError) and keeps the old one if any part does not compile. */
  async reload(config: ResolvedConfig): Promise<void> {
    await loadPolicyModules(config, this.modules);
    const next = this.compile(config);
    const previous = this.table!;
    this.table = next;
    this.sessions.setTtl(config.settings.sessionTtlMs);
    this.admission.update(config.settings);
    try {
      await this.applyBinds(next);
    } catch (error) {
      this.table = previous;
      await this.applyBinds(previous).catch(() => undefined);
      for (const authenticator of next.authenticators) authenticator.close();
      throw error;
    }
    for (const authenticator of previous.authenticators) authenticator.close();
    this.preparePools(config);
  }

  /** SIGTERM: not ready any more, let running requests finish, then end every session and port. */
  async drain(): Promise<void> {
    this.drainingNow = true;
    for (const pool of this.pools.values()) pool.stopStarting();
    await Promise.all([...this.warmups.values()].map(({ warmup }) => warmup.stop()));
    const timeout = this.table!.config.settings.drainTimeoutMs;
    await Promise.all([...this.servers.values()].map((server) => server.waitIdle(timeout)));
    await this.sessions.closeAll('gateway shutting down');
    await Promise.all([...this.bridges.values()].map((bridge) => bridge.close()));
    // After the sessions: a pooled process a session gives back is stopped, not kept.
    await Promise.all([...this.pools.values()].map((pool) => pool.drain()));
    for (const server of this.servers.values()) server.close();
    for (const authenticator of this.table!.authenticators) authenticator.close();
    for (const server of this.adminServers) server.close();
    await this.broker?.close().catch((error: Error) => this.logger.warn('credential store not closed cleanly', { error: error.message }));
    await this.observability.tracer?.shutdown().catch((error: Error) => this.logger.warn('traces not flushed', { error: error.message }));
  }

  private bindKey(config: ResolvedConfig, index: number): string {
    const port = config.binds[index].port;
    return port === 0 ? `ephemeral#${index}` : String(port);
  }

  private async applyBinds(table: RoutingTable): Promise<void> {
    const wanted = new Set<string>();
    for (const [index, listeners] of table.binds.entries()) {
      const key = this.bindKey(table.config, index);
      wanted.add(key);
      const existing = this.servers.get(key);
      if (existing) {
        existing.setListeners(listeners);
        continue;
      }
      const server = new BindServer(listeners, this, this.logger, this.options.allowedHosts, this.connectEndpoint);
      const port = await server.listen(table.config.binds[index].port, this.options.host);
      this.servers.set(key, server);
      this.ports.set(key, port);
      this.logger.info('listening', { host: this.options.host, port, configuredPort: table.config.binds[index].port });
    }
    for (const [key, server] of this.servers) {
      if (wanted.has(key)) continue;
      server.close();
      this.servers.delete(key);
      this.ports.delete(key);
      this.logger.info('stopped listening', { port: key });
    }
  }

  private compile(config: ResolvedConfig): RoutingTable {
    const authenticators: RouteAuthenticator[] = [];
    try {
      const binds = config.binds.map((bind) =>
        bind.listeners.map((listener) => ({
          hostname: listener.hostname,
          routes: listener.routes.map((route) => this.compileRoute(config, route, authenticators)),
        })),
      );
      return { config, binds, authenticators };
    } catch (error) {
      for (const authenticator of authenticators) authenticator.close();
      throw error;
    }
  }

  private rateLimiterFor(route: ResolvedRoute): RateLimiter | undefined {
    if (route.rateLimits.length === 0) return undefined;
    const existing = this.rateLimiters.get(route.id);
    if (existing && JSON.stringify(existing.limits) === JSON.stringify(route.rateLimits)) return existing;
    const limiter = new RateLimiter(route.rateLimits);
    this.rateLimiters.set(route.id, limiter);
    return limiter;
  }

  private compileRoute(config: ResolvedConfig, route: ResolvedRoute, authenticators: RouteAuthenticator[]): CompiledRoute {
    const authenticator = route.authentication
      ? this.modules.auth!.RouteAuthenticator.create(route.authentication, `${route.configPath}.policies.mcpAuthentication`, {
        onRejected: (reason, req, status) => this.telemetry.authFailure?.(route.name, reason, req.method ?? '', status),
      })
      : undefined;
    if (authenticator) authenticators.push(authenticator);
    const compiledRules = route.authorization
      ? this.modules.authz!.McpAuthorizer.compile(route.authorization, `${route.configPath}.policies.mcpAuthorization`)
      : undefined;
    // Without rules nothing is filtered, and the request path skips authorization entirely.
    const authorizer = compiledRules && !compiledRules.allowsEverything ? compiledRules : undefined;
    let pool = this.pools.get(route.id);
    if (pool) {
      pool.update(route.backend.stdio);
    } else {
      pool = new StdioPool(route.backend.stdio, route.backend.name, this.logger, this.telemetry, route.name, {
        name: 'mcp-gateway',
        version: GATEWAY_VERSION,
      });
      this.pools.set(route.id, pool);
    }
    const logger = this.logger.child({ route: route.name });
    let bridge = this.bridges.get(route.id);
    if (!bridge) {
      bridge = new UpstreamBridge(this.sessionKey);
      this.bridges.set(route.id, bridge);
    }
    const context: BackendContext = {
      bridge,
      routeId: route.id,
      routeName: route.name,
      backend: route.backend,
      authorizer,
      pool,
      logger,
      upstreamTimeoutMs: config.settings.upstreamTimeoutMs,
      maxReplayBytes: config.settings.maxReplayBytes,
      gatewayVersion: GATEWAY_VERSION,
      telemetry: this.telemetry,
      tracer: this.observability.tracer,
      credentials: this.broker,
      publicUrl: route.authentication?.publicUrl,
      forwardedCredential: this.options.forwardedCredential,
    };
    return {
      route,
      matches: compileMatcher(route.matches),
      endpointPath: endpointPathOf(route),
      authenticator,
      endpoint: {
        context,
        codec: this.codec,
        sessions: this.sessions,
        maxBodyBytes: config.settings.maxBodyBytes,
        bodyTimeoutMs: config.settings.bodyTimeoutMs,
        sessionLifetimeMs: config.settings.sessionLifetimeMs,
        maxBatchSize: config.settings.maxBatchSize,
        admission: this.admission,
        rateLimiter: this.rateLimiterFor(route),
        logger: this.logger,
        telemetry: this.telemetry,
        responseHeaders: {},
      },
    };
  }
}
