/**
 * What idgate tells its operators: the `telemetry` listener (metrics, health, profiling) and its
 * OpenTelemetry traces, the `logger`, and the issuer's `audit` stream.
 */
import { z } from 'zod';
import { listenAddress } from './listener.js';

/** Our own: OpenTelemetry traces, exported over OTLP/HTTP; no section, no tracing. */
const tracingSchema = z.strictObject({
  otlpEndpoint: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'not an http(s) URL (the OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces)',
  }),
  serviceName: z.string().min(1, { message: 'must not be empty' }).default('idgate'),
  sampleRatio: z.number().min(0, { message: 'must be between 0 and 1' }).max(1, { message: 'must be between 0 and 1' }).default(1),
});

export const telemetrySchema = z.strictObject({ http: listenAddress.optional(), enableProfiling: z.boolean().optional(), tracing: tracingSchema.optional() });

export const loggerSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  format: z.enum(['json', 'text']).default('json'),
  excludeFields: z.array(z.string()).optional(),
});

/** The issuer's audit stream (idgate's own key; the filter's is filter.audit): stdout, a file, or both. */
export const auditSchema = z.strictObject({
  stdout: z.boolean().default(true),
  file: z.string().min(1).optional(),
});
