import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PAGE } from './page.js';
import { isLoopbackHost } from '../http/cors.js';
import type { Logger } from '../telemetry/logger.js';

/** What one admin-side port serves: the admin page and its JSON, `/metrics`, or both when they share an address. */
export interface AdminEndpoints {
  /** The admin page's JSON; the page itself is served with it. */
  readonly status?: () => unknown;
  /** Prometheus text exposition. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly body: string }>;
  /** Users' upstream connections (`config.credentials`): who connected which provider, when; never a token. */
  readonly connections?: () => Promise<unknown>;
}

/**
 * The read-only port of the admin page and metrics: GET only, no request reaches a session or upstream.
 * On a loopback address it also insists on a loopback Host header, so a web page cannot read it through
 * DNS rebinding; `kubectl port-forward` sends `localhost:<port>`, which passes.
 */
export class AdminServer {
  private readonly server: Server;
  private loopbackOnly = false;

  constructor(
    private readonly endpoints: AdminEndpoints,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        this.logger.error('admin request failed', { path: pathOf(req), error });
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
        else res.end();
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    this.loopbackOnly = isLoopbackHost(host);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'read-only: GET and HEAD only');
    }
    if (this.loopbackOnly && !isLoopbackHost(req.headers.host ?? '')) {
      return send(res, 403, 'text/plain', 'this port answers loopback host names only (use kubectl port-forward and http://localhost:PORT/)');
    }
    const path = pathOf(req);
    if (path === '/healthz') return send(res, 200, 'text/plain', 'ok');
    if (path === '/metrics' && this.endpoints.metrics) {
      const { contentType, body } = await this.endpoints.metrics();
      return send(res, 200, contentType, body);
    }
    if (this.endpoints.status && path === '/api/status') {
      return send(res, 200, 'application/json', JSON.stringify(this.endpoints.status()), { 'cache-control': 'no-store' });
    }
    if (this.endpoints.connections && path === '/api/connections') {
      return send(res, 200, 'application/json', JSON.stringify(await this.endpoints.connections()), { 'cache-control': 'no-store' });
    }
    if (this.endpoints.status && (path === '/' || path === '/index.html')) {
      return send(res, 200, 'text/html; charset=utf-8', ADMIN_PAGE, {
        // Everything is inline; the page may talk to its own origin only.
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
    }
    return send(res, 404, 'text/plain', 'not found');
  }
}

/** The request path without its query string, which stays out of logs. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0];
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
