import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { factsOf, ownerOf, refusedToolCall, type McpEndpoint } from './streamable.js';
import type { Identity } from '../auth/index.js';
import { McpSession } from '../federation/session.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, readBody } from '../protocol/body.js';
import { INTERNAL_ERROR, McpError } from '../protocol/errors.js';
import { errorResponse, invalidReason, isRequest, isResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { subjectKey } from '../session/limits.js';
import { SseWriter } from '../session/streams.js';
import type { LimitKind } from '../telemetry/telemetry.js';

/** Paths served with the legacy transport: the last segment is `sse` (`/sse`, `/github/sse`). */
export function isLegacySsePath(path: string): boolean {
  return path === '/sse' || path.endsWith('/sse');
}

/**
 * The 2024-11-05 HTTP+SSE transport, for clients that predate Streamable HTTP: `GET …/sse` opens the
 * session's only stream and names the POST endpoint in an `endpoint` event; `POST …/sse?sessionId=`
 * takes messages and answers 202, the answers travel on the stream. These sessions live in this process
 * only and end with their stream.
 */
export async function serveLegacySse(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  path: string,
): Promise<void> {
  if (req.method === 'GET') return openStream(endpoint, req, res, identity, path);
  if (req.method === 'POST') return receive(endpoint, req, res, identity);
  refuse(res, endpoint, new McpError('method_not_allowed', `Method not allowed: ${req.method}`));
}

function reply(res: ServerResponse, endpoint: McpEndpoint, status: number, body?: JsonRpcMessage): void {
  res.writeHead(status, { ...endpoint.responseHeaders, ...(body ? { 'content-type': 'application/json' } : {}) });
  res.end(body ? JSON.stringify(body) : undefined);
}

function refuse(res: ServerResponse, endpoint: McpEndpoint, error: McpError): void {
  reply(res, endpoint, error.httpStatus, error.toResponse());
}

function subjectOf(identity: Identity | undefined): string | undefined {
  return typeof identity?.claims.sub === 'string' ? identity.claims.sub : undefined;
}

async function openStream(
  endpoint: McpEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  identity: Identity | undefined,
  path: string,
): Promise<void> {
  const { backend, pool, routeId, routeName } = endpoint.context;
  let ticket;
  try {
    ticket = endpoint.admission.admit(subjectKey(identity?.claims, req.socket.remoteAddress), {
      backend: routeId,
      name: backend.name,
      processes: backend.targets.filter((target) => target.stdio !== undefined).length,
      maxPerSubject: backend.stdio.maxProcessesPerSubject,
      poolHasRoom: pool.liveProcesses < backend.stdio.maxProcesses,
    });
  } catch (error) {
    if (!(error instanceof McpError)) throw error;
    const limit = (error.data as { limit?: LimitKind } | undefined)?.limit;
    if (limit) endpoint.telemetry.limitRefused?.(routeName, limit);
    return refuse(res, endpoint, error);
  }
  const session = new McpSession(endpoint.context);
  session.admission = ticket;
  session.id = `sse-${randomBytes(16).toString('hex')}`;
  session.subject = subjectOf(identity);
  session.owner = ownerOf(identity);
  session.credentials.bearer = identity?.token;
  endpoint.sessions.add(session);
  const writer = new SseWriter(res);
  writer.open(200, endpoint.responseHeaders);
  res.write(`event: endpoint\ndata: ${path}?sessionId=${session.id}\n\n`);
  session.attachStream(writer, undefined);
  res.once('close', () => void session.close('legacy SSE stream closed', true));
  endpoint.logger.info('legacy SSE session opened', { route: endpoint.context.routeName, session: session.id });
}

async function receive(endpoint: McpEndpoint, req: IncomingMessage, res: ServerResponse, identity: Identity | undefined): Promise<void> {
  const id = new URL(req.url ?? '/', 'http://gateway').searchParams.get('sessionId');
  const session = id ? endpoint.sessions.get(id) : undefined;
  if (!session || session.context.routeId !== endpoint.context.routeId || session.owner !== ownerOf(identity)) {
    return refuse(res, endpoint, new McpError('session_not_found', 'Session not found'));
  }
  let message: JsonRpcMessage;
  try {
    const text = (await readBody(req, endpoint.maxBodyBytes, endpoint.bodyTimeoutMs)).toString('utf8');
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      return refuse(res, endpoint, new McpError('invalid_request', `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    message = JSON.parse(text) as JsonRpcMessage;
  } catch (error) {
    if (error instanceof McpError) {
      // The rest of a slow body may still trickle in: answer, then drop the connection.
      if (error.kind === 'body_timeout') res.setHeader('connection', 'close');
      return refuse(res, endpoint, error);
    }
    return refuse(res, endpoint, new McpError('parse_error', `Parse error: ${(error as Error).message}`));
  }
  const invalid = invalidReason(message);
  if (invalid) return refuse(res, endpoint, new McpError('invalid_request', `Invalid Request: ${invalid}`));
  if (refusedToolCall(endpoint, req, res, [message], identity)) return;
  session.touch();
  session.adopt(endpoint.context);
  session.credentials.bearer = identity?.token;
  reply(res, endpoint, 202);
  endpoint.logger.info('request', {
    method: 'POST',
    route: endpoint.context.routeName,
    mcpMethod: message.method,
    session: session.id,
    status: 202,
    transport: 'sse',
  });
  if (isResponse(message)) {
    session.handleResponse(message);
  } else if (!isRequest(message)) {
    session.handleNotification(message);
  } else if (message.method === 'initialize') {
    const sink = session.standaloneSink();
    session.initialize(message).then(
      (response) => sink.finish(response),
      (error: Error & { code?: number }) => sink.finish(errorResponse(message.id, error.code ?? INTERNAL_ERROR, error.message)),
    );
  } else {
    void session.handleRequest(message, session.standaloneSink(), factsOf(req, identity));
  }
}
