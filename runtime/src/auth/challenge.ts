import type { ServerResponse } from 'node:http';
import { exposeAuthHeaders, sendJson } from './responses.js';

export interface Challenge {
  /** URL of the route's protected resource metadata (RFC 9728 §5.1). */
  readonly resourceMetadataUrl: string;
  /** Scopes the client should ask for (RFC 6750 §3); omitted when empty. */
  readonly scopes: readonly string[];
}

/** Quoted-string values of the challenge come from config and error texts; keep them from breaking the header. */
const quote = (value: string) => `"${value.replace(/["\\\r\n]/g, ' ')}"`;

function wwwAuthenticate(challenge: Challenge, error?: { code: string; description: string }): string {
  const parameters = [`resource_metadata=${quote(challenge.resourceMetadataUrl)}`];
  if (challenge.scopes.length > 0) parameters.push(`scope=${quote(challenge.scopes.join(' '))}`);
  if (error) parameters.push(`error=${quote(error.code)}`, `error_description=${quote(error.description)}`);
  return `Bearer ${parameters.join(', ')}`;
}

/** 401 without a token: the client should start (or restart) OAuth. RFC 6750 §3.1: no error code then. */
export function sendAuthenticationRequired(res: ServerResponse, challenge: Challenge): void {
  exposeAuthHeaders(res);
  sendJson(res, 401, { error: 'unauthorized', error_description: 'bearer token required' }, { 'WWW-Authenticate': wwwAuthenticate(challenge) });
}

/** 401 for a token that failed validation. */
export function sendInvalidToken(res: ServerResponse, challenge: Challenge, description: string): void {
  exposeAuthHeaders(res);
  sendJson(res, 401, { error: 'invalid_token', error_description: description }, {
    'WWW-Authenticate': wwwAuthenticate(challenge, { code: 'invalid_token', description }),
  });
}

/** 403 for a valid token without the scopes this route requires: the client may step up (MCP 2025-11-25). */
export function sendInsufficientScope(res: ServerResponse, challenge: Challenge, missing: readonly string[]): void {
  const description = `token lacks scope ${missing.join(' ')}`;
  exposeAuthHeaders(res);
  sendJson(res, 403, { error: 'insufficient_scope', error_description: description }, {
    'WWW-Authenticate': wwwAuthenticate(challenge, { code: 'insufficient_scope', description }),
  });
}
