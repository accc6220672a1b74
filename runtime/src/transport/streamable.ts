import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { takeForwardedCredential } from './forwarded-credential.js';
import { PostResponder, sendJson } from './responder.js';
import type { Identity } from '../auth/index.js';
import type { RequestFacts } from '../authz/index.js';
import { splitName, splitUri } from '../federation/names.js';
import { McpSession, type BackendContext } from '../federation/session.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, readBody } from '../protocol/body.js';
import { INTERNAL_ERROR, McpError } from '../protocol/errors.js';
import { errorResponse, invalidReason, isRequest, isResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { isStatelessRequest, mirroredHeaderRefusal, statelessRefusal, unsupportedVersionRefusal } from '../protocol/refusals.js';
import { BATCH_PROTOCOL_VERSIONS, DEFAULT_PROTOCOL_VERSION, isSupportedVersion, MODERN_PROTOCOL } from '../protocol/versions.js';
import { subjectKey, type Admission, type AdmissionTicket, type RateLimiter } from '../session/limits.js';
import type { SessionStore } from '../session/store.js';
import { SseWriter } from '../session/streams.js';
import type { SessionCodec } from '../session/token.js';
import type { Logger } from '../telemetry/logger.js';
import type { LimitKind, McpRequestRecord, Telemetry } from '../telemetry/telemetry.js';
import { processesPerSession } from '../upstream/stdio-pool.js';

const KEEPALIVE_MS = 25_000;

/** Everything the Streamable HTTP endpoint of one route needs. */
export interface McpEndpoint {
  readonly context: BackendContext;
  readonly codec: SessionCodec;
  readonly sessions: SessionStore<McpSession>;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  /** Longest life of a session id (`config.limits.sessionLifetime`). */
  readonly sessionLifetimeMs: number;
  /** Most requests in one batch (`config.limits.maxBatchSize`). */
  readonly maxBatchSize: number;
  /** Session and per-subject process limits, shared by every route of the gateway. */
  readonly admission: Admission;
  /** The route's `localRateLimit` buckets; undefined when it has none. */
  readonly rateLimiter?: RateLimiter;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** Headers every answer carries (CORS). */
  readonly responseHeaders: Record<string, string>;
  /**
   * Per-tool scopes (step-up): answers a `tools/call` the token lacks scopes for with the 403 challenge
   * and returns true. Absent on routes without authentication.
   */
  readonly refuseToolCall?: (req: IncomingMessage, res: ServerResponse, tool: string, identity: Identity | undefined) => boolean;
}

/** True when a `tools/call` among `messages` was refused for missing scopes; the 403 has then been sent. */
export function refusedToolCall(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  messages: readonly JsonRpcMessage[],
  identity: Identity | undefined,
): boolean {
  const refuse = endpoint.refuseToolCall;
  if (!refuse) return false;
  return messages.some(
    (message) => message.method === 'tools/call' && typeof message.params?.name === 'string' && refuse(req, res, message.params.name, identity),
  );
}

/** Facts about one HTTP exchange, filled in as it is served and logged as one line when the response ends. */
type Exchange = { -readonly [Field in keyof Omit<McpRequestRecord, 'httpStatus' | 'durationMs'>]: McpRequestRecord[Field] };

/** Behind a bridge with `--credential-env`: puts the request's credential on its session before anything reaches a process. */
type CredentialBinding = ((session: McpSession) => Promise<void>) | undefined;

/** Streamable HTTP towards clients: POST, GET and DELETE on a route's MCP endpoint. */
export async function serveMcp(endpoint: McpEndpoint, req: IncomingMessage, res: ServerResponse, identity: Identity | undefined): Promise<void> {
  const started = performance.now();
  const exchange: Exchange = { route: endpoint.context.routeName, httpMethod: req.method ?? '', subject: subjectOf(identity) };
  // `on`, not `once`: a response closes once, and `once` wraps the listener anew for every request.
  res.on('close', () => {
    const record: McpRequestRecord = { ...exchange, httpStatus: res.statusCode, durationMs: Math.round((performance.now() - started) * 100) / 100 };
    endpoint.telemetry.requestFinished(record);
    endpoint.logger.info('request', {
      method: record.httpMethod,
      route: record.route,
      mcpMethod: record.mcpMethod,
      target: record.target,
      resource: record.resource,
      session: record.sessionId,
      subject: record.subject,
      status: record.httpStatus,
      durationMs: record.durationMs,
      errorCode: record.errorCode,
    });
  });
  try {
    // First, so that neither a refusal nor the access log below can carry the credential.
    const forwarding = endpoint.context.forwardedCredential;
    const forwarded = forwarding ? takeForwardedCredential(req, forwarding) : undefined;
    const bind = forwarding ? (session: McpSession) => session.useForwardedCredential(forwarded) : undefined;
    switch (req.method) {
      case 'POST':
        await post(endpoint, req, res, identity, exchange, bind);
        break;
      case 'GET':
        await get(endpoint, req, res, identity, exchange, bind);
        break;
      case 'DELETE':
        await remove(endpoint, req, res, identity, exchange);
        break;
      default:
        throw new McpError('method_not_allowed', `Method not allowed: ${req.method}`);
    }
  } catch (error) {
    if (error instanceof McpError) {
      exchange.errorCode = error.code;
      // A limit refused the request: 429 (or 413 for a batch), the JSON-RPC error names the limit and its setting.
      const limit = (error.data as { limit?: LimitKind; retryAfterSeconds?: number } | undefined) ?? {};
      if (limit.limit) endpoint.telemetry.limitRefused?.(exchange.route, limit.limit);
      if (limit.retryAfterSeconds !== undefined && !res.headersSent) res.setHeader('retry-after', String(limit.retryAfterSeconds));
      // The rest of a slow body may still trickle in: answer, then drop the connection.
      if (error.kind === 'body_timeout' && !res.headersSent) res.setHeader('connection', 'close');
      sendError(res, endpoint, error);
    } else {
      endpoint.logger.error('unhandled error in request', { route: exchange.route, error });
      exchange.errorCode = INTERNAL_ERROR;
      sendError(res, endpoint, new McpError('gateway_failure', 'Internal gateway error'));
    }
  }
}

function sendError(res: ServerResponse, endpoint: McpEndpoint, error: McpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, error.httpStatus, endpoint.responseHeaders, JSON.stringify(error.toResponse()));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = header(req, 'accept') ?? '';
  return accept.split(',').some((part) => {
    const media = part.split(';')[0].trim().toLowerCase();
    return media === type || media === '*/*' || media === `${type.split('/')[0]}/*`;
  });
}

/** Content negotiation between the two answers a POST may get: the first of the two listed wins, JSON on a tie. */
function prefersSse(req: IncomingMessage): boolean {
  const accept = (header(req, 'accept') ?? '').toLowerCase();
  const sse = accept.indexOf('text/event-stream');
  const json = accept.indexOf('application/json');
  return sse >= 0 && (json < 0 || sse < json);
}

function protocolVersionHeader(req: IncomingMessage): string | undefined {
  const version = header(req, 'mcp-protocol-version');
  if (version !== undefined && !isSupportedVersion(version)) throw unsupportedVersionRefusal(version);
  return version;
}

/** What authorization rules see of the caller: `jwt` and `request`. */
export function factsOf(req: IncomingMessage, identity: Identity | undefined): RequestFacts {
  return { jwt: identity?.claims, headers: req.headers, method: req.method, path: (req.url ?? '/').split('?')[0] };
}

/**
 * Whom a session belongs to: the token's issuer and subject, so no other caller can use it even with its
 * id. A token without `sub` (accepted only when `jwtValidationOptions.requiredClaims` leaves `sub` out)
 * binds the session to that very token. Undefined for anonymous callers.
 */
export function ownerOf(identity: Identity | undefined): string | undefined {
  if (!identity) return undefined;
  const { iss, sub } = identity.claims;
  if (typeof sub === 'string' && sub !== '') return JSON.stringify([typeof iss === 'string' ? iss : '', sub]);
  return `token:${createHash('sha256').update(identity.token).digest('base64url')}`;
}

function subjectOf(identity: Identity | undefined): string | undefined {
  const sub = identity?.claims.sub;
  return typeof sub === 'string' ? sub : undefined;
}

async function post(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  exchange: Exchange,
  bind: CredentialBinding,
): Promise<void> {
  if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
    throw new McpError('not_acceptable', 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  const contentType = (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (contentType !== 'application/json') {
    throw new McpError('unsupported_media_type', 'Unsupported Media Type: Content-Type must be application/json');
  }
  // An unsupported version is refused once the body is read, so the error can carry the request's id.
  const headerVersion = header(req, 'mcp-protocol-version');
  const body = await readBody(req, endpoint.maxBodyBytes, endpoint.bodyTimeoutMs);
  const text = body.toString('utf8');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new McpError('invalid_request', `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new McpError('parse_error', `Parse error: ${(error as Error).message}`);
  }
  const batch = Array.isArray(parsed);
  const messages = (batch ? parsed : [parsed]) as JsonRpcMessage[];
  if (messages.length === 0) throw new McpError('invalid_request', 'Invalid Request: empty batch');
  for (const message of messages) {
    const reason = invalidReason(message);
    if (reason) throw new McpError('invalid_request', `Invalid Request: ${reason}`);
  }
  if (batch && messages.length > endpoint.maxBatchSize) {
    throw new McpError(
      'payload_too_large',
      `Payload Too Large: a batch of ${messages.length} messages exceeds config.limits.maxBatchSize (${endpoint.maxBatchSize})`,
      { data: { limit: 'batch_size' } },
    );
  }
  const first = messages[0];
  exchange.mcpMethod = first.method;
  if (headerVersion !== undefined && !isSupportedVersion(headerVersion)) throw unsupportedVersionRefusal(headerVersion, { messages, batch });
  if (refusedToolCall(endpoint, req, res, messages, identity)) return;
  if (endpoint.rateLimiter) {
    const subject = subjectKey(identity?.claims, req.socket.remoteAddress);
    for (const message of messages) {
      if (!isRequest(message)) continue;
      const tool = message.method === 'tools/call' && typeof message.params?.name === 'string' ? message.params.name : undefined;
      endpoint.rateLimiter.take(subject, tool);
    }
  }
  if (isStatelessRequest(headerVersion, first)) {
    const refusal =
      statelessRefusal(headerVersion, messages, batch) ?? mirroredHeaderRefusal(header(req, 'mcp-method'), header(req, 'mcp-name'), first);
    if (refusal) throw refusal;
    await serveEphemeral(endpoint, req, res, identity, exchange, first, MODERN_PROTOCOL, false, bind);
    return;
  }
  const initialize = messages.find((message) => message.method === 'initialize');
  if (initialize) {
    if (batch) throw new McpError('invalid_request', 'Invalid Request: initialize must not be part of a batch');
    await serveInitialize(endpoint, req, res, identity, exchange, initialize, bind);
    return;
  }
  if (endpoint.context.backend.statefulMode === 'stateless') {
    if (batch) throw new McpError('invalid_request', 'Invalid Request: batches are not supported in stateless mode');
    await serveEphemeral(endpoint, req, res, identity, exchange, first, headerVersion ?? DEFAULT_PROTOCOL_VERSION, true, bind);
    return;
  }
  const session = await sessionFor(endpoint, req, identity, exchange);
  if (batch && !BATCH_PROTOCOL_VERSIONS.includes(session.protocolVersion)) {
    throw new McpError('invalid_request', `Invalid Request: JSON-RPC batches are not allowed in protocol revision ${session.protocolVersion}`);
  }
  session.credentials.bearer = identity?.token;
  await bind?.(session);
  describe(exchange, first, session);
  const requests = messages.filter(isRequest);
  for (const message of messages) {
    if (isResponse(message)) {
      if (!session.handleResponse(message)) {
        endpoint.logger.warn('response to an unknown server request dropped', { session: session.id, id: message.id });
      }
    } else if (!isRequest(message)) {
      session.handleNotification(message);
    }
  }
  if (requests.length === 0) {
    res.writeHead(202, endpoint.responseHeaders);
    res.end();
    return;
  }
  const responder = new PostResponder(res, {
    expected: requests.length,
    batch,
    headers: endpoint.responseHeaders,
    openStream: () => session.openPostStream(),
    preferSse: prefersSse(req),
    onFinish: (message) => noteError(exchange, message),
  });
  const facts = factsOf(req, identity);
  await Promise.all(requests.map((message) => session.handleRequest(message, responder, facts)));
  session.touch();
}

function noteError(exchange: Exchange, message: JsonRpcMessage): void {
  if (message.error) exchange.errorCode = message.error.code;
}

async function serveInitialize(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  exchange: Exchange,
  message: JsonRpcMessage,
  bind: CredentialBinding,
): Promise<void> {
  if (!isRequest(message)) throw new McpError('invalid_request', 'Invalid Request: initialize must be a request');
  const stateful = endpoint.context.backend.statefulMode === 'stateful';
  const ticket = admit(endpoint, req, identity, stateful);
  const session = new McpSession(endpoint.context, { ephemeral: !stateful });
  session.admission = ticket;
  session.subject = subjectOf(identity);
  session.owner = ownerOf(identity);
  session.credentials.bearer = identity?.token;
  await bind?.(session);
  const responder = new PostResponder(res, {
    expected: 1,
    batch: false,
    headers: endpoint.responseHeaders,
    holdInterim: true,
    preferSse: prefersSse(req),
    onFinish: (response) => noteError(exchange, response),
  });
  let response: JsonRpcMessage;
  try {
    response = await session.initialize(message);
  } catch (error) {
    ticket.release();
    await session.close('initialize failed', true);
    const code = (error as { code?: number }).code ?? INTERNAL_ERROR;
    responder.finish(errorResponse(message.id, code, (error as Error).message));
    return;
  }
  if (response.error || !stateful) {
    ticket.release();
    await session.close(response.error ? 'initialize refused' : 'stateless', true);
    responder.finish(response);
    return;
  }
  session.expiresAt = Date.now() + endpoint.sessionLifetimeMs;
  try {
    session.id = endpoint.codec.encode(session.state());
  } catch (error) {
    ticket.release();
    await session.close('session id too large', true);
    if (!(error instanceof McpError)) throw error;
    responder.finish(error.toResponse(message.id as string | number));
    return;
  }
  exchange.sessionId = session.id;
  endpoint.sessions.add(session);
  responder.setHeader('mcp-session-id', session.id);
  responder.finish(response);
}

/** Stateless mode and 2026-07-28 requests: a session that lives as long as this one POST. */
async function serveEphemeral(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  exchange: Exchange,
  message: JsonRpcMessage,
  protocolVersion: string,
  handshake: boolean,
  bind: CredentialBinding,
): Promise<void> {
  const ticket = admit(endpoint, req, identity, false);
  const session = new McpSession(endpoint.context, { ephemeral: true });
  session.admission = ticket;
  session.credentials.bearer = identity?.token;
  await bind?.(session);
  session.owner = ownerOf(identity);
  session.prepareEphemeral(protocolVersion, handshake, message.params?._meta);
  describe(exchange, message, session);
  if (!isRequest(message)) {
    res.writeHead(202, endpoint.responseHeaders);
    res.end();
    ticket.release();
    await session.close('stateless notification', true);
    return;
  }
  const responder = new PostResponder(res, {
    expected: 1,
    batch: false,
    headers: endpoint.responseHeaders,
    preferSse: prefersSse(req),
    onFinish: (response) => noteError(exchange, response),
  });
  // A client that leaves ends what it started: an open subscriptions/listen, a bridged exchange.
  const left = new AbortController();
  res.once('close', () => left.abort());
  session.requestSignal = left.signal;
  try {
    await session.handleRequest(message, responder, factsOf(req, identity));
  } finally {
    ticket.release();
    await session.close('request done', true);
  }
}

/** The session a request names: this process's, or rebuilt from the sealed id another replica issued. */
async function sessionFor(endpoint: McpEndpoint, req: IncomingMessage, identity: Identity | undefined, exchange: Exchange): Promise<McpSession> {
  const id = header(req, 'mcp-session-id');
  if (!id) throw new McpError('invalid_request', 'Bad Request: Mcp-Session-Id header is required for requests other than initialize');
  exchange.sessionId = id;
  // Ended by the client (MCP: 404 from then on), even though its sealed state would still decode.
  if (endpoint.sessions.isTerminated(id)) throw notFound();
  const owner = ownerOf(identity);
  const local = endpoint.sessions.get(id);
  if (local && local.expiresAt <= Date.now()) {
    void local.close('session lifetime reached');
    throw notFound();
  }
  if (local) {
    // A session bound to one owner is invisible to every other caller, even one holding its id.
    if (local.context.routeId !== endpoint.context.routeId || local.owner !== owner) throw notFound();
    local.adopt(endpoint.context);
    local.touch();
    return local;
  }
  const state = endpoint.codec.decode(id);
  if (!state || state.r !== endpoint.context.routeId || state.o !== owner) throw notFound();
  try {
    return await endpoint.sessions.getOrResume(id, async () => {
      // A session moving in from another replica counts like one initialized here.
      const ticket = admit(endpoint, req, identity, true);
      let session: McpSession;
      try {
        session = await McpSession.resume(endpoint.context, state);
      } catch (error) {
        ticket.release();
        throw error;
      }
      session.admission = ticket;
      endpoint.logger.info('session resumed from its id', { route: endpoint.context.routeName, session: id });
      return session;
    });
  } catch (error) {
    // Not resumable here (stdio targets, a target gone from the route), or refused by a limit: said as it is.
    if (error instanceof McpError && (error.kind === 'session_not_found' || error.kind === 'limited')) throw error;
    throw new McpError('session_not_found', `Session not found: cannot reconnect its targets (${(error as Error).message})`);
  }
}

/** A place under the session and per-subject process limits, or the refusal (429). */
function admit(endpoint: McpEndpoint, req: IncomingMessage, identity: Identity | undefined, session: boolean): AdmissionTicket {
  const { backend, pool, routeId } = endpoint.context;
  return endpoint.admission.admit(
    subjectKey(identity?.claims, req.socket.remoteAddress),
    {
      backend: routeId,
      name: backend.name,
      processes: processesPerSession(backend.targets),
      maxPerSubject: backend.stdio.maxProcessesPerSubject,
      poolHasRoom: pool.liveProcesses < backend.stdio.maxProcesses,
    },
    { session },
  );
}

function notFound(): McpError {
  return new McpError('session_not_found', 'Session not found');
}

async function get(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  exchange: Exchange,
  bind: CredentialBinding,
): Promise<void> {
  if (!accepts(req, 'text/event-stream')) throw new McpError('not_acceptable', 'Not Acceptable: Client must accept text/event-stream');
  const version = protocolVersionHeader(req);
  if (endpoint.context.backend.statefulMode === 'stateless' || version === MODERN_PROTOCOL) {
    throw new McpError('method_not_allowed', 'Method not allowed: this endpoint has no standalone stream');
  }
  const session = await sessionFor(endpoint, req, identity, exchange);
  await bind?.(session);
  const writer = new SseWriter(res);
  writer.open(200, { ...endpoint.responseHeaders, 'mcp-session-id': session.id });
  const keepalive = setInterval(() => {
    if (!writer.closed) res.write(': keepalive\n\n');
  }, KEEPALIVE_MS);
  res.once('close', () => clearInterval(keepalive));
  session.attachStream(writer, header(req, 'last-event-id'));
}

async function remove(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  exchange: Exchange,
): Promise<void> {
  if (endpoint.context.backend.statefulMode === 'stateless') throw new McpError('method_not_allowed', 'Method not allowed: stateless endpoint');
  protocolVersionHeader(req);
  const session = await sessionFor(endpoint, req, identity, exchange);
  endpoint.sessions.markTerminated(session.id, session.expiresAt);
  await session.close('deleted by the client', true);
  res.writeHead(200, endpoint.responseHeaders);
  res.end();
}

/** Target and resource of a message, for the log line and metrics. */
function describe(exchange: Exchange, message: JsonRpcMessage, session: McpSession): void {
  const params = message.params;
  if (!params) return;
  const kind =
    message.method === 'tools/call'
      ? 'tool'
      : message.method === 'prompts/get'
        ? 'prompt'
        : message.method?.startsWith('resources/')
          ? 'resource'
          : undefined;
  if (!kind) return;
  const sent = kind === 'resource' ? params.uri : params.name;
  if (typeof sent !== 'string') return;
  exchange.resourceType = kind;
  if (session.passthrough) {
    exchange.target = session.context.backend.targets[0].name;
    exchange.resource = sent;
    return;
  }
  const split = kind === 'resource' ? splitUri(sent) : splitName(sent);
  exchange.target = split?.target;
  exchange.resource = split ? ('uri' in split ? split.uri : split.name) : sent;
}
