import type { IncomingMessage } from 'node:http';

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The gateway's public base URL as clients see it, without trailing slash. `publicUrl` wins; otherwise a
 * TLS-terminating proxy's `X-Forwarded-Proto` + `X-Forwarded-Host` (only as a pair, so an https scheme is
 * never glued to an internal host or the other way round); otherwise plain http and the Host header.
 * Values that are not a plain scheme or host are ignored: they end up inside quoted header parameters.
 */
export function publicBaseUrl(req: IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const proto = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase();
  const forwardedHost = firstValue(req.headers['x-forwarded-host']);
  if ((proto === 'http' || proto === 'https') && forwardedHost && HOST.test(forwardedHost)) {
    return `${proto}://${forwardedHost}`;
  }
  const host = req.headers.host;
  return `http://${host && HOST.test(host) ? host : 'localhost'}`;
}

/** Proxies append to these headers: the first entry is the one the client connected to. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim() || undefined;
}
