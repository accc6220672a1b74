/** W3C trace context as it travels in HTTP headers and in JSON-RPC `params._meta` (SEP-414). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** One span; ending it twice is harmless. */
export interface SpanHandle {
  setAttributes(attributes: SpanAttributes): void;
  /** Ends the span, as failed when `error` is given. */
  end(error?: { readonly message: string; readonly code?: number }): void;
  /** A child span, e.g. one upstream call of a client request. */
  child(name: string, attributes: SpanAttributes): SpanHandle;
  /** This span's context, for the next hop. */
  carrier(): TraceCarrier;
}

/**
 * Spans for client requests and upstream calls. The OpenTelemetry SDK stays unloaded unless
 * `config.tracing` is set; without it `tracer` is undefined and the request path skips tracing.
 */
export interface Tracer {
  /** A span for one client request; continues the caller's trace when `parent` carries one. */
  startRequest(name: string, attributes: SpanAttributes, parent?: TraceCarrier): SpanHandle;
  /** Sends what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/** The carrier in `_meta` of a JSON-RPC message's params, if the caller sent one. */
export function carrierOf(meta: Record<string, unknown> | undefined): TraceCarrier | undefined {
  if (!meta || typeof meta.traceparent !== 'string') return undefined;
  return { traceparent: meta.traceparent, tracestate: typeof meta.tracestate === 'string' ? meta.tracestate : undefined };
}
