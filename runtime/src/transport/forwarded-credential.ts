import type { IncomingMessage } from 'node:http';
import type { ForwardedCredential } from '../federation/session.js';
import { McpError } from '../protocol/errors.js';

/**
 * The caller's credential of a bridge request (`--credential-env`), taken out of the request: once the
 * header is gone from `headers` and `rawHeaders`, no log line, trace or authorization fact can show it.
 * Undefined when the request has none: a DELETE (ending a session needs no credential), or any request with
 * `--credential-optional` (the user has not connected yet; the process starts without the variable).
 * @throws McpError when a POST or GET carries none and the credential is not optional: a process is never
 *   started without the credential the bridge was told to give it.
 */
export function takeForwardedCredential(req: IncomingMessage, forwarded: ForwardedCredential): string | undefined {
  const raw = req.headers[forwarded.header];
  delete req.headers[forwarded.header];
  const kept: string[] = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    if (req.rawHeaders[index].toLowerCase() !== forwarded.header) kept.push(req.rawHeaders[index], req.rawHeaders[index + 1]);
  }
  req.rawHeaders.splice(0, req.rawHeaders.length, ...kept);
  const value = Array.isArray(raw) ? undefined : raw?.trim();
  if (!value && req.method !== 'DELETE' && !forwarded.optional) {
    throw new McpError(
      'invalid_request',
      `Bad Request: this bridge starts each session's server with its caller's credential, sent in the ${forwarded.header} header; `
        + 'the request has none or more than one (the gateway\'s target needs credential.inject.header with this name)',
    );
  }
  return value || undefined;
}
