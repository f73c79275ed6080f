/**
 * Where audit lines go: a buffered, asynchronous writer to a file or stdout. A write on the hot path
 * is one array push; the buffer is written out with fs.write (off the event loop) when it passes
 * 64 KiB and at least every 250 ms. Closing waits for a write in flight, then writes the rest
 * synchronously, in order, before the file is closed. Partial writes and EAGAIN (stdout as a
 * non-blocking pipe) are retried, never dropped silently.
 */
import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditSink {
  write(line: string): void;
  flush?(): void;
  /** Resolves once every line written so far is in the file (and the file is closed). */
  end?(): Promise<void>;
}

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 250;

export class BufferedAuditSink implements AuditSink {
  private chunks: string[] = [];
  private size = 0;
  private pending: Buffer | undefined;
  /** The background write in flight, if any; its data is `pending` until it completes. */
  private inflight: Promise<void> | undefined;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fd: number,
    private readonly ownsFd: boolean,
  ) {
    this.timer = setInterval(() => this.drain(), FLUSH_MS);
    this.timer.unref();
  }

  static open(file?: string): BufferedAuditSink {
    if (!file) return new BufferedAuditSink(1, false);
    mkdirSync(dirname(file), { recursive: true });
    return new BufferedAuditSink(openSync(file, 'a'), true);
  }

  write(line: string): void {
    this.chunks.push(line);
    this.size += line.length;
    if (this.size >= FLUSH_BYTES) this.drain();
  }

  private take(): Buffer | undefined {
    if (this.pending) return this.pending;
    if (this.chunks.length === 0) return undefined;
    const data = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
    return data;
  }

  private drain(): void {
    if (this.inflight || this.closed) return;
    const data = this.take();
    if (!data) return;
    this.pending = data;
    this.inflight = new Promise((resolve) => {
      write(this.fd, data, 0, data.length, null, (error, written) => {
        this.inflight = undefined;
        // On an error (EAGAIN on a non-blocking stdout) everything stays pending for the next attempt.
        this.pending = error ? data : written < data.length ? data.subarray(written) : undefined;
        resolve();
        if (!error && (this.pending || this.size >= FLUSH_BYTES)) this.drain();
      });
    });
  }

  /**
   * Writes everything buffered now, synchronously. With a background write in flight only the newer
   * lines wait for it (they are written after it, by the timer or by end()), so order is kept.
   */
  flush(): void {
    if (this.inflight) return;
    const parts: Buffer[] = [];
    if (this.pending) parts.push(this.pending);
    this.pending = undefined;
    if (this.chunks.length > 0) parts.push(Buffer.from(this.chunks.join('')));
    this.chunks = [];
    this.size = 0;
    for (const part of parts) {
      for (let offset = 0; offset < part.length; ) {
        try {
          offset += writeSync(this.fd, part, offset);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        }
      }
    }
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    while (this.inflight) await this.inflight;
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}
