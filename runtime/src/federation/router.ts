import type { ClientCall, RoutedLink } from './link.js';
import { mergeInitialize } from './merge.js';
import { decodeCursor, encodeCursor, prefixName, prefixUri, splitName, splitUri } from './names.js';
import type { McpAuthorizer, RequestFacts, ResourceRef } from '../authz/index.js';
import type { ResolvedBackend } from '../config/model.js';
import type { McpTarget } from '../config/types.js';
import { INVALID_PARAMS, McpError, METHOD_NOT_FOUND } from '../protocol/errors.js';
import { errorResponse, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { metaProtocolVersion, MODERN_PROTOCOL } from '../protocol/versions.js';
import type { Logger } from '../telemetry/logger.js';
import type { Telemetry } from '../telemetry/telemetry.js';

type Json = Record<string, unknown>;

/** Pages fetched per target when `prefixMode: never` must find which target owns a name. */
const MAX_RESOLVE_PAGES = 64;

interface ListMethod {
  readonly key: string;
  readonly kind: ResourceRef['kind'];
  readonly field: 'name' | 'uri' | 'uriTemplate';
  /** Server capability that announces the list; targets without it are not asked. */
  readonly capability: string;
}

const LIST_METHODS: Record<string, ListMethod> = {
  'tools/list': { key: 'tools', kind: 'tool', field: 'name', capability: 'tools' },
  'prompts/list': { key: 'prompts', kind: 'prompt', field: 'name', capability: 'prompts' },
  'resources/list': { key: 'resources', kind: 'resource', field: 'uri', capability: 'resources' },
  'resources/templates/list': { key: 'resourceTemplates', kind: 'resource', field: 'uriTemplate', capability: 'resources' },
};

const NAMED_METHODS: Record<string, { kind: ResourceRef['kind']; field: 'name' | 'uri' }> = {
  'tools/call': { kind: 'tool', field: 'name' },
  'prompts/get': { kind: 'prompt', field: 'name' },
  'resources/read': { kind: 'resource', field: 'uri' },
  'resources/subscribe': { kind: 'resource', field: 'uri' },
  'resources/unsubscribe': { kind: 'resource', field: 'uri' },
};

/**
 * Every request a client may send, across the protocol revisions served (`server/discover`: 2026-07-28).
 * Anything else (`Tools/Call`, vendor methods) is answered "method not found" here: an upstream that is
 * lenient about names would otherwise act on a call authorization never looked at.
 */
const CLIENT_REQUESTS = new Set([
  'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list',
  'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'completion/complete', 'logging/setLevel',
  'tasks/get', 'tasks/list', 'tasks/result', 'tasks/cancel', 'server/discover', 'subscriptions/listen',
]);

/**
 * 2026-07-28 answers a method it does not know with HTTP 404 too (SEP-2575); the session-era revisions keep
 * 200, since a 404 there tells the client its session is gone.
 */
function methodNotFound(message: JsonRpcMessage): JsonRpcMessage {
  const text = `Method not found: ${message.method}`;
  if (metaProtocolVersion(message.params) === MODERN_PROTOCOL) throw new McpError('unknown_method', text);
  return errorResponse(message.id, METHOD_NOT_FOUND, text);
}

/**
 * Requests 2026-07-28 removed (SEP-2575): answered HTTP 404/-32601 by the gateway itself, since a target it
 * bridges to a session-era revision would still serve them.
 */
const REMOVED_IN_MODERN = new Set(['ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** The `subscriptions/listen` filter fields, and the server capability flag each one needs. */
const LISTEN_FILTERS: ReadonlyArray<readonly [string, string, string]> = [
  ['toolsListChanged', 'tools', 'listChanged'],
  ['promptsListChanged', 'prompts', 'listChanged'],
  ['resourcesListChanged', 'resources', 'listChanged'],
  ['resourceSubscriptions', 'resources', 'subscribe'],
];

/** Notifications a client may send; others (`tools/call` without an id…) are dropped, never forwarded. */
export const CLIENT_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed', 'notifications/tasks/status',
]);

/** One target and no forced prefix: names, URIs and unknown methods pass through untouched. */
export function isPassthrough(backend: ResolvedBackend): boolean {
  return backend.targets.length === 1 && backend.prefixMode !== 'always';
}

/** What the router needs from a session: its route settings and a link per target. */
export interface RoutingHost {
  readonly context: {
    readonly routeName: string;
    readonly backend: ResolvedBackend;
    readonly authorizer?: McpAuthorizer;
    readonly logger: Logger;
    readonly gatewayVersion: string;
    readonly telemetry: Telemetry;
  };
  linkFor(target: McpTarget, index: number): Promise<RoutedLink>;
  /**
   * Before a call reaches a target that needs the user's own credential: undefined when it may go on (the
   * credential is in place), else the answer for the client (a URL elicitation, see credentials/DESIGN.md).
   */
  ensureCredential?(target: McpTarget, index: number, message: JsonRpcMessage, facts: RequestFacts): Promise<JsonRpcMessage | undefined>;
}

/**
 * Decides where each client request goes and what its answer looks like: pass-through for a lone target;
 * for several, prefixed names and URIs, merged lists with composite cursors, fan-out, and authorization
 * that makes a denied item indistinguishable from a missing one.
 */
export class Router {
  constructor(private readonly host: RoutingHost) {}

  private get context(): RoutingHost['context'] {
    return this.host.context;
  }

  private linkFor(target: McpTarget, index: number): Promise<RoutedLink> {
    return this.host.linkFor(target, index);
  }

  async route(message: JsonRpcMessage, call: ClientCall, facts: RequestFacts): Promise<JsonRpcMessage> {
    const method = message.method!;
    const list = LIST_METHODS[method];
    const named = NAMED_METHODS[method];
    if (!CLIENT_REQUESTS.has(method)) return methodNotFound(message);
    if (isModern(message) && REMOVED_IN_MODERN.has(method)) return methodNotFound(message);
    if (isPassthrough(this.context.backend)) {
      const target = this.context.backend.targets[0];
      const asked = named
        ? { kind: named.kind, name: String(message.params?.[named.field] ?? '') }
        : method === 'completion/complete'
          ? completionRef(message)
          : undefined;
      if (asked && this.context.authorizer && !this.allows({ ...asked, target: target.name }, facts)) {
        call.denied = true;
        return unknownResource(message, asked.kind, asked.name);
      }
      const refusal = named ? await this.host.ensureCredential?.(target, 0, message, facts) : undefined;
      if (refusal) return refusal;
      const link = await this.linkFor(target, 0);
      const response = await this.forward(link, message, call);
      if (list && Array.isArray(response.result?.[list.key])) this.noteListed(link.name, list, response.result[list.key] as Json[]);
      if (list && this.context.authorizer && response.result) {
        const items = response.result[list.key];
        if (Array.isArray(items)) {
          response.result = {
            ...response.result,
            [list.key]: items.filter((item: Json) => this.allows({ kind: list.kind, name: String(item[list.field]), target: link.name }, facts)),
          };
        }
      }
      return response;
    }
    if (list) return this.listMerged(message, list, call, facts);
    if (named) return this.callNamed(message, named, call, facts);
    switch (method) {
      case 'ping':
        return { jsonrpc: '2.0', id: message.id, result: {} };
      case 'completion/complete':
        return this.complete(message, call, facts);
      case 'logging/setLevel':
        await this.fanOut(message, call);
        return { jsonrpc: '2.0', id: message.id, result: {} };
      case 'server/discover':
        return this.discover(message, call);
      case 'subscriptions/listen':
        return this.listen(message, call);
      default:
        return methodNotFound(message);
    }
  }

  private async forward(link: RoutedLink, message: JsonRpcMessage, call: ClientCall): Promise<JsonRpcMessage> {
    const response = await link.request(message, call);
    response.id = message.id;
    return response;
  }

  /** Names a target listed are the names metrics may label calls with. */
  private noteListed(target: string, list: ListMethod, items: readonly Json[]): void {
    if (list.field === 'uriTemplate' || !this.context.telemetry.namesListed) return;
    const names = items.map((item) => item[list.field]).filter((name): name is string => typeof name === 'string');
    this.context.telemetry.namesListed(this.context.routeName, target, list.kind as 'tool' | 'prompt' | 'resource', names);
  }

  private allows(resource: ResourceRef, facts: RequestFacts): boolean {
    return this.context.authorizer ? this.context.authorizer.allows(resource, facts) : true;
  }

  private async callNamed(
    message: JsonRpcMessage,
    named: { kind: ResourceRef['kind']; field: 'name' | 'uri' },
    call: ClientCall,
    facts: RequestFacts,
  ): Promise<JsonRpcMessage> {
    const sent = String(message.params?.[named.field] ?? '');
    const owner = named.field === 'uri' ? this.ownerOfUri(sent) : await this.ownerOfName(sent, named.kind, call);
    if (owner) {
      call.target = owner.target.name;
      call.name = owner.name;
    }
    if (!owner || !this.allows({ kind: named.kind, name: owner.name, target: owner.target.name }, facts)) {
      call.denied = owner !== undefined;
      return unknownResource(message, named.kind, sent);
    }
    const refusal = await this.host.ensureCredential?.(owner.target, owner.index, message, facts);
    if (refusal) return refusal;
    const link = await this.linkFor(owner.target, owner.index);
    const response = await this.forward(link, { ...message, params: { ...message.params, [named.field]: owner.name } }, call);
    if (response.result) prefixContentUris(response.result, link.name);
    const data = response.error?.data as Json | undefined;
    // SEP-2164's error.data.uri names what the client asked for: the prefixed URI.
    if (named.field === 'uri' && data?.uri === owner.name) response.error = { ...response.error!, data: { ...data, uri: sent } };
    return response;
  }

  private async complete(message: JsonRpcMessage, call: ClientCall, facts: RequestFacts): Promise<JsonRpcMessage> {
    const ref = (message.params?.ref ?? {}) as Json;
    const { kind, name: sent } = completionRef(message);
    const isPrompt = kind === 'prompt';
    const owner = isPrompt ? await this.ownerOfName(sent, 'prompt', call) : this.ownerOfUri(sent);
    if (owner) call.target = owner.target.name;
    if (!owner || !this.allows({ kind, name: owner.name, target: owner.target.name }, facts)) {
      call.denied = owner !== undefined;
      return unknownResource(message, kind, sent);
    }
    const link = await this.linkFor(owner.target, owner.index);
    const upstreamRef = isPrompt ? { ...ref, name: owner.name } : { ...ref, uri: owner.name };
    return this.forward(link, { ...message, params: { ...message.params, ref: upstreamRef } }, call);
  }

  /** Sends `message` to every target; the answers of those that answered, by target name. */
  private async fanOut(message: JsonRpcMessage, call: ClientCall): Promise<Array<{ name: string; answer: JsonRpcMessage }>> {
    const { targets, failureMode } = this.context.backend;
    const outcomes = await Promise.allSettled(targets.map(async (target, index) => (await this.linkFor(target, index)).request(message, call)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed && failureMode === 'failClosed') throw failed.reason;
    return outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [{ name: targets[index].name, answer: outcome.value }] : []));
  }

  /**
   * 2026-07-28 discovery of a federated server: the versions every target speaks, the union of their
   * capabilities. Any target's error is returned as is, so the client falls back to `initialize`.
   */
  private async discover(message: JsonRpcMessage, call: ClientCall): Promise<JsonRpcMessage> {
    const answers = await this.fanOut(message, call);
    const failed = answers.find(({ answer }) => answer.error);
    if (failed || answers.length === 0) {
      return { ...(failed?.answer ?? errorResponse(message.id, METHOD_NOT_FOUND, 'Method not found: server/discover')), id: message.id };
    }
    const versionLists = answers.map(({ answer }) =>
      Array.isArray(answer.result?.supportedVersions) ? (answer.result!.supportedVersions as string[]) : [],
    );
    const supportedVersions = versionLists[0].filter((version) => versionLists.every((list) => list.includes(version)));
    const merged = mergeInitialize(
      answers.map(({ name, answer }) => ({ name, result: answer.result ?? {} })),
      supportedVersions[0] ?? '',
      this.context.backend,
      this.context.gatewayVersion,
    );
    const result: Json = {
      ...merged,
      supportedVersions,
      // Spec PR #3002: the server's identity travels in the result's _meta.
      _meta: { 'io.modelcontextprotocol/serverInfo': merged.serverInfo },
      resultType: 'complete',
      ...mergeCacheHints(answers.map(({ answer }) => answer.result ?? {})),
    };
    delete result.protocolVersion;
    return { jsonrpc: '2.0', id: message.id, result };
  }

  /**
   * One client listen stream over every target's: each target's listen runs on this call, so its frames
   * reach the client tagged with the client's subscription id (session.ts); the targets' own
   * acknowledgements are dropped for this one, which names the filters some target can honour.
   */
  private async listen(message: JsonRpcMessage, call: ClientCall): Promise<JsonRpcMessage> {
    const { targets, failureMode } = this.context.backend;
    const opened = await Promise.allSettled(targets.map((target, index) => this.linkFor(target, index)));
    const failed = opened.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed && failureMode === 'failClosed') throw failed.reason;
    const links = opened.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const requested = (message.params?.notifications ?? {}) as Json;
    const honoured: Json = {};
    for (const [filter, capability, flag] of LISTEN_FILTERS) {
      const wanted = requested[filter];
      if (wanted === undefined || wanted === false) continue;
      // A target whose capabilities are unknown (a bridged one) may honour it; it drops what it cannot.
      if (links.some((link) => !link.capabilities || (link.capabilities[capability] as Json | undefined)?.[flag] === true)) honoured[filter] = wanted;
    }
    call.sink.push({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { [SUBSCRIPTION_ID]: String(call.clientId) }, notifications: honoured },
    });
    const quiet: ClientCall = {
      ...call,
      sink: {
        push: (frame) => {
          if (frame.method !== 'notifications/subscriptions/acknowledged') call.sink.push(frame);
        },
        finish: () => undefined,
        get open() {
          return call.sink.open;
        },
      },
    };
    // The streams end when the client leaves (its session closes the links) or a target ends its own.
    await Promise.allSettled(links.map((link) => link.request(listenFor(message, link.name), quiet)));
    return { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete' } };
  }

  private ownerOfUri(uri: string): { target: McpTarget; index: number; name: string } | undefined {
    const split = splitUri(uri);
    if (!split) return undefined;
    const index = this.context.backend.targets.findIndex((target) => target.name === split.target);
    return index < 0 ? undefined : { target: this.context.backend.targets[index], index, name: split.uri };
  }

  private async ownerOfName(
    name: string,
    kind: ResourceRef['kind'],
    call: ClientCall,
  ): Promise<{ target: McpTarget; index: number; name: string } | undefined> {
    const { targets, prefixMode } = this.context.backend;
    if (prefixMode !== 'never') {
      const split = splitName(name);
      if (!split) return undefined;
      const index = targets.findIndex((target) => target.name === split.target);
      return index < 0 ? undefined : { target: targets[index], index, name: split.name };
    }
    // Unprefixed names: ask every target which one serves it; a name served twice is refused, not guessed.
    const method = kind === 'tool' ? 'tools/list' : 'prompts/list';
    const key = kind === 'tool' ? 'tools' : 'prompts';
    const owners: number[] = [];
    await Promise.all(
      targets.map(async (target, index) => {
        const link = await this.linkFor(target, index).catch(() => undefined);
        if (!link) return;
        let cursor: unknown;
        for (let page = 0; page < MAX_RESOLVE_PAGES; page++) {
          const response = await link.request({ jsonrpc: '2.0', method, params: cursor ? { cursor } : {} }, call).catch(() => undefined);
          const items = response?.result?.[key];
          if (!Array.isArray(items)) return;
          if (items.some((item: Json) => item.name === name)) {
            owners.push(index);
            return;
          }
          cursor = response?.result?.nextCursor;
          if (!cursor) return;
        }
      }),
    );
    if (owners.length > 1) {
      throw new McpError('invalid_params', `${kind} ${name} is served by several targets: ${owners.map((i) => targets[i].name).join(', ')}`);
    }
    return owners.length === 1 ? { target: targets[owners[0]], index: owners[0], name } : undefined;
  }

  /**
   * Merged list with pagination kept: the cursor names a target and that target's own cursor. A page
   * holds the items of consecutive targets up to the first one that has more pages.
   */
  private async listMerged(message: JsonRpcMessage, list: ListMethod, call: ClientCall, facts: RequestFacts): Promise<JsonRpcMessage> {
    const { targets, failureMode, prefixMode } = this.context.backend;
    const sentCursor = message.params?.cursor;
    let position = { target: 0, cursor: undefined as string | undefined };
    if (sentCursor !== undefined) {
      const decoded = typeof sentCursor === 'string' ? decodeCursor(sentCursor) : undefined;
      if (!decoded || decoded.target >= targets.length) return errorResponse(message.id, INVALID_PARAMS, 'Invalid cursor');
      position = { target: decoded.target, cursor: decoded.cursor };
    }
    const pages = targets.slice(position.target).map(async (target, offset) => {
      const index = position.target + offset;
      const link = await this.linkFor(target, index);
      if (link.capabilities && link.capabilities[list.capability] === undefined) return { index, link, result: {} as Json };
      const params: Json = { ...message.params };
      delete params.cursor;
      if (offset === 0 && position.cursor !== undefined) params.cursor = position.cursor;
      const response = await link.request({ jsonrpc: '2.0', method: message.method, params }, call);
      // A target that does not serve this kind of list simply contributes nothing.
      if (response.error?.code === METHOD_NOT_FOUND) return { index, link, result: {} as Json };
      if (response.error) throw McpError.relayed(response.error.code, `target "${target.name}": ${response.error.message}`);
      return { index, link, result: response.result ?? {} };
    });
    const items: Json[] = [];
    const hints: Json[] = [];
    let nextCursor: string | undefined;
    for (const [offset, page] of pages.entries()) {
      let outcome: Awaited<(typeof pages)[number]>;
      try {
        outcome = await page;
      } catch (error) {
        if (failureMode === 'failClosed') {
          for (const rest of pages.slice(offset + 1)) rest.catch(() => undefined);
          throw error;
        }
        this.context.logger.warn('target skipped in list (failOpen)', {
          method: message.method,
          target: targets[position.target + offset].name,
          error,
        });
        continue;
      }
      hints.push(outcome.result);
      const upstreamItems = outcome.result[list.key];
      if (Array.isArray(upstreamItems)) {
        this.noteListed(outcome.link.name, list, upstreamItems as Json[]);
        for (const item of upstreamItems as Json[]) {
          const original = String(item[list.field]);
          if (!this.allows({ kind: list.kind, name: original, target: outcome.link.name }, facts)) continue;
          const exposed =
            list.field === 'name'
              ? prefixMode === 'never'
                ? original
                : prefixName(outcome.link.name, original)
              : prefixUri(outcome.link.name, original);
          items.push({ ...item, [list.field]: exposed });
        }
      }
      if (typeof outcome.result.nextCursor === 'string') {
        nextCursor = encodeCursor({ target: outcome.index, cursor: outcome.result.nextCursor });
        for (const rest of pages.slice(offset + 1)) rest.catch(() => undefined);
        break;
      }
    }
    const result: Json = { [list.key]: items };
    if (nextCursor) result.nextCursor = nextCursor;
    if (isModern(message)) Object.assign(result, { resultType: 'complete' }, mergeCacheHints(hints));
    return { jsonrpc: '2.0', id: message.id, result };
  }
}

/** A target's own listen request: the resource subscriptions that name its URIs, un-prefixed. */
function listenFor(message: JsonRpcMessage, target: string): JsonRpcMessage {
  const notifications = message.params?.notifications as Json | undefined;
  const uris = notifications?.resourceSubscriptions;
  if (!Array.isArray(uris)) return message;
  const own = uris.flatMap((uri) => {
    const split = typeof uri === 'string' ? splitUri(uri) : undefined;
    return split?.target === target ? [split.uri] : [];
  });
  return { ...message, params: { ...message.params, notifications: { ...notifications, resourceSubscriptions: own } } };
}

function isModern(message: JsonRpcMessage): boolean {
  return message.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === MODERN_PROTOCOL;
}

/**
 * SEP-2549 caching hints of a merged result: the shortest `ttlMs` of the parts and `private` if any part
 * is, none at all when a part gave none (a cache may then not reuse the whole).
 */
export function mergeCacheHints(parts: readonly Json[]): Json {
  if (parts.length === 0 || parts.some((part) => typeof part.ttlMs !== 'number')) return {};
  const ttlMs = Math.min(...parts.map((part) => part.ttlMs as number));
  const cacheScope = parts.every((part) => part.cacheScope === 'public') ? 'public' : 'private';
  return { ttlMs, cacheScope };
}

/** What a `completion/complete` completes: a prompt's argument, or a resource template's (authorized as the resource). */
function completionRef(message: JsonRpcMessage): { kind: 'prompt' | 'resource'; name: string } {
  const ref = (message.params?.ref ?? {}) as Json;
  return ref.type === 'ref/prompt' ? { kind: 'prompt', name: String(ref.name ?? '') } : { kind: 'resource', name: String(ref.uri ?? '') };
}

function unknownResource(message: JsonRpcMessage, kind: ResourceRef['kind'], name: string): JsonRpcMessage {
  const label = kind === 'resource' ? 'Unknown resource' : kind === 'prompt' ? 'Unknown prompt' : 'Unknown tool';
  return errorResponse(message.id, INVALID_PARAMS, `${label}: ${name}`);
}

/** Resource links in tool results and read contents point at upstream URIs; make them readable through us. */
function prefixContentUris(result: Json, target: string): void {
  for (const key of ['content', 'contents']) {
    const items = result[key];
    if (!Array.isArray(items)) continue;
    result[key] = items.map((item: Json) => {
      if (typeof item.uri === 'string') return { ...item, uri: prefixUri(target, item.uri) };
      const resource = item.resource as Json | undefined;
      if (resource && typeof resource.uri === 'string') return { ...item, resource: { ...resource, uri: prefixUri(target, resource.uri) } };
      return item;
    });
  }
}
