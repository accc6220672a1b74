import { TargetLink, type ClientCall } from './link.js';
import { mergeInitialize } from './merge.js';
import { prefixUri } from './names.js';
import { CLIENT_NOTIFICATIONS, isPassthrough, Router } from './router.js';
import type { McpAuthorizer, RequestFacts } from '../authz/index.js';
import type { ResolvedBackend } from '../config/model.js';
import type { McpTarget } from '../config/types.js';
import { INTERNAL_ERROR, McpError, REQUEST_CANCELLED, type UpstreamErrorReason } from '../protocol/errors.js';
import { errorResponse, type JsonRpcMessage, type RequestId } from '../protocol/jsonrpc.js';
import { DEFAULT_PROTOCOL_VERSION, META_SUBSCRIPTION_ID } from '../protocol/versions.js';
import type { CallSink } from '../session/sink.js';
import { EventStream, parseEventId, ReplayBudget, type SseWriter } from '../session/streams.js';
import { capabilityNames, type SessionState } from '../session/token.js';
import type { Logger } from '../telemetry/logger.js';
import type { CallKind, Telemetry } from '../telemetry/telemetry.js';
import { carrierOf, type TraceCarrier, type Tracer } from '../telemetry/tracing.js';
import { connectTarget, resumeTarget, type ConnectContext } from '../upstream/connect.js';
import type { ClientCredentials } from '../upstream/http.js';
import type { StdioPool } from '../upstream/stdio-pool.js';
import type { UpstreamConnection } from '../upstream/types.js';

type Json = Record<string, unknown>;

/** What a session needs from its route; swapped on reload so policies apply to live sessions at once. */
export interface BackendContext {
  readonly routeId: string;
  readonly routeName: string;
  readonly backend: ResolvedBackend;
  /** Undefined when the route has no `mcpAuthorization`: nothing to filter. */
  readonly authorizer?: McpAuthorizer;
  readonly pool: StdioPool;
  readonly logger: Logger;
  readonly upstreamTimeoutMs: number;
  /** Bytes of SSE events one session keeps for `Last-Event-ID` replay (`config.limits.maxReplayBytes`). */
  readonly maxReplayBytes: number;
  readonly gatewayVersion: string;
  readonly telemetry: Telemetry;
  /** Undefined unless `config.tracing` is set. */
  readonly tracer?: Tracer;
  /** Opens a connection to a target: `connectTarget` unless set (tests put in-memory upstreams here). */
  readonly connect?: (target: McpTarget, context: ConnectContext) => Promise<UpstreamConnection>;
}

const CALL_KINDS: Record<string, CallKind> = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'resources/read': 'resource',
  'resources/subscribe': 'resource',
  'resources/unsubscribe': 'resource',
};

const KEPT_POST_STREAMS = 32;

/**
 * One client session: its links to every target, and the bookkeeping that routes each message between
 * them — names and URIs, request ids both ways, and the stream an upstream message belongs on.
 */
export class McpSession {
  id = '';
  readonly credentials: ClientCredentials = {};
  protocolVersion: string = DEFAULT_PROTOCOL_VERSION;
  clientCapabilities: Json = {};
  subject?: string;
  /** Whom the session belongs to (issuer and subject of the token, see `ownerOf`); undefined when anonymous. */
  owner?: string;
  lastActivity = Date.now();
  readonly createdAt = Date.now();
  /** When the id stops being accepted (`config.limits.sessionLifetime` after initialize; sealed into the id). */
  expiresAt = Infinity;
  closeReason?: string;
  onClosed?: (session: McpSession) => void;
  /** The session's place under the session and process limits; given back when it closes. */
  admission?: { release(): void };
  private readonly links = new Map<string, TargetLink>();
  private readonly calls = new Map<RequestId, ClientCall & { progressToken?: unknown }>();
  private readonly serverRequests = new Map<string, { link: TargetLink; id: string | number }>();
  private serverRequestSeq = 0;
  private readonly streams = new Map<string, EventStream>();
  private streamSeq = 0;
  private readonly replay: ReplayBudget;
  private readonly standalone: EventStream;
  private readonly router = new Router(this);
  /** Ephemeral sessions (stateless mode, 2026-07-28 requests) open links on demand, without a GET stream. */
  private readonly ephemeral: boolean;
  private ephemeralInit?: Json;
  /** The route context whose policies this session last adopted. */
  private policySource: BackendContext;
  /** `initialize` runs once per session: a second one would open a second set of links (stdio processes) and orphan the first. */
  private initializeStarted = false;

  constructor(
    public context: BackendContext,
    options: { ephemeral?: boolean } = {},
  ) {
    this.ephemeral = options.ephemeral ?? false;
    this.policySource = context;
    this.replay = new ReplayBudget(context.maxReplayBytes, (bytes) => context.telemetry.bytesDropped?.(context.routeName, 'sse_replay', bytes));
    this.standalone = new EventStream('g', this.replay);
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** One target and no forced prefix: names, URIs and unknown methods pass through untouched. */
  get passthrough(): boolean {
    return isPassthrough(this.context.backend);
  }

  get hasStdioTargets(): boolean {
    return this.context.backend.targets.some((target) => target.stdio !== undefined);
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /**
   * After a reload: new policies (authorization, timeouts, logger) apply at once, but the targets and
   * naming stay those the session was initialized with, or its tool names would change under the client.
   */
  adopt(context: BackendContext): void {
    if (this.policySource === context) return;
    this.policySource = context;
    this.context = { ...context, backend: this.context.backend, pool: this.context.pool };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Runs the client's `initialize` against every target; returns the (merged) result. */
  async initialize(message: JsonRpcMessage): Promise<JsonRpcMessage> {
    if (this.initializeStarted) {
      throw new McpError('invalid_request', 'Invalid Request: this session is already initialized; open a new session to initialize again');
    }
    this.initializeStarted = true;
    const started = performance.now();
    // Counted and traced like any request; the transport answers it itself, so the sink goes unused.
    const call = {
      clientId: message.id as RequestId,
      method: 'initialize',
      sink: { push() {}, finish() {}, open: false },
      upstream: [],
      span: this.context.tracer?.startRequest(
        'initialize',
        { 'mcp.method.name': 'initialize', 'mcp.route': this.context.routeName },
        incomingTrace(message, { headers: {} }),
      ),
    } satisfies ClientCall;
    try {
      const response = await this.initializeTargets(message);
      this.callDone(call, message, response, performance.now() - started);
      return response;
    } catch (error) {
      this.callDone(
        call,
        message,
        errorResponse(message.id, (error as { code?: number }).code ?? INTERNAL_ERROR, (error as Error).message),
        performance.now() - started,
      );
      throw error;
    }
  }

  private async initializeTargets(message: JsonRpcMessage): Promise<JsonRpcMessage> {
    const params = (message.params ?? {}) as Json;
    const clientVersion = typeof params.protocolVersion === 'string' ? params.protocolVersion : DEFAULT_PROTOCOL_VERSION;
    this.clientCapabilities = (params.capabilities ?? {}) as Json;
    const { backend, logger } = this.context;
    const settled = await Promise.allSettled(
      backend.targets.map(async (target, index) => {
        const link = await this.openLink(target, index, params);
        try {
          // A pooled process already answered an `initialize` like this client's (same revision and capabilities).
          const ready = link.connection.initialized;
          const response: JsonRpcMessage = ready
            ? { jsonrpc: '2.0', id: 0, result: structuredClone(ready) }
            : await link.request({ jsonrpc: '2.0', method: 'initialize', params });
          return { link, response };
        } catch (error) {
          await link.close(true).catch(() => undefined);
          throw error;
        }
      }),
    );
    const ready: Array<{ link: TargetLink; result: Json }> = [];
    const failures: string[] = [];
    let upstreamError: JsonRpcMessage | undefined;
    settled.forEach((outcome, index) => {
      const name = backend.targets[index].name;
      if (outcome.status === 'rejected') {
        failures.push(`target "${name}": ${(outcome.reason as Error).message}`);
      } else if (outcome.value.response.error) {
        upstreamError = outcome.value.response;
        failures.push(`target "${name}" refused initialize: ${outcome.value.response.error.message}`);
        void outcome.value.link.close(true);
      } else {
        ready.push({ link: outcome.value.link, result: outcome.value.response.result ?? {} });
      }
    });
    const failOpen = backend.failureMode === 'failOpen';
    if (failures.length > 0 && (!failOpen || ready.length === 0)) {
      await Promise.all(ready.map(({ link }) => link.close(true)));
      this.links.clear();
      if (this.passthrough && upstreamError) return { ...upstreamError, id: message.id };
      const rejection = settled.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult | undefined;
      const cause = rejection?.reason instanceof McpError ? rejection.reason : undefined;
      throw cause ? McpError.relayed(cause.code, failures.join('; ')) : new McpError('unavailable', failures.join('; '));
    }
    for (const failure of failures) logger.warn('target skipped (failOpen)', { route: this.context.routeName, error: failure });
    for (const { link, result } of ready) {
      link.protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : clientVersion;
      link.capabilities = (result.capabilities ?? {}) as Json;
      link.connection.setProtocolVersion(link.protocolVersion);
      // Ephemeral sessions end with their request: a stream for the server's own messages would outlive them.
      if (!this.ephemeral) link.initialized();
    }
    let result: Json;
    if (this.passthrough) {
      result = backend.serverInfo
        ? { ...ready[0].result, serverInfo: { ...(ready[0].result.serverInfo as Json), ...backend.serverInfo } }
        : ready[0].result;
    } else {
      result = mergeInitialize(
        ready.map(({ link, result: r }) => ({ name: link.name, result: r })),
        clientVersion,
        backend,
        this.context.gatewayVersion,
      );
    }
    this.protocolVersion = String(result.protocolVersion ?? clientVersion);
    return { jsonrpc: '2.0', id: message.id, result };
  }

  /** Rebuilds a session another replica created, from its sealed state; no upstream re-initialize. */
  static async resume(context: BackendContext, state: SessionState): Promise<McpSession> {
    const session = new McpSession(context);
    session.protocolVersion = state.v;
    session.clientCapabilities = Object.fromEntries(state.c.map((name) => [name, {}]));
    session.expiresAt = state.e * 1000;
    session.subject = state.s;
    session.owner = state.o;
    const movable = state.t.every(([, kind, upstreamSession]) => kind === 'mcp' || (kind !== 'stdio' && upstreamSession === null));
    if (!movable) {
      throw new McpError(
        'session_not_found',
        'session not found: it includes stdio or legacy SSE targets, whose processes and streams live in the gateway replica that created it; '
          + 'such sessions cannot move to another replica or survive a restart. Initialize a new session.',
      );
    }
    for (const [name, kind, upstreamSession, version] of state.t) {
      const index = context.backend.targets.findIndex((target) => target.name === name);
      const target = context.backend.targets[index];
      if (!target || (kind === 'mcp') !== (target.mcp !== undefined)) {
        throw new McpError('session_not_found', `session not found: target "${name}" is no longer configured on this route`);
      }
      const connection =
        upstreamSession !== null
          ? await resumeTarget(target, { pool: context.pool, logger: context.logger, credentials: session.credentials }, upstreamSession, version)
          : await connectTarget(target, { pool: context.pool, logger: context.logger, credentials: session.credentials });
      if (upstreamSession === null) connection.setProtocolVersion(version);
      const link = session.addLink(index, name, connection);
      link.protocolVersion = version;
    }
    return session;
  }

  /** The state sealed into the session id. */
  state(): Omit<SessionState, 'n'> {
    return {
      r: this.context.routeId,
      v: this.protocolVersion,
      t: [...this.links.values()].map(
        (link) => [link.name, link.kind, link.connection.sessionId ?? null, link.protocolVersion ?? this.protocolVersion] as const,
      ),
      c: capabilityNames(this.clientCapabilities),
      e: Math.floor(this.expiresAt / 1000),
      ...(this.subject !== undefined ? { s: this.subject } : {}),
      ...(this.owner !== undefined ? { o: this.owner } : {}),
    };
  }

  /**
   * Ends the session here. `terminate` (the client's DELETE, stateless requests) also ends the upstream
   * sessions; eviction and shutdown do not, since another replica may still serve this session.
   */
  async close(reason: string, terminate = false): Promise<void> {
    if (this.closed) return;
    this.closeReason = reason;
    // Gone for new requests at once; stopping processes below may take a moment.
    this.onClosed?.(this);
    for (const call of this.calls.values()) call.sink.finish(errorResponse(call.clientId, INTERNAL_ERROR, `session closed: ${reason}`));
    this.calls.clear();
    this.standalone.finish();
    for (const stream of this.streams.values()) stream.finish();
    await Promise.all([...this.links.values()].map((link) => link.close(terminate).catch(() => undefined)));
  }

  // ---- client → gateway ----------------------------------------------------------------------

  /** Serves one client request; the response (or an error) always ends up on `sink`. */
  async handleRequest(message: JsonRpcMessage, sink: CallSink, facts: RequestFacts): Promise<void> {
    const started = performance.now();
    const clientId = message.id as RequestId;
    const method = message.method!;
    const call: ClientCall & { progressToken?: unknown } = {
      clientId,
      method,
      sink,
      upstream: [],
      progressToken: message.params?._meta?.progressToken,
      span: this.context.tracer?.startRequest(
        method,
        { 'mcp.method.name': method, 'mcp.route': this.context.routeName },
        incomingTrace(message, facts),
      ),
    };
    this.calls.set(clientId, call);
    let response: JsonRpcMessage;
    try {
      response = await this.router.route(message, call, facts);
      sink.finish(response);
    } catch (error) {
      if (!(error instanceof McpError)) this.context.logger.error('request failed', { method: message.method, error });
      const failure = error instanceof McpError ? error : new McpError('internal', (error as Error).message);
      response = failure.toResponse(clientId);
      sink.finish(response, failure.httpStatus);
    } finally {
      this.calls.delete(clientId);
    }
    this.callDone(call, message, response, performance.now() - started);
  }

  /** Metrics, admin page and span of one answered request. */
  private callDone(call: ClientCall, message: JsonRpcMessage, response: JsonRpcMessage, durationMs: number): void {
    const kind = CALL_KINDS[call.method] ?? 'other';
    const targets = this.context.backend.targets;
    const target = call.target ?? (targets.length === 1 ? targets[0].name : 'all');
    const name = kind === 'other' ? '' : (call.name ?? String(message.params?.[kind === 'resource' ? 'uri' : 'name'] ?? ''));
    const failed = response.error !== undefined || response.result?.isError === true;
    const errorMessage = response.error?.message ?? (failed ? 'the tool reported an error (isError)' : undefined);
    this.context.telemetry.callFinished?.({
      route: this.context.routeName,
      target,
      method: call.method,
      kind,
      name,
      outcome: call.denied ? 'denied' : failed ? 'error' : 'ok',
      durationMs: Math.round(durationMs * 100) / 100,
      sessionId: this.id || undefined,
      subject: this.subject,
      errorCode: response.error?.code,
      errorMessage,
    });
    if (call.span) {
      call.span.setAttributes({
        'mcp.target': target,
        'gen_ai.tool.name': kind === 'tool' ? name : undefined,
        'gen_ai.prompt.name': kind === 'prompt' ? name : undefined,
      });
      call.span.end(errorMessage !== undefined ? { message: errorMessage, code: response.error?.code } : undefined);
    }
  }

  handleNotification(message: JsonRpcMessage): void {
    if (!CLIENT_NOTIFICATIONS.has(message.method ?? '')) {
      this.context.logger.warn('notification dropped: not one a client may send', {
        route: this.context.routeName,
        method: String(message.method).slice(0, 100),
      });
      return;
    }
    if (message.method === 'notifications/cancelled') {
      const requestId = message.params?.requestId as RequestId | undefined;
      const call = requestId !== undefined ? this.calls.get(requestId) : undefined;
      if (!call) return;
      for (const { link, id } of call.upstream) {
        link.send({ ...message, params: { ...message.params, requestId: id } });
      }
      this.calls.delete(call.clientId);
      call.sink.finish(errorResponse(call.clientId, REQUEST_CANCELLED, 'request cancelled by the client'));
      return;
    }
    // initialized, roots/list_changed, progress of server-initiated requests…: every target may care.
    for (const link of this.links.values()) if (link.alive) link.send(message);
  }

  /** The client's answer to a server-to-client request: back to the upstream that asked, with its own id. */
  handleResponse(message: JsonRpcMessage): boolean {
    const key = String(message.id);
    const origin = this.serverRequests.get(key);
    if (!origin) return false;
    this.serverRequests.delete(key);
    origin.link.send({ ...message, id: origin.id });
    return true;
  }

  /** Attaches a GET (or resuming GET) connection to the standalone stream or to the stream `lastEventId` names. */
  attachStream(writer: SseWriter, lastEventId: string | undefined): void {
    const position = lastEventId ? parseEventId(lastEventId) : undefined;
    const stream = position && position.stream !== this.standalone.id ? this.streams.get(position.stream) : undefined;
    if (stream) {
      stream.attach(writer, position!.seq);
      return;
    }
    this.standalone.attach(writer, position?.stream === this.standalone.id ? position.seq : undefined);
  }

  /**
   * Legacy HTTP+SSE clients (2024-11-05 transport) get every message, responses included, on their one GET
   * stream; this sink puts a request's messages there.
   */
  standaloneSink(): CallSink {
    const stream = this.standalone;
    return {
      push: (message) => stream.append(message),
      finish: (message) => stream.append(message),
      get open() {
        return !stream.done;
      },
    };
  }

  /** A new resumable SSE stream for one POST's answer. */
  openPostStream(): EventStream {
    const stream = new EventStream(`p${++this.streamSeq}`, this.replay);
    this.streams.set(stream.id, stream);
    if (this.streams.size > KEPT_POST_STREAMS) {
      const oldest = this.streams.keys().next().value as string;
      this.replay.release(this.streams.get(oldest)!);
      this.streams.delete(oldest);
    }
    return stream;
  }

  // ---- upstream → client ---------------------------------------------------------------------

  private upstreamMessage(link: TargetLink, message: JsonRpcMessage): void {
    const subscription = message.params?._meta?.[META_SUBSCRIPTION_ID];
    if (subscription !== undefined) {
      // 2026-07-28 tags listen-stream notifications with the id of the subscriptions/listen request: the
      // upstream knows the gateway's id for it, the client its own.
      const call = [...this.calls.values()].find((candidate) =>
        candidate.upstream.some((sent) => sent.link === link && String(sent.id) === String(subscription)),
      );
      if (call) {
        const clientId = typeof subscription === 'string' ? String(call.clientId) : call.clientId;
        message = { ...message, params: { ...message.params, _meta: { ...message.params!._meta, [META_SUBSCRIPTION_ID]: clientId } } };
      }
    }
    if (message.id !== undefined && message.id !== null) {
      // A server-to-client request (sampling, elicitation, roots): our id towards the client, theirs kept to answer.
      const downstreamId = `${link.name}.${++this.serverRequestSeq}`;
      this.serverRequests.set(downstreamId, { link, id: message.id });
      this.deliver({ ...message, id: downstreamId }, link);
      return;
    }
    switch (message.method) {
      case 'notifications/progress': {
        const token = message.params?.progressToken;
        for (const call of this.calls.values()) {
          if (call.progressToken !== undefined && call.progressToken === token) {
            for (const upstream of call.upstream) if (upstream.link === link) link.extendTimeout(upstream.id);
            call.sink.push(message);
            return;
          }
        }
        break;
      }
      case 'notifications/cancelled': {
        const requestId = message.params?.requestId;
        for (const [downstreamId, origin] of this.serverRequests) {
          if (origin.link === link && origin.id === requestId) {
            this.serverRequests.delete(downstreamId);
            this.deliver({ ...message, params: { ...message.params, requestId: downstreamId } }, link);
            return;
          }
        }
        return;
      }
      case 'notifications/resources/updated':
        if (!this.passthrough && typeof message.params?.uri === 'string') {
          message = { ...message, params: { ...message.params, uri: prefixUri(link.name, message.params.uri) } };
        }
        break;
    }
    this.deliver(message, link);
  }

  /** On the stream of the request that caused it when one is open, else on the session's GET stream. */
  private deliver(message: JsonRpcMessage, link: TargetLink): void {
    const call = link.inflightCalls().find((candidate) => candidate.sink.open);
    if (call) call.sink.push(message);
    else if (!this.ephemeral) this.standalone.append(message);
  }

  private linkLost(link: TargetLink, reason: Error): void {
    this.context.logger.warn('target connection lost', {
      route: this.context.routeName,
      session: this.id || undefined,
      target: link.name,
      error: reason.message,
    });
    // Closed on the next turn, so the failed requests answer with their own error (naming the method) first.
    if ([...this.links.values()].every((candidate) => !candidate.alive)) setImmediate(() => void this.close(reason.message));
  }

  // ---- links ---------------------------------------------------------------------------------

  private addLink(index: number, name: string, connection: TargetLink['connection']): TargetLink {
    connection.ondropped = (bytes) => this.context.telemetry.bytesDropped?.(this.context.routeName, 'stdio_message', bytes);
    const link = new TargetLink(index, name, connection, this.context.upstreamTimeoutMs, {
      upstreamMessage: (from, message) => this.upstreamMessage(from, message),
      lost: (from, reason) => this.linkLost(from, reason),
      failed: (from, reason, message) => this.context.telemetry.upstreamError?.(this.context.routeName, from.name, reason, message),
      answered: (from) => this.context.telemetry.upstreamOk?.(this.context.routeName, from.name),
    });
    this.links.set(name, link);
    return link;
  }

  /**
   * Per-subject limits belong where the session is admitted, before this: a pooled process is only taken
   * for a session that may exist.
   */
  private async openLink(target: McpTarget, index: number, initialize?: Json): Promise<TargetLink> {
    let connection: TargetLink['connection'];
    try {
      const connect = this.context.connect ?? connectTarget;
      connection = await connect(target, { pool: this.context.pool, logger: this.context.logger, credentials: this.credentials, initialize });
    } catch (error) {
      const reason: UpstreamErrorReason = error instanceof McpError && error.reason ? error.reason : 'connect_failed';
      this.context.telemetry.upstreamError?.(this.context.routeName, target.name, reason, (error as Error).message);
      throw error;
    }
    return this.addLink(index, target.name, connection);
  }

  /**
   * The link to a target. Stateful sessions opened every link at `initialize`; ephemeral ones open it on
   * first use and, for pre-2026 protocol versions, perform the handshake the client never sent.
   */
  async linkFor(target: McpTarget, index: number): Promise<TargetLink> {
    const existing = this.links.get(target.name);
    if (existing) {
      if (!existing.alive) throw new McpError('unavailable', `target "${target.name}" is unavailable in this session`);
      return existing;
    }
    if (!this.ephemeral) throw new McpError('unavailable', `target "${target.name}" is not part of this session`);
    const link = await this.openLink(target, index, this.ephemeralInit);
    if (this.ephemeralInit) {
      const ready = link.connection.initialized;
      const response: JsonRpcMessage = ready
        ? { jsonrpc: '2.0', id: 0, result: structuredClone(ready) }
        : await link.request({ jsonrpc: '2.0', method: 'initialize', params: this.ephemeralInit });
      if (response.error) throw McpError.relayed(response.error.code, `target "${target.name}" refused initialize: ${response.error.message}`);
      link.protocolVersion = String(response.result?.protocolVersion ?? this.protocolVersion);
      link.connection.setProtocolVersion(link.protocolVersion);
      link.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } else {
      link.protocolVersion = this.protocolVersion;
      link.connection.setProtocolVersion(this.protocolVersion);
    }
    return link;
  }

  /** Ephemeral sessions of legacy clients: the `initialize` params each target gets before the request. */
  prepareEphemeral(protocolVersion: string, handshake: boolean): void {
    this.protocolVersion = protocolVersion;
    this.ephemeralInit = handshake
      ? { protocolVersion, capabilities: {}, clientInfo: { name: 'mcp-gateway', version: this.context.gatewayVersion } }
      : undefined;
  }
}

/** The caller's trace: `_meta` of the request (SEP-414) first, then the HTTP `traceparent` header. */
function incomingTrace(message: JsonRpcMessage, facts: RequestFacts): TraceCarrier | undefined {
  const fromMeta = carrierOf(message.params?._meta);
  if (fromMeta) return fromMeta;
  const header = facts.headers?.traceparent;
  if (typeof header !== 'string') return undefined;
  const state = facts.headers?.tracestate;
  return { traceparent: header, tracestate: typeof state === 'string' ? state : undefined };
}
