/**
 * A minimal HTTP server that protects one route with `RouteAuthenticator` the way the gateway's HTTP layer
 * does (well-known documents first, then `authenticate`, then per-tool scopes for `?tool=`), answering authenticated requests with the
 * caller's claims. For tests of the auth module against `TestOpenIdProvider`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RouteAuthenticator, type RouteAuthenticatorOptions } from '../../src/auth/index.js';
import type { McpAuthentication } from '../../src/config/types.js';

export interface ProtectedRoute {
  readonly origin: string;
  readonly routePath: string;
  /** `<origin><routePath>`. */
  readonly url: string;
  readonly authenticator: RouteAuthenticator;
  close(): Promise<void>;
}

export async function startProtectedRoute(
  config: McpAuthentication,
  options: RouteAuthenticatorOptions & { routePath?: string } = {},
): Promise<ProtectedRoute> {
  const routePath = options.routePath ?? '/github/mcp';
  const authenticator = RouteAuthenticator.create(config, 'binds[0].listeners[0].routes[0].policies.mcpAuthentication', options);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (
        (path.includes('/.well-known/') || path.endsWith('/client-registration')) &&
        (await authenticator.handleWellKnown(req, res, { routePath }))
      ) {
        return;
      }
      if (path !== routePath) {
        res.writeHead(404).end();
        return;
      }
      const identity = await authenticator.authenticate(req, res, { routePath });
      if (identity === null) return;
      // `?tool=<name>` stands for a tools/call of that tool (per-tool scopes).
      const tool = new URL(req.url ?? '/', 'http://route').searchParams.get('tool');
      if (tool !== null && authenticator.refuseToolCall(req, res, { routePath }, tool, identity)) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ anonymous: identity === undefined, claims: identity?.claims ?? null }));
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    routePath,
    url: `${origin}${routePath}`,
    authenticator,
    close: async () => {
      authenticator.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
