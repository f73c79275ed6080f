/**
 * OpenTelemetry traces (config `telemetry.tracing`), off unless configured: one tracer provider that
 * exports spans in batches over OTLP/HTTP (JSON), W3C trace context read from incoming headers and
 * written on outgoing calls, and the current span kept per async flow so log and audit lines can name
 * their trace. Nothing is registered globally: every part that traces is handed a `Tracing`, and with
 * tracing off it is handed none and does no tracing work.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace,
  type Attributes, type Context, type Span, type SpanKind,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';

export { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

/** The config key `telemetry.tracing`. */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces. */
  otlpEndpoint: string;
  /** The resource's service.name. */
  serviceName: string;
  /** Share of new traces (no sampled parent) recorded, 0 to 1; a parent's decision is followed. */
  sampleRatio: number;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

export interface Tracing {
  /** The trace context that `headers` (lower-cased names) carry in `traceparent`/`tracestate`, or the root. */
  extract(headers: Readonly<Record<string, string | string[] | undefined>>): Context;
  /** Writes the current trace context into outgoing `headers` (traceparent, tracestate). */
  inject(headers: Record<string, string>, context?: Context): void;
  /** Starts a span, child of `parent` or of the current span. End it. */
  startSpan(name: string, options?: SpanOptions, parent?: Context): Span;
  /** Runs `fn` with `span` current (its context) for everything `fn` starts, awaits included. */
  withSpan<T>(span: Span, fn: () => T, parent?: Context): T;
  /**
   * Runs `fn` in a child span of the current one, ended (and marked failed on a throw) when `fn`
   * settles; with no span current (background work) `fn` runs without one.
   */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T>;
  /** The current span's trace id, if a span is current. */
  traceId(): string | undefined;
  /** Sends every ended span now. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

export function startTracing(config: TracingConfig): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpEndpoint })),
    ],
  });
  const tracer = provider.getTracer('idgate');
  const current = new AsyncLocalStorage<Context>();
  const active = (): Context => current.getStore() ?? ROOT_CONTEXT;

  const tracing: Tracing = {
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    inject: (headers, context) => propagator.inject(context ?? active(), headers, defaultTextMapSetter),
    startSpan: (name, options = {}, parent) => tracer.startSpan(name, options, parent ?? active()),
    withSpan: (span, fn, parent) => current.run(trace.setSpan(parent ?? active(), span), fn),
    async inSpan(name, options, fn) {
      const parent = active();
      if (trace.getSpan(parent) === undefined) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
      const span = tracing.startSpan(name, options, parent);
      try {
        return await tracing.withSpan(span, () => fn(span));
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'Error' });
        throw error;
      } finally {
        span.end();
      }
    },
    traceId() {
      const span = trace.getSpan(active());
      return span?.spanContext().traceId;
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return tracing;
}

/** Marks `span` failed when `status` is a server error. */
export function setHttpStatus(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}
