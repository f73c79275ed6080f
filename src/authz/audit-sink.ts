/**
 * Where audit lines go: a buffered, asynchronous writer to a file or stdout. A write on the hot path
 * is one array push; the buffer is written out with fs.write (off the event loop) when it passes
 * 64 KiB and at least every 250 ms, and synchronously on close. Partial writes and EAGAIN (stdout as a
 * non-blocking pipe) are retried, never dropped silently.
 */
import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditSink {
  write(line: string): void;
  flush?(): void;
  end?(): void;
}

const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 250;

export class BufferedAuditSink implements AuditSink {
  private chunks: string[] = [];
  private size = 0;
  private pending: Buffer | undefined;
  private writing = false;
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
    if (this.writing) return;
    const data = this.take();
    if (!data) return;
    this.writing = true;
    write(this.fd, data, 0, data.length, null, (error, written) => {
      this.writing = false;
      if (error) {
        // EAGAIN (non-blocking stdout): keep the data and try again on the next tick of the timer.
        this.pending = data;
        return;
      }
      this.pending = written < data.length ? data.subarray(written) : undefined;
      if (this.pending || this.size >= FLUSH_BYTES) this.drain();
    });
  }

  /** Writes everything buffered now, synchronously (shutdown); an async write in flight finishes on its own. */
  flush(): void {
    const parts: Buffer[] = [];
    if (!this.writing && this.pending) parts.push(this.pending);
    this.pending = undefined;
    if (this.chunks.length > 0) parts.push(Buffer.from(this.chunks.join('')));
    this.chunks = [];
    this.size = 0;
    for (const part of parts) {
      for (let offset = 0; offset < part.length; ) {
        try {
          offset += writeSync(this.fd, part, offset);
        } catch {
          return;
        }
      }
    }
  }

  end(): void {
    clearInterval(this.timer);
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }
}
