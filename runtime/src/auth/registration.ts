import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuerChannel } from './issuer-channel.js';
import type { AuthorizationServerMetadataSource } from './metadata-source.js';
import type { IdentityProvider } from './provider.js';
import { sendJson, sendPreflight, setOpenCors } from './responses.js';
import { readBody } from '../protocol/body.js';
import { McpError } from '../protocol/errors.js';
import type { Logger } from '../telemetry/logger.js';

const MAX_REGISTRATION_BYTES = 64 * 1024;
/** Headers a registration request may carry to the provider (an initial access token, or Okta's SSWS key). */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'authorization', 'accept'];

export interface RegistrationOptions {
  readonly channel: IssuerChannel;
  readonly provider: IdentityProvider;
  readonly metadata: AuthorizationServerMetadataSource;
  /** When set, registration is answered here with this pre-registered client (agentgateway's `clientId`). */
  readonly clientId?: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly logger?: Logger;
}

/**
 * Dynamic client registration (RFC 7591) through the gateway: forwarded to the provider and answered with
 * CORS headers, which Keycloak's endpoint lacks, so browser-based MCP clients can register too.
 */
export class RegistrationProxy {
  constructor(private readonly options: RegistrationOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS') return sendPreflight(res, 'POST, OPTIONS');
    setOpenCors(res, 'POST, OPTIONS');
    if (req.method !== 'POST') {
      return sendJson(res, 405, { error: 'invalid_request', error_description: 'client registration takes POST' }, { Allow: 'POST, OPTIONS' });
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_REGISTRATION_BYTES);
    } catch (error) {
      if (error instanceof McpError && error.kind === 'payload_too_large') {
        return sendJson(res, 413, {
          error: 'invalid_client_metadata',
          error_description: `registration request larger than ${MAX_REGISTRATION_BYTES} bytes`,
        });
      }
      throw error;
    }
    if (this.options.clientId !== undefined) return this.answerWithConfiguredClient(res, body, this.options.clientId);
    return this.forward(req, res, body);
  }

  /** The client is pre-registered at the provider; tell the MCP client to use it (public client, PKCE). */
  private answerWithConfiguredClient(res: ServerResponse, body: Buffer, clientId: string): void {
    let request: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) request = parsed as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: 'invalid_client_metadata', error_description: 'registration request is not JSON' });
    }
    sendJson(res, 201, {
      client_id: clientId,
      client_id_issued_at: 0,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: Array.isArray(request.redirect_uris) ? request.redirect_uris : [],
      ...(typeof request.client_name === 'string' ? { client_name: request.client_name } : {}),
    });
  }

  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const { provider, channel, metadata, logger } = this.options;
    let target: string | undefined;
    try {
      const advertised = await provider.registrationUrl(channel.issuer, () => metadata.get());
      target = advertised && channel.internal(advertised);
    } catch (error) {
      logger?.warn('client registration: provider metadata unavailable', { error: (error as Error).message });
      return sendJson(res, 502, { error: 'temporarily_unavailable', error_description: 'identity provider unavailable' });
    }
    if (!target) {
      return sendJson(res, 404, { error: 'invalid_request', error_description: 'the identity provider offers no dynamic client registration' });
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let upstream: Response;
    try {
      upstream = await this.options.fetch(target, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      logger?.warn('client registration: identity provider unreachable', { registrationUrl: target, error: (error as Error).message });
      return sendJson(res, 502, { error: 'temporarily_unavailable', error_description: 'identity provider unreachable' });
    }
    // The registration response names the client's configuration endpoint: a URL the client must be able to reach.
    const payload =
      channel.backchannel === undefined ? Buffer.from(await upstream.arrayBuffer()) : Buffer.from(publicJson(channel, await upstream.text()));
    const responseHeaders: Record<string, string> = { 'Content-Length': String(payload.length), 'Cache-Control': 'no-store' };
    const contentType = upstream.headers.get('content-type');
    if (contentType) responseHeaders['Content-Type'] = contentType;
    res.writeHead(upstream.status, responseHeaders);
    res.end(payload);
  }
}

function publicJson(channel: IssuerChannel, text: string): string {
  try {
    return JSON.stringify(channel.publicDocument(JSON.parse(text) as unknown));
  } catch {
    return text;
  }
}
