import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { formatTextLine } from '../../src/telemetry/text-format.js';

function capture(format: 'json' | 'text') {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines };
}

describe('the process logger', () => {
  it('writes JSON lines with level labels and ISO times', () => {
    const { logger, lines } = capture('json');
    logger.info({ route: '/token' }, 'request');
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', msg: 'request', route: '/token', service: 'idgate' });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('redacts secrets and tokens wherever a caller puts them', () => {
    const { logger, lines } = capture('json');
    logger.info({ client_secret: 's3cret', form: { refresh_token: 'rt-value', code: 'the-code' }, headers: { authorization: 'Bearer x' } }, 'oops');
    const line = lines[0]!;
    for (const secret of ['s3cret', 'rt-value', 'the-code', 'Bearer x']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });

  it('writes readable text lines with logger.format: text, redacted the same way', () => {
    const { logger, lines } = capture('text');
    logger.warn({ url: 'http://127.0.0.1:5556', password: 'hunter2', note: 'two words' }, 'issuer listening');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ WARN {2}issuer listening url=http:\/\/127\.0\.0\.1:5556 password=\[redacted\] note="two words"\n$/);
    expect(lines[0]).not.toContain('hunter2');
  });

  it('passes through a line that is not JSON', () => {
    expect(formatTextLine('plain')).toBe('plain\n');
  });
});
