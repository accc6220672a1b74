/**
 * What the cluster's Gateway/Ingress does for Keycloak's public host name: every request goes to Keycloak,
 * except the paths routed to the MCP gateway (Keycloak's RFC 8414 metadata and client registration, which
 * older Keycloak versions lack or serve without CORS). The Host header is kept, as a proxy does.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrontProxy {
  readonly origin: string;
  /** Paths the front sent to the gateway, with their method, in order. */
  readonly routedToGateway: string[];
  close(): Promise<void>;
}

/** `targetFor` picks the origin a path goes to; `gatewayOrigin` marks which of them is the MCP gateway. */
export async function startFrontProxy(targetFor: (path: string) => string, gatewayOrigin: () => string): Promise<FrontProxy> {
  const routedToGateway: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const target = new URL(req.url ?? '/', targetFor(path));
    if (target.origin === gatewayOrigin()) routedToGateway.push(`${req.method} ${path}`);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
    req.pipe(upstream);
  });
  // As an ingress (NGINX: 75 s) rather than Node's 5 s: see the same setting in oidc-provider.ts.
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routedToGateway,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
