import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { callerOf, type BridgeCaller, type UpstreamBridge } from './bridge.js';
import { TargetLink, type ClientCall, type RoutedLink } from './link.js';
import { mergeInitialize } from './merge.js';
import { prefixUri } from './names.js';
import { CLIENT_NOTIFICATIONS, isPassthrough, Router } from './router.js';
import { initializeFromDiscover, statelessMeta } from './stateless-upstream.js';
import { publicBaseUrl } from '../auth/public-url.js';
import type { McpAuthorizer, RequestFacts } from '../authz/index.js';
import type { ResolvedBackend } from '../config/model.js';
import type { McpTarget, StdioTarget } from '../config/types.js';
import type { CredentialBroker } from '../credentials/broker.js';
import { credentialRequired, takeCredentialRetry } from '../credentials/elicitation.js';
import type { UserRef } from '../credentials/store.js';
import { INTERNAL_ERROR, McpError, REQUEST_CANCELLED, type UpstreamErrorReason } from '../protocol/errors.js';
import { errorResponse, type JsonRpcMessage, type RequestId } from '../protocol/jsonrpc.js';
import { DEFAULT_PROTOCOL_VERSION, META_SUBSCRIPTION_ID, MODERN_PROTOCOL } from '../protocol/versions.js';
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
  /** Each user's own upstream credentials; undefined unless `config.credentials` is set. */
  readonly credentials?: CredentialBroker;
  /** The route's `mcpAuthentication.publicUrl`: base of connect links when `config.credentials.publicUrl` is unset. */
  readonly publicUrl?: string;
  /** Opens a connection to a target: `connectTarget` unless set (tests put in-memory upstreams here). */
  readonly connect?: (target: McpTarget, context: ConnectContext) => Promise<UpstreamConnection>;
  /** Serves 2026-07-28 requests to targets that only speak the session-era revisions (BRIDGING.md). */
  readonly bridge?: UpstreamBridge;
  /**
   * The stdio bridge's `--credential-env`: each session's processes start with the credential its caller
   * (the gateway in front) sends in a request header. Undefined everywhere else.
   */
  readonly forwardedCredential?: ForwardedCredential;
}

/** Where a bridge reads the caller's credential from, and where its processes get it. */
export interface ForwardedCredential {
  /** Request header (lower case) the gateway injects the credential in; stripped before anything sees it. */
  readonly header: string;
  /** Environment variable each session's stdio processes are started with. */
  readonly env: string;
  /** Whether a request may come without the header (`--credential-optional`): its session's processes start without the variable. */
  readonly optional?: boolean;
}

const CALL_KINDS: Record<string, CallKind> = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'resources/read': 'resource',
  'resources/subscribe': 'resource',
  'resources/unsubscribe': 'resource',
};

const KEPT_POST_STREAMS = 32;
const SUBSCRIPTION_ACK = 'notifications/subscriptions/acknowledged';
/** What a 2026-07-28 target's listen stream carries to a session-era client. */
const LISTENED = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
]);

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
  /**
   * Per 2026-07-28 target of a session-era client: the resources the client subscribed to, and the
   * upstream listen stream (a connection of its own) that serves them (BRIDGING.md).
   */
  private readonly listens = new Map<string, { readonly uris: Set<string>; stream?: TargetLink }>();
  private readonly calls = new Map<RequestId, ClientCall & { progressToken?: unknown }>();
  private readonly serverRequests = new Map<string, { link: TargetLink; id: string | number; answer?: (message: JsonRpcMessage) => void }>();
  private serverRequestSeq = 0;
  private readonly streams = new Map<string, EventStream>();
  private streamSeq = 0;
  private readonly replay: ReplayBudget;
  private readonly standalone: EventStream;
  private readonly router = new Router(this);
  /** Ephemeral sessions (stateless mode, 2026-07-28 requests) open links on demand, without a GET stream. */
  private readonly ephemeral: boolean;
  private ephemeralInit?: Json;
  /** Aborted when the client of an ephemeral session's one request goes away. */
  requestSignal?: AbortSignal;
  /** A 2026-07-28 request's caller, for targets reached through the bridge. */
  private bridgeCaller?: BridgeCaller;
  /** The route context whose policies this session last adopted. */
  private policySource: BackendContext;
  /** `initialize` runs once per session: a second one would open a second set of links (stdio processes) and orphan the first. */
  private initializeStarted = false;
  /** The client's `initialize` params, for a stdio target restarted with the user's credential. */
  private initializeParams?: Json;
  /** Per stdio target with a credential: a hash of the token its process was started with ('' = none). */
  private readonly injected = new Map<string, string>();
  /** Restarts with a new credential under way: concurrent calls of the session wait for the one restart. */
  private readonly restarting = new Map<string, Promise<void>>();
  /** Behind a bridge with `--credential-env`: the credential this session's processes run with (undefined: none). */
  private forwarded?: string;
  /** Whether `forwarded` was set by a request yet. */
  private forwardedKnown = false;

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

  /** The signed-in user (issuer and subject of the token); undefined when anonymous. */
  get user(): UserRef | undefined {
    if (!this.owner?.startsWith('[')) return undefined;
    const [issuer, subject] = JSON.parse(this.owner) as [string, string];
    return { issuer, subject };
  }

  /** A notification for the client outside any request (e.g. `notifications/elicitation/complete`), on the GET stream. */
  notifyClient(message: JsonRpcMessage): void {
    if (!this.ephemeral && !this.closed) this.standalone.append(message);
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
    this.initializeParams = params;
    const { backend, logger } = this.context;
    const settled = await Promise.allSettled(
      backend.targets.map(async (target, index) => {
        const link = await this.openLink(target, index, params);
        try {
          // A pooled process already answered an `initialize` like this client's (same revision and capabilities).
          const ready = link.connection.initialized;
          const response: JsonRpcMessage = ready
            ? { jsonrpc: '2.0', id: 0, result: structuredClone(ready) }
            : await this.initializeTarget(link, params, clientVersion);
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
      // A 2026-07-28 target keeps speaking its revision; the gateway plays the session (initializeTarget),
      // and a listen stream stands in for the session's own notifications.
      if (link.statelessMeta) {
        if (!this.ephemeral) void this.relisten(link).catch(() => undefined);
        continue;
      }
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

  /**
   * `initialize` upstream; a target that refuses it and answers `server/discover` with 2026-07-28 is a
   * stateless one: its discovery result becomes the `initialize` answer, and every request to it carries
   * the client's capabilities and info in `_meta` from now on (BRIDGING.md).
   */
  private async initializeTarget(link: TargetLink, params: Json, clientVersion: string): Promise<JsonRpcMessage> {
    let response: JsonRpcMessage | undefined;
    let failure: unknown;
    try {
      response = await link.request({ jsonrpc: '2.0', method: 'initialize', params });
      if (!response.error) return response;
    } catch (error) {
      failure = error;
    }
    if (link.alive) {
      const clientInfo = isObject(params.clientInfo) ? params.clientInfo : { name: 'mcp-gateway', version: this.context.gatewayVersion };
      const meta = statelessMeta(isObject(params.capabilities) ? params.capabilities : {}, clientInfo);
      link.connection.setProtocolVersion(MODERN_PROTOCOL);
      const discovered = await link.request({ jsonrpc: '2.0', method: 'server/discover', params: { _meta: meta } }).catch(() => undefined);
      const versions = discovered?.result?.supportedVersions;
      if (Array.isArray(versions) && versions.includes(MODERN_PROTOCOL)) {
        link.protocolVersion = MODERN_PROTOCOL;
        link.capabilities = isObject(discovered!.result!.capabilities) ? discovered!.result!.capabilities : {};
        link.statelessMeta = meta;
        return { jsonrpc: '2.0', id: 0, result: initializeFromDiscover(discovered!.result!, clientVersion, link.name) };
      }
    }
    if (response) return response;
    throw failure;
  }

  /** A server-to-client request the gateway makes for a 2026-07-28 target's input_required result. */
  private askClient(link: TargetLink, request: JsonRpcMessage, call?: ClientCall): Promise<JsonRpcMessage> {
    const downstreamId = `${link.name}.${++this.serverRequestSeq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.serverRequests.delete(downstreamId);
        reject(new McpError('unavailable', `the client did not answer ${request.method} within the upstream timeout`));
      }, this.context.upstreamTimeoutMs);
      timer.unref();
      this.serverRequests.set(downstreamId, {
        link,
        id: downstreamId,
        answer: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
      const asked = { ...request, id: downstreamId };
      if (call?.sink.open) call.sink.push(asked);
      else if (!this.ephemeral) this.standalone.append(asked);
    });
  }

  /** `resources/subscribe` of a session-era client to a 2026-07-28 target: its listen stream, with the new URIs. */
  private async resubscribe(link: TargetLink, uri: string, subscribed: boolean): Promise<void> {
    const listen = this.listens.get(link.name) ?? { uris: new Set<string>() };
    this.listens.set(link.name, listen);
    if (subscribed) listen.uris.add(uri);
    else listen.uris.delete(uri);
    await this.relisten(link);
  }

  /**
   * The listen stream of a 2026-07-28 target of a session-era client, opened again on each change (a
   * stream's filter is fixed when it opens): the list changes the target announces, and the resources the
   * client subscribed to. What it carries reaches the client as from its session.
   */
  private async relisten(link: TargetLink): Promise<void> {
    const listen = this.listens.get(link.name) ?? { uris: new Set<string>() };
    this.listens.set(link.name, listen);
    const previous = listen.stream;
    listen.stream = undefined;
    void previous?.close(true).catch(() => undefined);
    const notifications: Json = {};
    for (const [filter, capability] of [['toolsListChanged', 'tools'], ['promptsListChanged', 'prompts'], ['resourcesListChanged', 'resources']]) {
      if ((link.capabilities?.[capability] as Json | undefined)?.listChanged === true) notifications[filter] = true;
    }
    if (listen.uris.size > 0) notifications.resourceSubscriptions = [...listen.uris];
    if (Object.keys(notifications).length === 0 || this.closed) return;
    const target = this.context.backend.targets[link.index];
    const connection = await (this.context.connect ?? connectTarget)(target, {
      pool: this.context.pool,
      logger: this.context.logger,
      credentials: this.credentials,
    });
    const stream = new TargetLink(link.index, link.name, connection, this.context.upstreamTimeoutMs, {
      upstreamMessage: (_from, message) => {
        if (!LISTENED.has(message.method ?? '') || listen.stream !== stream) return;
        const meta = { ...message.params?._meta };
        delete meta[META_SUBSCRIPTION_ID];
        this.upstreamMessage(link, { ...message, params: { ...message.params, _meta: meta } });
      },
      lost: () => undefined,
    });
    stream.protocolVersion = MODERN_PROTOCOL;
    connection.setProtocolVersion(MODERN_PROTOCOL);
    listen.stream = stream;
    const params = { notifications, _meta: link.statelessMeta };
    void stream.request({ jsonrpc: '2.0', method: 'subscriptions/listen', params }).catch(() => undefined);
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
          : await (context.connect ?? connectTarget)(target, { pool: context.pool, logger: context.logger, credentials: session.credentials });
      if (upstreamSession === null) connection.setProtocolVersion(version);
      const link = session.addLink(index, name, connection);
      link.protocolVersion = version;
      if (version === MODERN_PROTOCOL && state.v !== MODERN_PROTOCOL) {
        // A 2026-07-28 target of a session-era client: the meta again, from what the id keeps.
        link.statelessMeta = statelessMeta(session.clientCapabilities, { name: 'mcp-gateway', version: context.gatewayVersion });
      }
      if (target.credential) await session.credentialFor(target, false);
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
    const streams = [...this.listens.values()].flatMap(({ stream }) => (stream ? [stream] : []));
    await Promise.all([...this.links.values(), ...streams].map((link) => link.close(terminate).catch(() => undefined)));
  }

  // ---- client → gateway ----------------------------------------------------------------------

  /** Serves one client request; the response (or an error) always ends up on `sink`. */
  async handleRequest(message: JsonRpcMessage, sink: CallSink, facts: RequestFacts): Promise<void> {
    const started = performance.now();
    // An upstream listen stream (or any request) of a departed client would otherwise stay open for good.
    this.requestSignal?.addEventListener('abort', () => void this.close('the client went away', true), { once: true });
    const clientId = message.id as RequestId;
    const method = message.method!;
    const call: ClientCall & { progressToken?: unknown } = {
      clientId,
      method,
      sink,
      upstream: [],
      progressToken: message.params?._meta?.progressToken,
      signal: this.requestSignal,
      span: this.context.tracer?.startRequest(
        method,
        { 'mcp.method.name': method, 'mcp.route': this.context.routeName },
        incomingTrace(message, facts),
      ),
    };
    this.calls.set(clientId, call);
    let response: JsonRpcMessage;
    try {
      const broker = this.context.credentials;
      if (broker && this.context.authorizer) {
        // CEL's `connections`: every configured provider is present, so a rule never fails on a missing key.
        const user = this.user;
        const none = () => Object.fromEntries([...broker.settings.providers.keys()].map((name) => [name, false]));
        facts = { ...facts, connections: user ? await broker.connections(user) : none() };
      }
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
    // A 2026-07-28 target has no session for them to belong to.
    for (const link of this.links.values()) if (link.alive && !link.statelessMeta) link.send(message);
  }

  /** The client's answer to a server-to-client request: back to the upstream that asked, with its own id. */
  handleResponse(message: JsonRpcMessage): boolean {
    const key = String(message.id);
    const origin = this.serverRequests.get(key);
    if (!origin) return false;
    this.serverRequests.delete(key);
    if (origin.answer) origin.answer(message);
    else origin.link.send({ ...message, id: origin.id });
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
    // Each target acknowledges its own listen; the router acknowledges the client's one (router.ts, listen).
    if (message.method === SUBSCRIPTION_ACK && !this.passthrough) return;
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
      ask: (from, request, call) => this.askClient(from, request, call),
      subscribe: (from, uri, subscribed) => this.resubscribe(from, uri, subscribed),
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
      const forwarded = this.context.forwardedCredential;
      const token = forwarded ? this.forwarded : target.credential ? await this.credentialFor(target, false) : undefined;
      const variable = forwarded ? forwarded.env : target.credential?.inject.env;
      if (target.stdio && variable) this.injected.set(target.name, token !== undefined ? fingerprint(token) : '');
      const connect = this.context.connect ?? connectTarget;
      connection =
        target.stdio && variable && token !== undefined
          ? // Never from the warm pool, never back to it: this process carries one user's credential and serves this session only.
          await this.context.pool.spawn(target.name, withEnv(target.stdio, variable, token))
          : await connect(target, { pool: this.context.pool, logger: this.context.logger, credentials: this.credentials, initialize });
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
  async linkFor(target: McpTarget, index: number): Promise<RoutedLink> {
    const bridge = this.context.bridge;
    const probing = this.bridgeCaller && bridge && !this.links.has(target.name);
    // The server/discover probe is an upstream request like any other: it carries the user's credential.
    if (probing && target.credential) await this.credentialFor(target, false);
    if (probing && !(await bridge!.speaksModern(target, this.context, this.credentials))) {
      return bridge!.link(target, index, this.bridgeCaller!, this.context, !this.passthrough);
    }
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

  /**
   * The user's credential for `target`, obtained through the broker; for HTTP targets it is also put in
   * place as the target's header. Undefined when the user has not connected (or is anonymous). With
   * `strict`, a provider that fails (token endpoint down) is an error for the call instead.
   */
  async credentialFor(target: McpTarget, strict: boolean): Promise<string | undefined> {
    const broker = this.context.credentials;
    const credential = target.credential;
    const user = this.user;
    if (!broker || !credential || !user) return undefined;
    let token: string | undefined;
    try {
      token = await broker.tokenFor(user, credential.provider, this.credentials.bearer);
    } catch (error) {
      const reason = (error as Error).message;
      this.context.logger.warn('upstream credential unavailable', { target: target.name, provider: credential.provider, error: reason });
      if (strict) {
        throw new McpError('unavailable', `target "${target.name}": the ${credential.provider} credential could not be obtained: ${reason}`);
      }
      return undefined;
    }
    const header = credential.inject.header;
    if (header) {
      const headers = (this.credentials.targetHeaders ??= {});
      if (token === undefined) delete headers[target.name];
      else headers[target.name] = { name: header, value: `${credential.inject.prefix ?? 'Bearer '}${token}` };
    }
    return token;
  }

  /**
   * Router hook before a call reaches `target`: a target with a credential the user has not connected gets
   * the connect link (URL elicitation) instead; a stdio process started without (or with an older) token is
   * restarted with the current one, so the call runs as the user.
   */
  async ensureCredential(target: McpTarget, index: number, message: JsonRpcMessage, facts: RequestFacts): Promise<JsonRpcMessage | undefined> {
    const broker = this.context.credentials;
    const credential = target.credential;
    if (!broker || !credential) return undefined;
    const user = this.user;
    if (!user) {
      const text = `target "${target.name}" acts with each user's own ${credential.provider} account: sign in first`;
      return new McpError('invalid_request', text).toResponse(message.id as RequestId);
    }
    const retry = takeCredentialRetry(message.params);
    const token = await this.credentialFor(target, true);
    if (token === undefined) {
      const base = publicBaseUrl({ headers: facts.headers } as IncomingMessage, this.context.publicUrl);
      const link = await broker.connectLink(user, credential.provider, base);
      this.context.logger.info('credential required: connect link sent', {
        target: target.name,
        provider: credential.provider,
        subject: user.subject,
      });
      return credentialRequired(message, link, credential.provider, this.clientCapabilities, this.protocolVersion, retry?.declined);
    }
    const stale = target.stdio && this.links.has(target.name) && this.injected.get(target.name) !== fingerprint(token);
    if (stale) {
      let restart = this.restarting.get(target.name);
      if (!restart) {
        restart = this.restartWithCredential(target, index).finally(() => this.restarting.delete(target.name));
        this.restarting.set(target.name, restart);
      }
      await restart;
    }
    return undefined;
  }

  /**
   * Behind a bridge with `--credential-env`: the credential of this request (undefined: none, which only
   * `--credential-optional` lets through). The first one is what the session's processes start with; a
   * different one later (the user connected, the gateway refreshed the token, the user disconnected)
   * replaces every stdio process by one started with it, before the request reaches it: a process never
   * serves a request carrying another credential than its own.
   */
  async useForwardedCredential(credential: string | undefined): Promise<void> {
    if (this.forwardedKnown && this.forwarded === credential) return;
    const first = !this.forwardedKnown && this.links.size === 0;
    this.forwardedKnown = true;
    this.forwarded = credential;
    if (first) return;
    const wanted = credential === undefined ? '' : fingerprint(credential);
    const behind = (target: McpTarget) => Boolean(target.stdio) && this.links.has(target.name) && this.injected.get(target.name) !== wanted;
    const targets = this.context.backend.targets;
    await Promise.all(
      targets.map(async (target, index) => {
        if (!behind(target)) return;
        let restart = this.restarting.get(target.name);
        if (!restart) {
          restart = this.restartWithCredential(target, index).finally(() => this.restarting.delete(target.name));
          this.restarting.set(target.name, restart);
        }
        await restart;
      }),
    );
    // A restart that was already under way may have started with the credential before this one.
    if (this.forwarded === credential && targets.some(behind)) await this.useForwardedCredential(credential);
  }

  /** Replaces the session's process of a stdio target by one started with the user's current credential. */
  private async restartWithCredential(target: McpTarget, index: number): Promise<void> {
    const previous = this.links.get(target.name)!;
    this.links.delete(target.name);
    await previous.close(true).catch(() => undefined);
    const clientInfo = { name: 'mcp-gateway', version: this.context.gatewayVersion };
    const params = this.initializeParams ?? this.ephemeralInit ?? { protocolVersion: this.protocolVersion, capabilities: {}, clientInfo };
    const link = await this.openLink(target, index, params);
    const response = await link.request({ jsonrpc: '2.0', method: 'initialize', params });
    if (response.error) throw McpError.relayed(response.error.code, `target "${target.name}" refused initialize: ${response.error.message}`);
    link.protocolVersion = String(response.result?.protocolVersion ?? this.protocolVersion);
    link.capabilities = (response.result?.capabilities ?? {}) as Json;
    link.connection.setProtocolVersion(link.protocolVersion);
    link.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (!this.ephemeral) link.initialized();
    this.context.logger.info('stdio target restarted with the user\'s credential', { target: target.name, session: this.id || undefined });
  }

  /** Ephemeral sessions of legacy clients: the `initialize` params each target gets before the request. */
  prepareEphemeral(protocolVersion: string, handshake: boolean, meta?: Json): void {
    this.protocolVersion = protocolVersion;
    if (protocolVersion === MODERN_PROTOCOL && !handshake) {
      this.bridgeCaller = { ...callerOf(meta, this.owner, this.credentials), credentialFor: (target) => this.credentialFor(target, false) };
    }
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

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What identifies a token without keeping another copy of it. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The stdio spec with the user's credential in one environment variable. */
function withEnv(spec: StdioTarget, variable: string, token: string): StdioTarget {
  return { ...spec, env: { ...spec.env, [variable]: token } };
}
