import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendAuthenticationRequired, sendInsufficientScope, sendInvalidToken, type Challenge } from './challenge.js';
import { IssuerChannel } from './issuer-channel.js';
import { createKeyResolver } from './key-source.js';
import { AuthorizationServerMetadataSource } from './metadata-source.js';
import { identityProvider, type IdentityProvider } from './provider.js';
import { publicBaseUrl } from './public-url.js';
import { RegistrationProxy } from './registration.js';
import { sendJson, sendPreflight, setOpenCors } from './responses.js';
import { resolveAuthSettings, type AuthSettings } from './settings.js';
import { TokenRejectedError, TokenValidator } from './token-validator.js';
import { challengeScopes, protectedResourceMetadata, routeUrls, wellKnownDocument, type RouteUrls } from './well-known.js';
import type { McpAuthentication } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';

export { resolveAuthSettings, type AuthSettings } from './settings.js';
export type { IdentityProvider } from './provider.js';

/** A caller whose bearer token was validated. `token` is only for `backendAuth.passthrough`; never log it. */
export interface Identity {
  readonly claims: Record<string, unknown>;
  readonly token: string;
}

export interface RouteAuthContext {
  /** The route's MCP endpoint path, e.g. `/github/mcp`. */
  readonly routePath: string;
}

/** Knobs for tests and embedding; production uses the defaults. */
export interface RouteAuthenticatorOptions {
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
  /** Minimum time between JWKS refetches caused by unknown key ids. Default 30 s. */
  readonly jwksCooldownMs?: number;
  /** Background JWKS refresh interval. Default 10 min. */
  readonly jwksRefreshMs?: number;
  /** How long the provider's metadata is cached. Default 5 min. */
  readonly metadataMaxAgeMs?: number;
  /** Told about every 401/403 this authenticator sends (metrics count them by reason). */
  readonly onRejected?: (reason: AuthRejection, req: IncomingMessage, status: number) => void;
}

export type AuthRejection = 'missing_token' | 'invalid_token' | 'insufficient_scope';

const OUTBOUND_TIMEOUT_MS = 5_000;

/**
 * `mcpAuthentication` of one route: validates bearer tokens (401/403 with RFC 9728 challenges) and serves
 * the OAuth documents MCP clients discover — protected resource metadata, the provider's authorization
 * server metadata rewritten for the gateway, and a dynamic client registration proxy.
 */
export class RouteAuthenticator {
  /** @throws ConfigError naming the offending field under `configPath`. */
  static create(config: McpAuthentication, configPath: string, options: RouteAuthenticatorOptions = {}): RouteAuthenticator {
    return new RouteAuthenticator(resolveAuthSettings(config, configPath), options);
  }

  private readonly provider: IdentityProvider;
  private readonly channel: IssuerChannel;
  private readonly metadata: AuthorizationServerMetadataSource;
  private readonly validator: TokenValidator;
  private readonly registration: RegistrationProxy;
  private readonly logger?: Logger;
  private readonly onRejected?: RouteAuthenticatorOptions['onRejected'];

  private constructor(
    readonly settings: AuthSettings,
    options: RouteAuthenticatorOptions,
  ) {
    const fetchImpl = options.fetch ?? fetch;
    this.logger = options.logger;
    this.onRejected = options.onRejected;
    this.provider = identityProvider(settings.provider);
    this.channel = new IssuerChannel(settings.issuer, settings.backchannelUrl);
    this.metadata = new AuthorizationServerMetadataSource(this.provider.metadataUrls(settings.issuer).map((url) => this.channel.internal(url)), {
      fetch: fetchImpl,
      logger: options.logger,
      maxAgeMs: options.metadataMaxAgeMs ?? 300_000,
      timeoutMs: OUTBOUND_TIMEOUT_MS,
    });
    const getKey = createKeyResolver(settings.keySet, this.channel, this.provider, this.metadata, {
      cooldownMs: options.jwksCooldownMs ?? 30_000,
      refreshMs: options.jwksRefreshMs ?? 600_000,
      timeoutMs: OUTBOUND_TIMEOUT_MS,
      logger: options.logger,
    });
    this.validator = new TokenValidator(settings, getKey);
    this.registration = new RegistrationProxy({
      channel: this.channel,
      provider: this.provider,
      metadata: this.metadata,
      clientId: settings.clientId,
      fetch: fetchImpl,
      timeoutMs: OUTBOUND_TIMEOUT_MS,
      logger: options.logger,
    });
  }

  /** Answers the OAuth discovery and registration URLs of this route; false when `req` is none of them. */
  async handleWellKnown(req: IncomingMessage, res: ServerResponse, ctx: RouteAuthContext): Promise<boolean> {
    const routePath = normalizeRoutePath(ctx.routePath);
    const path = requestPath(req);
    const document = this.issuerHostDocument(path) ?? wellKnownDocument(path, routePath);
    if (!document) return false;
    if (document === 'client-registration') {
      await this.registration.handle(req, res);
      return true;
    }
    if (req.method === 'OPTIONS') {
      sendPreflight(res, 'GET, OPTIONS');
      return true;
    }
    setOpenCors(res, 'GET, OPTIONS');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'metadata is read with GET' }, { Allow: 'GET, OPTIONS' });
      return true;
    }
    if (document === 'issuer-metadata') {
      await this.sendIssuerMetadata(res);
      return true;
    }
    const urls = this.urls(req, routePath);
    if (document === 'protected-resource') {
      sendJson(res, 200, protectedResourceMetadata(this.settings, this.provider, urls));
      return true;
    }
    await this.sendAuthorizationServerMetadata(res, urls);
    return true;
  }

  /**
   * The caller's identity, `undefined` for an anonymous caller the mode lets through, or `null` when a
   * 401/403 has been sent. Only the `Authorization: Bearer` header is read, never the query string.
   */
  async authenticate(req: IncomingMessage, res: ServerResponse, ctx: RouteAuthContext): Promise<Identity | undefined | null> {
    const { mode } = this.settings;
    const token = bearerToken(req);
    const routePath = normalizeRoutePath(ctx.routePath);
    if (token === undefined) {
      if (mode !== 'strict') return undefined;
      sendAuthenticationRequired(res, this.challenge(req, routePath));
      this.onRejected?.('missing_token', req, 401);
      return null;
    }
    let claims: Record<string, unknown>;
    try {
      claims = await this.validator.validate(token, this.expectedAudiences(req, routePath));
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      this.logger?.info('bearer token rejected', { route: routePath, reason: error.description });
      if (mode === 'permissive') return undefined;
      sendInvalidToken(res, this.challenge(req, routePath), error.description);
      this.onRejected?.('invalid_token', req, 401);
      return null;
    }
    const missing = missingScopes(claims, this.settings.requiredScopes);
    if (missing.length > 0 && mode !== 'permissive') {
      this.logger?.info('bearer token lacks required scopes', { route: routePath, missing });
      sendInsufficientScope(res, this.challenge(req, routePath), missing);
      this.onRejected?.('insufficient_scope', req, 403);
      return null;
    }
    return { claims, token };
  }

  /**
   * Step-up for one `tools/call` (MCP 2025-11-25): sends 403 `insufficient_scope` naming the scopes the
   * tool needs and returns true when the caller's token lacks any of them.
   */
  refuseToolCall(req: IncomingMessage, res: ServerResponse, ctx: RouteAuthContext, tool: string, identity: Identity | undefined): boolean {
    const needed = this.settings.toolScopes[tool];
    if (!needed || this.settings.mode === 'permissive') return false;
    const missing = missingScopes(identity?.claims ?? {}, needed);
    if (missing.length === 0) return false;
    const routePath = normalizeRoutePath(ctx.routePath);
    // 2026-07-28: the challenge names every scope this operation needs, the client unions it with what it has.
    const challenge = { ...this.challenge(req, routePath), scopes: [...new Set([...challengeScopes(this.settings), ...needed])] };
    if (identity === undefined) {
      // An anonymous caller (optional mode) has no token to step up: 401 tells it to sign in, with these scopes.
      sendAuthenticationRequired(res, challenge);
      this.onRejected?.('missing_token', req, 401);
      return true;
    }
    this.logger?.info('bearer token lacks scopes the tool needs', { route: routePath, tool, missing });
    sendInsufficientScope(res, challenge, missing);
    this.onRejected?.('insufficient_scope', req, 403);
    return true;
  }

  close(): void {
    // Nothing is held open: key and metadata fetches are per request and time out on their own.
  }

  private urls(req: IncomingMessage, routePath: string): RouteUrls {
    return routeUrls(publicBaseUrl(req, this.settings.publicUrl), routePath, this.settings);
  }

  private challenge(req: IncomingMessage, routePath: string): Challenge {
    return { resourceMetadataUrl: this.urls(req, routePath).resourceMetadata, scopes: challengeScopes(this.settings) };
  }

  /** Configured audiences; else the resource URL, from config only (see `resolveAuthSettings`), never from request headers. */
  private expectedAudiences(req: IncomingMessage, routePath: string): readonly string[] {
    if (this.settings.audiences.length > 0) return this.settings.audiences;
    return [this.settings.resource ?? this.urls(req, routePath).resource];
  }

  /** The issuer's own paths the gateway answers for older providers (see `IdentityProvider.issuerHostPaths`). */
  private issuerHostDocument(path: string): 'issuer-metadata' | 'client-registration' | undefined {
    const paths = this.provider.issuerHostPaths?.(this.settings.issuer);
    if (path === paths?.metadata) return 'issuer-metadata';
    if (path === paths?.registration) return 'client-registration';
    return undefined;
  }

  /** The provider's metadata, fetched (from the back-channel, if set) and served unchanged under its own issuer. */
  private async sendIssuerMetadata(res: ServerResponse): Promise<void> {
    const upstream = await this.publicMetadata(res);
    if (upstream) sendJson(res, 200, upstream);
  }

  private async publicMetadata(res: ServerResponse): Promise<Record<string, unknown> | undefined> {
    try {
      return this.channel.publicDocument(await this.metadata.get());
    } catch (error) {
      this.logger?.warn('authorization server metadata unavailable', { issuer: this.settings.issuer, error: (error as Error).message });
      sendJson(res, 502, { error: 'temporarily_unavailable', error_description: 'identity provider metadata unavailable' });
      return undefined;
    }
  }

  private async sendAuthorizationServerMetadata(res: ServerResponse, urls: RouteUrls): Promise<void> {
    const upstream = await this.publicMetadata(res);
    if (!upstream) return;
    const document = this.provider.rewriteMetadata(upstream, {
      facadeIssuer: urls.endpoint,
      registrationProxyUrl: urls.registration,
      audiences: this.settings.audiences,
    });
    sendJson(res, 200, document);
  }
}

function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function normalizeRoutePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.startsWith('/') || trimmed === '' ? trimmed : `/${trimmed}`;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^ ]*)\s*$/i.exec(header);
  // An empty or differently-schemed Authorization is a request without a bearer token.
  return match?.[1] || undefined;
}

/** `scope` is a space-separated string (RFC 9068); some providers use `scp`, as string or list. */
function missingScopes(claims: Record<string, unknown>, required: readonly string[]): string[] {
  if (required.length === 0) return [];
  const granted = new Set<string>();
  for (const claim of [claims.scope, claims.scp]) {
    if (typeof claim === 'string') claim.split(' ').forEach((scope) => granted.add(scope));
    else if (Array.isArray(claim)) claim.forEach((scope) => typeof scope === 'string' && granted.add(scope));
  }
  return required.filter((scope) => !granted.has(scope));
}
