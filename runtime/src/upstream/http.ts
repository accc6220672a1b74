import { readFileSync } from 'node:fs';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConnection } from './types.js';
import type { TargetPolicies } from '../config/types.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { MODERN_PROTOCOL } from '../protocol/versions.js';
import type { Logger } from '../telemetry/logger.js';

const MAX_LOGGED_ERROR_CHARS = 500;

/** The caller's bearer token, updated on every request so `backendAuth.passthrough` forwards the current one. */
export interface ClientCredentials {
  bearer?: string;
  /** The user's own credential per target (`targets[].credential`), set before each request that needs it. */
  targetHeaders?: Record<string, { readonly name: string; readonly value: string }>;
}

export interface HttpConnectOptions {
  readonly target: string;
  readonly kind: 'mcp' | 'sse';
  readonly url: string;
  readonly policies?: TargetPolicies;
  readonly credentials: ClientCredentials;
  readonly logger: Logger;
  /** Resume an upstream session created by another replica (Streamable HTTP only): no new initialize. */
  readonly resume?: { readonly sessionId: string; readonly protocolVersion: string };
}

/**
 * Streamable HTTP or legacy SSE upstream, through the SDK's client transports.
 *
 * The standalone GET stream is opened by the gateway itself, right after the upstream answered
 * `initialize` and before anything else is sent: a server that sends a request on it when it sees
 * `notifications/initialized` (roots/list is typical) would otherwise send it while no stream is open,
 * and the server drops it. The SDK's own attempt, after `notifications/initialized`, is answered
 * locally with 405 (its "no stream offered" case) while ours is open, so no second GET reaches the
 * server (servers answer a second one with 409).
 */
export class HttpConnection implements UpstreamConnection {
  onclose?: (reason: Error) => void;
  private receiver?: (message: JsonRpcMessage) => void;
  /** Messages that arrived before anyone listened (a resumed session's stream opens first); none is dropped. */
  private readonly early: JsonRpcMessage[] = [];
  private closed = false;
  private standalone?: Promise<void>;
  /** The SDK opens a GET stream after `notifications/initialized`; with ours open, that one is declined. */
  private declineNextStream = false;

  private constructor(
    readonly target: string,
    readonly kind: 'mcp' | 'sse',
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {
    transport.onmessage = (message) => {
      if (this.receiver) this.receiver(message as JsonRpcMessage);
      else this.early.push(message as JsonRpcMessage);
    };
    transport.onerror = (error) => {
      // The message may quote the upstream's error body: kept short (the logger redacts the rest).
      if (!this.closed) logger.warn('upstream transport error', { target, error: error.message.slice(0, MAX_LOGGED_ERROR_CHARS) });
    };
    transport.onclose = () => {
      if (this.closed) return;
      this.closed = true;
      this.onclose?.(new Error(`upstream "${target}" closed the connection`));
    };
  }

  get onmessage(): ((message: JsonRpcMessage) => void) | undefined {
    return this.receiver;
  }

  set onmessage(receiver: ((message: JsonRpcMessage) => void) | undefined) {
    this.receiver = receiver;
    if (receiver) for (const message of this.early.splice(0)) receiver(message);
  }

  static async start(options: HttpConnectOptions): Promise<HttpConnection> {
    let connection: HttpConnection | undefined;
    const withPolicies = policyFetch(options);
    const fetchWithPolicies: typeof fetch = (input, init) => {
      // The SDK's own standalone GET after notifications/initialized, while ours is open: declined here.
      if (init?.method === 'GET' && connection?.declineNextStream && !new Headers(init.headers).has('last-event-id')) {
        connection.declineNextStream = false;
        return Promise.resolve(new Response(null, { status: 405 }));
      }
      const answer = withPolicies(input, init);
      return init?.method === 'POST' && new Headers(init.headers).get('mcp-protocol-version') === MODERN_PROTOCOL
        ? answer.then(framesAsEvents)
        : answer;
    };
    const url = new URL(options.url);
    const transport: Transport =
      options.kind === 'mcp'
        ? new StreamableHTTPClientTransport(url, {
          fetch: fetchWithPolicies,
          sessionId: options.resume?.sessionId,
          // Reconnecting is the client's job; a broken upstream stream is reported instead of retried forever.
          reconnectionOptions: { initialReconnectionDelay: 500, maxReconnectionDelay: 5000, reconnectionDelayGrowFactor: 2, maxRetries: 2 },
        })
        : new SSEClientTransport(url, { fetch: fetchWithPolicies });
    connection = new HttpConnection(options.target, options.kind, transport, options.logger);
    await transport.start();
    if (options.resume) {
      transport.setProtocolVersion?.(options.resume.protocolVersion);
      void connection.openStream();
    }
    return connection;
  }

  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (message.method === 'notifications/initialized' && this.standalone) this.declineNextStream = true;
    await this.transport.send(message as JSONRPCMessage);
  }

  setProtocolVersion(version: string): void {
    this.transport.setProtocolVersion?.(version);
  }

  async close(terminate = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (terminate && this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId) {
      await this.transport.terminateSession().catch((error: Error) => this.logger.debug('upstream DELETE failed', { target: this.target, error }));
    }
    await this.transport.close().catch(() => undefined);
  }

  /**
   * Opens the standalone GET stream of a Streamable HTTP session; resolves once the upstream answered it
   * (or declined it, or failed: the session works without). The SDK exposes no public method for this,
   * hence the cast.
   */
  openStream(): Promise<void> {
    if (this.standalone) return this.standalone;
    const transport = this.transport as unknown as { _startOrAuthSse?: (options: { resumptionToken?: string }) => Promise<void> };
    if (this.kind !== 'mcp' || !this.transport.sessionId || !transport._startOrAuthSse) return Promise.resolve();
    this.standalone = transport._startOrAuthSse({ resumptionToken: undefined }).catch((error: Error) => {
      this.logger.debug('upstream GET stream not available', { target: this.target, error });
    });
    return this.standalone;
  }
}

/**
 * A 2026-07-28 server may stream a request's messages (notifications, then the result; a
 * `subscriptions/listen` stream never ends) as newline-delimited JSON in an `application/json` answer.
 * The SDK's client reads `application/json` as one message; the frames are handed to it as the SSE
 * events it reads one by one instead, each as soon as it arrives.
 */
function framesAsEvents(response: Response): Response {
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!response.ok || type !== 'application/json' || !response.body) return response;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  const emit = (controller: TransformStreamDefaultController<Uint8Array>, final: boolean): void => {
    const lines = pending.split('\n');
    pending = final ? '' : lines.pop()!;
    let frame = '';
    for (const line of final ? [...lines] : lines) {
      frame += line;
      if (!frame.trim()) continue;
      try {
        JSON.parse(frame);
      } catch {
        continue; // a message spread over several lines (pretty-printed JSON): wait for the rest
      }
      controller.enqueue(encoder.encode(`event: message\ndata: ${frame.replace(/\r/g, '')}\n\n`));
      frame = '';
    }
    if (!final) pending = frame + (frame ? '\n' : '') + pending;
  };
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        emit(controller, false);
      },
      flush(controller) {
        pending += decoder.decode();
        emit(controller, true);
      },
    }),
  );
  const headers = new Headers(response.headers);
  headers.set('content-type', 'text/event-stream');
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

function staticKey(policies: TargetPolicies | undefined): string | undefined {
  const key = policies?.backendAuth?.key;
  if (!key) return undefined;
  if (key.value !== undefined) return key.value;
  if (key.env !== undefined) return process.env[key.env];
  if (key.file !== undefined) return readFileSync(key.file, 'utf8').trim();
  return undefined;
}

/** Applies target policies to every upstream HTTP request; the client's own Authorization is never copied otherwise. */
function policyFetch(options: HttpConnectOptions): typeof fetch {
  const key = staticKey(options.policies);
  const passthrough = options.policies?.backendAuth?.passthrough !== undefined;
  const modifier = options.policies?.requestHeaderModifier;
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (passthrough && options.credentials.bearer) headers.set('authorization', `Bearer ${options.credentials.bearer}`);
    if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
    for (const { name, value } of modifier?.set ?? []) headers.set(name, value);
    for (const { name, value } of modifier?.add ?? []) headers.append(name, value);
    for (const name of modifier?.remove ?? []) headers.delete(name);
    const injected = options.credentials.targetHeaders?.[options.target];
    if (injected) headers.set(injected.name, injected.value);
    if (headers.get('mcp-protocol-version') === MODERN_PROTOCOL && typeof init?.body === 'string') mirrorHeaders(headers, init.body);
    if (typeof init?.body === 'string' && init.body.includes('"traceparent"')) traceHeaders(headers, init.body);
    return fetch(input, { ...init, headers });
  };
}

/** The gateway put the trace context in `_meta` (SEP-414); HTTP servers and proxies look for it in headers too. */
function traceHeaders(headers: Headers, body: string): void {
  let message: JsonRpcMessage;
  try {
    message = JSON.parse(body) as JsonRpcMessage;
  } catch {
    return;
  }
  const meta = message.params?._meta;
  if (typeof meta?.traceparent === 'string') headers.set('traceparent', meta.traceparent);
  if (typeof meta?.tracestate === 'string') headers.set('tracestate', meta.tracestate);
}

/** 2026-07-28 requires the method and name mirrored in headers for intermediaries (SEP-2243). */
function mirrorHeaders(headers: Headers, body: string): void {
  const message = JSON.parse(body) as JsonRpcMessage;
  if (!message.method) return;
  headers.set('mcp-method', message.method);
  const name = message.params?.name ?? message.params?.uri;
  if (typeof name === 'string') headers.set('mcp-name', /^[\x20-\x7e]*$/.test(name) ? name : `=?base64?${Buffer.from(name).toString('base64')}?=`);
}
