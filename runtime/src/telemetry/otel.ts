import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanAttributes, SpanHandle, TraceCarrier, Tracer } from './tracing.js';
import type { ResolvedTracing } from '../config/model.js';

const setter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

const getter: TextMapGetter<TraceCarrier> = {
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
  keys: (carrier) => Object.keys(carrier),
};

/**
 * OpenTelemetry tracing through a provider owned by this gateway: nothing is registered globally, and
 * parents are passed explicitly (no context manager), so two gateways in one process never mix spans.
 */
export class OtelTracer implements Tracer {
  private readonly provider: TracerProvider;
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly tracer;

  constructor(settings: ResolvedTracing, version: string) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': version }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.url }), scheduledDelayMillis: 1000 })],
    });
    this.tracer = this.provider.getTracer('mcp-gateway', version);
  }

  startRequest(name: string, attributes: SpanAttributes, parent?: TraceCarrier): SpanHandle {
    const parentContext = parent ? this.propagator.extract(ROOT_CONTEXT, parent, getter) : ROOT_CONTEXT;
    return this.open(name, SpanKind.SERVER, attributes, parentContext);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }

  private open(name: string, kind: SpanKind, attributes: SpanAttributes, parent: Context): SpanHandle {
    const span = this.tracer.startSpan(name, { kind, attributes: defined(attributes) }, parent);
    const spanContext = trace.setSpan(parent, span);
    return new OtelSpan(span, spanContext, this);
  }

  /** @internal */
  childOf(name: string, attributes: SpanAttributes, parent: Context): SpanHandle {
    return this.open(name, SpanKind.CLIENT, attributes, parent);
  }

  /** @internal */
  inject(context: Context): TraceCarrier {
    const carrier: TraceCarrier = {};
    this.propagator.inject(context, carrier, setter);
    return carrier;
  }
}

class OtelSpan implements SpanHandle {
  private ended = false;

  constructor(
    private readonly span: Span,
    private readonly context: Context,
    private readonly tracer: OtelTracer,
  ) {}

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(defined(attributes));
  }

  end(error?: { readonly message: string; readonly code?: number }): void {
    if (this.ended) return;
    this.ended = true;
    if (error) {
      this.span.recordException({ name: 'McpError', message: error.message });
      if (error.code !== undefined) this.span.setAttribute('mcp.error.code', error.code);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    this.span.end();
  }

  child(name: string, attributes: SpanAttributes): SpanHandle {
    return this.tracer.childOf(name, attributes, this.context);
  }

  carrier(): TraceCarrier {
    return this.tracer.inject(this.context);
  }
}

function defined(attributes: SpanAttributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}
