import { createHash, randomBytes } from 'node:crypto';
import { TargetLink, type ClientCall, type RoutedLink } from './link.js';
import { prefixUri } from './names.js';
import { RequestStateSeal, type BridgedRequestState } from './request-state.js';
import type { McpTarget } from '../config/types.js';
import { INVALID_PARAMS, McpError, METHOD_NOT_FOUND } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION, META_SUBSCRIPTION_ID, MODERN_PROTOCOL } from '../protocol/versions.js';
import type { Logger } from '../telemetry/logger.js';
import { connectTarget } from '../upstream/connect.js';
import type { ClientCredentials } from '../upstream/http.js';
import type { StdioPool } from '../upstream/stdio-pool.js';
import type { UpstreamConnection } from '../upstream/types.js';

type Json = Record<string, unknown>;

/** The session-era revision the gateway speaks to a target that does not serve 2026-07-28. */
export const BRIDGED_VERSION = '2025-11-25';
/** Idle upstream sessions kept per caller and target, and how long one stays idle before it is closed. */
const MAX_IDLE_PER_KEY = 4;
const IDLE_MS = 60_000;
/** Upstream exchanges waiting for a client's input, per replica: each holds an upstream session. */
const MAX_PARKED = 1024;
/** Server requests arriving this close together are asked of the client in one input_required result. */
const GATHER_MS = 15;
/** The code session-era servers (the TypeScript SDK's) give an unknown resource. */
const RESOURCE_NOT_FOUND = -32002;

const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/** `subscriptions/listen` filters a session-era target can serve: [filter, capability, flag, notification]. */
const LISTEN_FILTERS: ReadonlyArray<readonly [string, string, string, string]> = [
  ['toolsListChanged', 'tools', 'listChanged', 'notifications/tools/list_changed'],
  ['promptsListChanged', 'prompts', 'listChanged', 'notifications/prompts/list_changed'],
  ['resourcesListChanged', 'resources', 'listChanged', 'notifications/resources/list_changed'],
];

/** Results 2026-07-28 caches (SEP-2549): a bridged one gets the most conservative hint, "do not reuse". */
const CACHEABLE = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** The client capability a server-to-client request needs; the upstream is told "not supported" without it. */
const NEEDS: Record<string, string> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };

/** Who is calling, from the request's `_meta` and token: what an upstream session is opened and reused for. */
export interface BridgeCaller {
  /** Issuer and subject of the token; undefined when anonymous (then no upstream session is ever reused). */
  readonly owner?: string;
  readonly clientCapabilities: Json;
  readonly clientInfo?: Json;
  readonly credentials: ClientCredentials;
  /**
   * The user's own credential for a target with `targets[].credential` (see credentials/DESIGN.md); it also
   * sets the header form in `credentials.targetHeaders`. Undefined when not connected.
   */
  readonly credentialFor?: (target: McpTarget) => Promise<string | undefined>;
}

/** What the bridge needs from the route: where processes come from and how long an upstream may take. */
export interface BridgeRoute {
  /** Opens a connection to a target; `connectTarget` unless a test puts a fake upstream there. */
  readonly connect?: typeof connectTarget;
  readonly routeId: string;
  readonly pool: StdioPool;
  readonly logger: Logger;
  readonly upstreamTimeoutMs: number;
  readonly gatewayVersion: string;
}

/** The caller's 2026-07-28 `_meta`, read once per request. */
export function callerOf(meta: Json | undefined, owner: string | undefined, credentials: ClientCredentials): BridgeCaller {
  const capabilities = meta?.[META_CLIENT_CAPABILITIES];
  const info = meta?.[META_CLIENT_INFO];
  return {
    owner,
    clientCapabilities: isObject(capabilities) ? capabilities : {},
    clientInfo: isObject(info) ? info : undefined,
    credentials,
  };
}

/**
 * A 2026-07-28 (stateless) client in front of a target that only speaks the session-era revisions: the
 * gateway opens upstream sessions for the caller, reuses them across the caller's requests, and turns the
 * upstream's server-to-client requests into input_required results whose sealed `requestState` brings the
 * client's retry back to the exchange that waits. See BRIDGING.md.
 */
export class UpstreamBridge {
  private readonly seal: RequestStateSeal;
  private readonly verdicts = new Map<string, Promise<boolean>>();
  private readonly idle = new Map<string, BridgedSession[]>();
  private readonly parked = new Map<string, Parked>();
  private closed = false;

  constructor(stateKey: Buffer) {
    this.seal = new RequestStateSeal(stateKey);
  }

  /**
   * Whether a target serves 2026-07-28 itself: asked once with `server/discover`. A target that answers
   * anything else (an error, HTTP 400, method not found) is bridged; one that cannot be reached is not
   * judged yet, so the request fails with the real reason and the next one asks again.
   */
  speaksModern(target: McpTarget, route: BridgeRoute, credentials: ClientCredentials): Promise<boolean> {
    if (target.sse) return Promise.resolve(false);
    const key = `${target.name}\0${JSON.stringify(target.mcp ?? target.stdio)}`;
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = probe(target, route, credentials);
      this.verdicts.set(key, verdict);
      verdict.catch(() => this.verdicts.delete(key));
    }
    return verdict.catch(() => true);
  }

  /** The router's link to a bridged target for one client request. */
  link(target: McpTarget, index: number, caller: BridgeCaller, route: BridgeRoute, prefixUris = false): RoutedLink {
    return { name: target.name, request: (message, call) => this.serve(target, index, caller, route, message, call, prefixUris) };
  }

  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.idle.values()].flat();
    for (const parked of this.parked.values()) {
      clearTimeout(parked.timer);
      sessions.push(parked.session);
    }
    this.idle.clear();
    this.parked.clear();
    await Promise.all(sessions.map((session) => session.close()));
  }

  private async serve(
    target: McpTarget,
    index: number,
    caller: BridgeCaller,
    route: BridgeRoute,
    message: JsonRpcMessage,
    call: ClientCall | undefined,
    prefixUris: boolean,
  ): Promise<JsonRpcMessage> {
    const method = message.method ?? '';
    const params: Json = { ...message.params };
    const sealed = params.requestState;
    const answers = params.inputResponses;
    delete params.requestState;
    delete params.inputResponses;
    params._meta = withoutStatelessMeta(params._meta as Json | undefined);
    if (Object.keys(params._meta as Json).length === 0) delete params._meta;
    if ('inputResponses' in (message.params ?? {}) && !isObject(answers)) {
      throw new McpError('invalid_params', 'Invalid params: inputResponses must be an object of responses by inputRequests key');
    }
    if (RequestStateSeal.isOurs(sealed)) return this.resume(sealed, answers as Json | undefined, target, caller, route, method, call);
    if (method === 'server/discover') return this.discover(target, index, caller, route, message.id);
    if (method === 'subscriptions/listen') return this.listen(target, index, caller, route, { ...message, params }, call, prefixUris);
    const session = await this.lease(target, index, caller, route);
    const exchange = new Exchange(session, session.link.request({ jsonrpc: '2.0', method, params }, call), call);
    session.exchange = exchange;
    return withResourceUri(await this.settle(exchange, { target, caller, route, method, id: message.id }), method, params.uri);
  }

  /** Waits for the exchange's next step: its answer (the session goes back for reuse) or the server's requests. */
  private async settle(exchange: Exchange, request: WaitingRequest): Promise<JsonRpcMessage> {
    let step: Awaited<ReturnType<Exchange['next']>>;
    try {
      step = await exchange.next();
    } catch (error) {
      this.release(exchange.session);
      throw error;
    }
    if ('done' in step) {
      this.release(exchange.session);
      if (step.done.error && exchange.missingCapability) {
        // 2026-07-28 names this failure: the request needs a capability the client's _meta did not declare.
        throw new McpError(
          'missing_client_capability',
          `Missing required client capability: target "${request.target.name}" needs ${exchange.missingCapability} to serve ${request.method}`,
          // The schema's shape: a ClientCapabilities object keyed by what is missing.
          { data: { requiredCapabilities: { [exchange.missingCapability]: {} } } },
        );
      }
      return completed(step.done, request.method);
    }
    if (this.parked.size >= MAX_PARKED || this.closed) {
      exchange.session.close().catch(() => undefined);
      const text = `target "${request.target.name}" asked for the client's input, and too many bridged requests are waiting for input already`;
      throw new McpError('unavailable', text);
    }
    const handle = randomBytes(18).toString('base64url');
    const keys = new Map<string, JsonRpcMessage>();
    for (const asked of step.input) keys.set(inputKey(asked, keys), asked);
    return this.park(handle, { exchange, keys, owner: request.caller.owner, method: request.method }, request);
  }

  private park(
    handle: string,
    waiting: Omit<Parked, 'timer' | 'session'>,
    request: WaitingRequest,
  ): JsonRpcMessage {
    const session = waiting.exchange.session;
    const expires = Date.now() + request.route.upstreamTimeoutMs;
    const timer = setTimeout(() => {
      this.parked.delete(handle);
      void session.close();
    }, request.route.upstreamTimeoutMs);
    timer.unref();
    session.exchange = waiting.exchange;
    this.parked.set(handle, { ...waiting, session, timer });
    const state: BridgedRequestState = {
      h: handle,
      o: waiting.owner ?? null,
      r: request.route.routeId,
      t: request.target.name,
      m: request.method,
      e: expires,
    };
    const inputRequests: Json = {};
    for (const [key, asked] of waiting.keys) {
      inputRequests[key] = asked.params === undefined ? { method: asked.method } : { method: asked.method, params: asked.params };
    }
    return { jsonrpc: '2.0', id: request.id, result: { resultType: 'input_required', inputRequests, requestState: this.seal.seal(state) } };
  }

  /** The client's retry: its answers go to the upstream requests that wait, then the exchange goes on. */
  private async resume(
    sealed: string,
    answers: Json | undefined,
    target: McpTarget,
    caller: BridgeCaller,
    route: BridgeRoute,
    method: string,
    call?: ClientCall,
  ): Promise<JsonRpcMessage> {
    const state = this.seal.open(sealed);
    if (!state || state.r !== route.routeId || state.t !== target.name || state.m !== method || state.o !== (caller.owner ?? null)) {
      const text = 'Invalid params: requestState failed its integrity check (altered, expired, or issued for another request)';
      throw new McpError('invalid_params', text);
    }
    const parked = this.parked.get(state.h);
    if (!parked) {
      throw new McpError(
        'invalid_params',
        'Invalid params: the request this requestState continues is no longer waiting (it timed out, or waits on another gateway ' +
          'replica); send the request again without requestState',
      );
    }
    this.parked.delete(state.h);
    clearTimeout(parked.timer);
    const { exchange } = parked;
    if (!exchange.session.alive) throw new McpError('unavailable', `target "${target.name}" connection closed while the request waited for input`);
    exchange.call = call;
    for (const [key, asked] of [...parked.keys]) {
      const answer = answers?.[key];
      if (answer === undefined) continue;
      parked.keys.delete(key);
      exchange.session.link.send(isObject(answer) ? { jsonrpc: '2.0', id: asked.id, result: answer } : invalidAnswer(asked));
    }
    const request = { target, caller, route, method, id: call?.clientId };
    // Answers missing: asked again, with the same exchange still waiting (SEP-2322 re-request).
    if (parked.keys.size > 0) return this.park(state.h, parked, request);
    return this.settle(exchange, request);
  }

  /**
   * `subscriptions/listen` on a session-era target: an upstream session of its own (never reused: its
   * subscriptions are this stream's), whose list-changed and resource-updated notifications become the
   * listen stream's frames, until the client leaves.
   */
  private async listen(
    target: McpTarget,
    index: number,
    caller: BridgeCaller,
    route: BridgeRoute,
    message: JsonRpcMessage,
    call: ClientCall | undefined,
    prefixUris: boolean,
  ): Promise<JsonRpcMessage> {
    const session = await BridgedSession.open(target, index, caller, route, undefined);
    try {
      const requested = isObject(message.params?.notifications) ? message.params.notifications : {};
      const capabilities = session.link.capabilities ?? {};
      const offers = (capability: string, flag: string) => (capabilities[capability] as Json | undefined)?.[flag] === true;
      const honoured: Json = {};
      const forwarded = new Set<string>();
      for (const [filter, capability, flag, method] of LISTEN_FILTERS) {
        if (requested[filter] !== true || !offers(capability, flag)) continue;
        honoured[filter] = true;
        forwarded.add(method);
      }
      const asked = requested.resourceSubscriptions;
      const uris = Array.isArray(asked) ? asked.filter((uri): uri is string => typeof uri === 'string') : [];
      if (uris.length > 0 && offers('resources', 'subscribe')) {
        honoured.resourceSubscriptions = uris;
        forwarded.add('notifications/resources/updated');
      }
      const subscriptionId = String(call?.clientId ?? message.id);
      const sink = call?.sink;
      session.listener = (notification) => {
        if (!forwarded.has(notification.method ?? '') || !sink?.open) return;
        let params: Json = { ...notification.params };
        if (notification.method === 'notifications/resources/updated') {
          if (!uris.includes(String(params.uri))) return;
          if (prefixUris) params = { ...params, uri: prefixUri(target.name, String(params.uri)) };
        }
        const tagged = { ...(params._meta as Json | undefined), [META_SUBSCRIPTION_ID]: subscriptionId };
        sink.push({ ...notification, params: { ...params, _meta: tagged } });
      };
      sink?.push({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { [META_SUBSCRIPTION_ID]: subscriptionId }, notifications: honoured },
      });
      session.link.initialized();
      for (const uri of honoured.resourceSubscriptions ? uris : []) {
        await session.link.request({ jsonrpc: '2.0', method: 'resources/subscribe', params: { uri } }).catch(() => undefined);
      }
      await new Promise<void>((resolve) => {
        const signal = call?.signal;
        if (!signal || signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        session.onLost = resolve;
      });
    } finally {
      await session.close();
    }
    return { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete' } };
  }

  private async discover(
    target: McpTarget,
    index: number,
    caller: BridgeCaller,
    route: BridgeRoute,
    id: JsonRpcMessage['id'],
  ): Promise<JsonRpcMessage> {
    const session = await this.lease(target, index, caller, route);
    this.release(session);
    const init = session.init;
    const result: Json = {
      supportedVersions: [MODERN_PROTOCOL],
      capabilities: init.capabilities ?? {},
      _meta: { [META_SERVER_INFO]: init.serverInfo },
      serverInfo: init.serverInfo,
    };
    if (typeof init.instructions === 'string') result.instructions = init.instructions;
    return completed({ jsonrpc: '2.0', id, result }, 'server/discover');
  }

  /** An idle upstream session of this caller for this target, or a new one. Anonymous callers always get a new one. */
  private async lease(target: McpTarget, index: number, caller: BridgeCaller, route: BridgeRoute): Promise<BridgedSession> {
    const token = target.credential ? await caller.credentialFor?.(target) : undefined;
    // A stdio process started with one token must not serve a call made after the user reconnected.
    const startedWith = target.stdio && target.credential?.inject.env && token !== undefined ? fingerprint(token) : undefined;
    const key = caller.owner === undefined ? undefined : sessionKey(target, caller, startedWith);
    const idle = key ? this.idle.get(key) : undefined;
    while (idle && idle.length > 0) {
      const session = idle.pop()!;
      if (idle.length === 0) this.idle.delete(key!);
      session.stopIdling();
      if (!session.alive) continue;
      session.credentials.bearer = caller.credentials.bearer;
      session.credentials.targetHeaders = caller.credentials.targetHeaders;
      return session;
    }
    return BridgedSession.open(target, index, caller, route, key, token);
  }

  private release(session: BridgedSession): void {
    session.exchange = undefined;
    if (!session.key || !session.alive || this.closed) {
      void session.close();
      return;
    }
    const idle = this.idle.get(session.key) ?? [];
    if (idle.length >= MAX_IDLE_PER_KEY) {
      void session.close();
      return;
    }
    idle.push(session);
    this.idle.set(session.key, idle);
    session.idleFor(IDLE_MS, () => {
      const list = this.idle.get(session.key!);
      const at = list?.indexOf(session) ?? -1;
      if (at >= 0) list!.splice(at, 1);
      if (list?.length === 0) this.idle.delete(session.key!);
      void session.close();
    });
  }
}

/** The client request an exchange answers: what its answer and its requestState are made of. */
interface WaitingRequest {
  readonly target: McpTarget;
  readonly caller: BridgeCaller;
  readonly route: BridgeRoute;
  readonly method: string;
  readonly id: JsonRpcMessage['id'];
}

interface Parked {
  readonly exchange: Exchange;
  readonly session: BridgedSession;
  /** The upstream's requests still waiting for the client's answer, by inputRequests key. */
  readonly keys: Map<string, JsonRpcMessage>;
  readonly owner?: string;
  readonly method: string;
  readonly timer: NodeJS.Timeout;
}

/** One upstream session opened by the gateway on a 2026-07-28 caller's behalf; serves one exchange at a time. */
class BridgedSession {
  exchange?: Exchange;
  /** A listen stream's: every notification from the upstream. */
  listener?: (notification: JsonRpcMessage) => void;
  onLost?: () => void;
  private idleTimer?: NodeJS.Timeout;

  private constructor(
    readonly link: TargetLink,
    readonly init: Json,
    readonly credentials: ClientCredentials,
    readonly key: string | undefined,
    private readonly caller: BridgeCaller,
  ) {}

  static async open(
    target: McpTarget,
    index: number,
    caller: BridgeCaller,
    route: BridgeRoute,
    key: string | undefined,
    token?: string,
  ): Promise<BridgedSession> {
    const credentials: ClientCredentials = { bearer: caller.credentials.bearer, targetHeaders: caller.credentials.targetHeaders };
    const initialize: Json = {
      protocolVersion: BRIDGED_VERSION,
      capabilities: caller.clientCapabilities,
      clientInfo: caller.clientInfo ?? { name: 'mcp-gateway', version: route.gatewayVersion },
    };
    const variable = target.credential?.inject.env;
    const connection: UpstreamConnection =
      target.stdio && variable && token !== undefined
        ? // As in McpSession.openLink: never from the warm pool, never back to it (the process carries one user's token).
        await route.pool.spawn(target.name, { ...target.stdio, env: { ...target.stdio.env, [variable]: token } })
        : await (route.connect ?? connectTarget)(target, { pool: route.pool, logger: route.logger, credentials, initialize });
    let session: BridgedSession | undefined;
    const link = new TargetLink(index, target.name, connection, route.upstreamTimeoutMs, {
      upstreamMessage: (_from, message) => session?.fromUpstream(message),
      lost: () => {
        session?.exchange?.wake();
        session?.onLost?.();
      },
    });
    try {
      const ready = connection.initialized;
      const response: JsonRpcMessage = ready
        ? { jsonrpc: '2.0', id: 0, result: structuredClone(ready) }
        : await link.request({ jsonrpc: '2.0', method: 'initialize', params: initialize });
      if (response.error) throw McpError.relayed(response.error.code, `target "${target.name}" refused initialize: ${response.error.message}`);
      const init = response.result ?? {};
      link.protocolVersion = typeof init.protocolVersion === 'string' ? init.protocolVersion : BRIDGED_VERSION;
      link.capabilities = isObject(init.capabilities) ? init.capabilities : {};
      connection.setProtocolVersion(link.protocolVersion);
      if (!ready) link.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      session = new BridgedSession(link, init, credentials, key, caller);
      return session;
    } catch (error) {
      await link.close(true).catch(() => undefined);
      throw error;
    }
  }

  get alive(): boolean {
    return this.link.alive;
  }

  /** Server-to-client requests go to the exchange (or are refused); notifications to the client's response stream. */
  private fromUpstream(message: JsonRpcMessage): void {
    if (message.id !== undefined && message.id !== null) {
      if (message.method === 'ping') {
        this.link.send({ jsonrpc: '2.0', id: message.id, result: {} });
        return;
      }
      const needs = NEEDS[message.method ?? ''];
      if (needs && this.exchange && this.caller.clientCapabilities[needs] === undefined) this.exchange.missingCapability = needs;
      if (!needs || this.caller.clientCapabilities[needs] === undefined || !this.exchange) {
        // Nobody could answer it: the upstream hears so at once instead of waiting for its timeout.
        const text = `Method not found: the client does not support ${message.method}`;
        this.link.send({ jsonrpc: '2.0', id: message.id, error: { code: METHOD_NOT_FOUND, message: text } });
        return;
      }
      this.exchange.ask(message);
      return;
    }
    if (this.listener) {
      this.listener(message);
      return;
    }
    const sink = this.exchange?.call?.sink;
    if (sink?.open && message.method !== 'notifications/cancelled') sink.push(message);
  }

  idleFor(ms: number, expire: () => void): void {
    this.idleTimer = setTimeout(expire, ms);
    this.idleTimer.unref();
  }

  stopIdling(): void {
    clearTimeout(this.idleTimer);
  }

  async close(): Promise<void> {
    this.stopIdling();
    await this.link.close(true).catch(() => undefined);
  }
}

/** One client request in flight upstream, across however many input rounds it takes. */
class Exchange {
  /** A capability the upstream asked the client for and the client did not declare. */
  missingCapability?: string;
  private readonly asked: JsonRpcMessage[] = [];
  private answer?: JsonRpcMessage;
  private failure?: Error;
  private waiter?: () => void;

  constructor(
    readonly session: BridgedSession,
    response: Promise<JsonRpcMessage>,
    /** The client request currently waiting on it: the first, then each retry. */
    public call: ClientCall | undefined,
  ) {
    response.then(
      (answer) => {
        this.answer = answer;
        this.wake();
      },
      (error: Error) => {
        this.failure = error;
        this.wake();
      },
    );
  }

  ask(request: JsonRpcMessage): void {
    this.asked.push(request);
    this.wake();
  }

  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** The upstream's answer, or the requests it sent meanwhile (gathered briefly, so concurrent ones go together). */
  async next(): Promise<{ done: JsonRpcMessage } | { input: JsonRpcMessage[] }> {
    for (;;) {
      if (this.answer) return { done: this.answer };
      if (this.failure) throw this.failure;
      if (!this.session.alive) throw new McpError('unavailable', `target "${this.session.link.name}" connection closed`);
      if (this.asked.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
        if (this.answer) return { done: this.answer };
        return { input: this.asked.splice(0) };
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}

async function probe(target: McpTarget, route: BridgeRoute, credentials: ClientCredentials): Promise<boolean> {
  const connect = route.connect ?? connectTarget;
  const probeCredentials: ClientCredentials = { bearer: credentials.bearer, targetHeaders: credentials.targetHeaders };
  const connection = await connect(target, { pool: route.pool, logger: route.logger, credentials: probeCredentials });
  const link = new TargetLink(0, target.name, connection, route.upstreamTimeoutMs, { upstreamMessage: () => undefined, lost: () => undefined });
  link.protocolVersion = MODERN_PROTOCOL;
  connection.setProtocolVersion(MODERN_PROTOCOL);
  try {
    const response = await link.request({
      jsonrpc: '2.0',
      method: 'server/discover',
      params: {
        _meta: {
          [META_PROTOCOL_VERSION]: MODERN_PROTOCOL,
          [META_CLIENT_CAPABILITIES]: {},
          [META_CLIENT_INFO]: { name: 'mcp-gateway', version: route.gatewayVersion },
        },
      },
    });
    const versions = response.result?.supportedVersions;
    return Array.isArray(versions) && versions.includes(MODERN_PROTOCOL);
  } catch (error) {
    // An answer of any kind (HTTP 4xx, a JSON-RPC error) says what the target is; no answer says nothing.
    if (error instanceof McpError && (error.kind === 'relayed' || /upstream answered HTTP/.test(error.message))) return false;
    throw error;
  } finally {
    await link.close(true).catch(() => undefined);
  }
}

/** A bridged result as 2026-07-28 shapes it: `resultType`, and caching hints that forbid reuse. */
function completed(response: JsonRpcMessage, method: string): JsonRpcMessage {
  if (!response.result) return response;
  const result: Json = { ...response.result, resultType: response.result.resultType ?? 'complete' };
  if (CACHEABLE.has(method)) {
    result.ttlMs ??= 0;
    result.cacheScope ??= 'private';
  }
  return { ...response, result };
}

/** SEP-2164: a 2026-07-28 "resource not found" names the URI in `error.data.uri`; a session-era server's may not. */
function withResourceUri(response: JsonRpcMessage, method: string, uri: unknown): JsonRpcMessage {
  const error = response.error;
  const notFound = error?.code === INVALID_PARAMS || error?.code === RESOURCE_NOT_FOUND;
  if (!error || !notFound || method !== 'resources/read' || typeof uri !== 'string') return response;
  const data = isObject(error.data) ? error.data : {};
  if (data.uri !== undefined) return response;
  return { ...response, error: { ...error, data: { ...data, uri } } };
}

function withoutStatelessMeta(meta: Json | undefined): Json {
  const kept: Json = { ...meta };
  for (const key of [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES, META_CLIENT_INFO]) delete kept[key];
  return kept;
}

function sessionKey(target: McpTarget, caller: BridgeCaller, startedWith: string | undefined): string {
  const capabilities = Object.keys(caller.clientCapabilities).sort();
  return JSON.stringify([caller.owner, target.name, capabilities, caller.clientInfo?.name ?? null, startedWith ?? null]);
}

/** What identifies a token without keeping another copy of it. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Keys name the kind of input (`sampling-1`), so a client log reads well; the number keeps them apart. */
function inputKey(request: JsonRpcMessage, taken: ReadonlyMap<string, unknown>): string {
  const base = (request.method ?? 'input').split('/')[0];
  let n = taken.size + 1;
  while (taken.has(`${base}-${n}`)) n++;
  return `${base}-${n}`;
}

function invalidAnswer(asked: JsonRpcMessage): JsonRpcMessage {
  return { jsonrpc: '2.0', id: asked.id, error: { code: INVALID_PARAMS, message: `the client's answer to ${asked.method} was not a result object` } };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
