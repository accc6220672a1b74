import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerPreflight, corsHeaders, isLoopbackHost, normalHostname, originRejection } from './cors.js';
import { hostMatches, isWellKnownPath, type CompiledListener, type CompiledRoute } from './routes.js';
import { McpError } from '../protocol/errors.js';
import type { Logger } from '../telemetry/logger.js';
import { isLegacySsePath, serveLegacySse } from '../transport/legacy-sse.js';
import { sendJson } from '../transport/responder.js';
import { serveMcp, type McpEndpoint } from '../transport/streamable.js';

export interface Readiness {
  /** `/readyz` answers 200 when true. */
  readonly ready: boolean;
  /** SIGTERM: new requests are refused (a gateway that is still warming up serves them). */
  readonly draining: boolean;
  /** The body of `/readyz` when not ready, e.g. `warming up <target>`. */
  readonly notReadyReason?: string;
}

/**
 * One listening port. The listener table is swapped on reload; requests already running keep the
 * table they started with.
 */
export class BindServer {
  private readonly server: Server;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Listening on a loopback address: routes that do not say otherwise get DNS-rebinding protection. */
  private loopbackBind = false;
  private readonly allowedHosts: readonly string[];

  /**
   * @param allowedHosts Host names accepted besides loopback ones where DNS-rebinding protection applies.
   * @param connect The `/connect/` paths of per-user credentials, answered before route matching.
   */
  constructor(
    private listeners: readonly CompiledListener[],
    private readonly readiness: Readiness,
    private readonly logger: Logger,
    allowedHosts: readonly string[] = [],
    private readonly connect?: { handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> },
  ) {
    this.allowedHosts = allowedHosts.map((name) => normalHostname(name) ?? name.toLowerCase());
    this.server = createServer((req, res) => this.handle(req, res));
    // Long-lived SSE streams must not be cut by Node's default request timeout.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  setListeners(listeners: readonly CompiledListener[]): void {
    this.listeners = listeners;
  }

  listen(port: number, host: string): Promise<number> {
    this.loopbackBind = isLoopbackHost(host);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Resolves when no request is in flight (open GET streams do not count) or `timeoutMs` passed. The port
   * stays open meanwhile, so probes see `/readyz` 503 while load balancers take the pod out.
   */
  async waitIdle(timeoutMs: number): Promise<void> {
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return plain(res, 200, 'ok');
    if (req.method === 'GET' && path === '/readyz') {
      return this.readiness.ready ? plain(res, 200, 'ready') : plain(res, 503, this.readiness.notReadyReason ?? 'not ready');
    }
    if (this.readiness.draining) {
      // Draining: a request that arrives while the load balancer takes this pod out is refused, not started and cut off.
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '1');
      return refuse(res, new McpError('shutting_down', 'Service Unavailable: this gateway is shutting down; retry (another replica will answer)'));
    }
    // Open GET streams do not hold a drain: they end when the sessions close.
    if (req.method !== 'GET') {
      this.inflight++;
      res.on('close', () => {
        this.inflight--;
        if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
    this.route(req, res, path).catch((error: Error) => {
      this.logger.error('unhandled error in request', { path, error });
      if (!res.headersSent) refuse(res, new McpError('gateway_failure', 'Internal gateway error'));
      else res.end();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (this.connect && path.startsWith('/connect/') && (await this.connect.handle(req, res, path))) return;
    // A listener for this host name beats a catch-all one.
    const listener =
      this.listeners.find((candidate) => candidate.hostname !== undefined && hostMatches(candidate, req.headers.host)) ??
      this.listeners.find((candidate) => candidate.hostname === undefined);
    let compiled: CompiledRoute | undefined;
    let best = 0;
    for (const candidate of listener?.routes ?? []) {
      const score = candidate.matches(req, path);
      if (score > best) {
        best = score;
        compiled = candidate;
      }
    }
    if (!compiled) return refuse(res, new McpError('no_route', `No route for ${req.method} ${path}`));
    const { route, endpoint } = compiled;
    const protection = { enabled: route.backend.dnsRebindingProtection ?? this.loopbackBind, allowedHosts: this.allowedHosts };
    const rejection = originRejection(req, route.cors, protection);
    if (rejection) return refuse(res, new McpError('origin_rejected', rejection));
    if (req.method === 'OPTIONS') return answerPreflight(req, res, route.cors);
    const cors = corsHeaders(req, route.cors);
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
    const ctx = { routePath: compiled.endpointPath };
    // Not only well-known paths: the authenticator also answers the identity provider's own paths routed to it.
    if (compiled.authenticator && (await compiled.authenticator.handleWellKnown(req, res, ctx))) return;
    if (isWellKnownPath(path)) return refuse(res, new McpError('no_route', `Not found: ${path}`));
    let identity;
    if (compiled.authenticator) {
      identity = await compiled.authenticator.authenticate(req, res, ctx);
      if (identity === null) return;
    }
    const authenticator = compiled.authenticator;
    const routed = {
      ...endpoint,
      responseHeaders: cors,
      refuseToolCall: authenticator && ((request, response, tool, caller) => authenticator.refuseToolCall(request, response, ctx, tool, caller)),
    } satisfies McpEndpoint;
    if (isLegacySsePath(path) && endpoint.context.forwardedCredential) {
      // The legacy transport's POSTs name a session by query string and carry no per-session process binding here.
      return refuse(res, new McpError('no_route', `Not found: ${path} (a bridge with --credential-env serves Streamable HTTP only)`));
    }
    if (isLegacySsePath(path)) await serveLegacySse(routed, req, res, identity ?? undefined, path);
    else await serveMcp(routed, req, res, identity ?? undefined);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(text);
}

function refuse(res: ServerResponse, error: McpError): void {
  sendJson(res, error.httpStatus, {}, JSON.stringify(error.toResponse()));
}
