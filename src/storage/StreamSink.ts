import { finished, type Writable } from 'node:stream';
import { OptionError } from '../errors';
import { encodeHeader, RecordEncoder } from '../format/encode';
import { Fifo } from '../pipeline/Fifo';
import { checkCapacity } from './checkCapacity';
import type { FileSinkState } from './FileSink';
import type { PageRun, SnapshotHeader, Sink, SinkCallback } from './Sink';

export interface StreamSinkOptions {
  /**
   * Runs accepted in flight: the pipeline's credits. A credit comes back when
   * the write callback of the run's last chunk fires, not when `write()`
   * accepts it.
   * @default 16
   */
  readonly capacity?: number;
  /**
   * End the writable after the trailer, and complete the snapshot on its
   * `'finish'`. Off, the snapshot completes when the trailer's write
   * callback fires and the writable stays open.
   * @default true
   */
  readonly end?: boolean;
  /**
   * Destroy the writable, with the abort reason as its error, when the
   * snapshot fails or is cancelled, so that whoever reads the other end sees
   * a failed stream rather than a short one.
   * @default true
   */
  readonly destroyOnAbort?: boolean;
}

/** One chunk queued for the writable; the last chunk of a run carries the run's callback. */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly done?: SinkCallback;
}

/**
 * Writes the snapshot stream (docs/FORMAT.md) to any Node `Writable`: a
 * file stream, a socket, a gzip stream, an upload. It honours `write()`'s
 * return value and `'drain'`: once the writable says it is full, runs wait in
 * the sink (at most `capacity` of them) until it drains. Runs handed over in
 * one turn of the event loop go out corked, so a stream with `_writev` gets
 * them as one call. The runs' bytes are not copied: a run's credit comes back
 * when its last chunk's write callback fires.
 */
export class StreamSink implements Sink {
  readonly capacity: number;
  private readonly endStream: boolean;
  private readonly destroyOnAbort: boolean;
  private current: FileSinkState = 'idle';
  private encoder: RecordEncoder | undefined;
  private readonly queue = new Fifo<Chunk>();
  /** `write()` returned false: wait for `'drain'`. */
  private full = false;
  private corked = false;
  /** Callbacks of runs handed to the writable whose write has not completed. */
  private readonly pending = new Set<SinkCallback>();
  /** Wake-ups for when every queued chunk has been handed to the writable. */
  private readonly emptyWaiters: (() => void)[] = [];
  private failure: Error | undefined;
  private readonly closed: Promise<void>;
  private resolveClosed: () => void = () => undefined;

  constructor(
    private readonly writable: Writable,
    options: StreamSinkOptions = {},
  ) {
    if (typeof writable?.write !== 'function' || typeof writable.on !== 'function') {
      throw new OptionError('writable', 'a Node Writable', writable);
    }
    this.capacity = checkCapacity(options.capacity ?? 16);
    this.endStream = options.end ?? true;
    this.destroyOnAbort = options.destroyOnAbort ?? true;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get state(): FileSinkState {
    return this.current;
  }

  /**
   * Settles when the sink is done with the writable: after its `'finish'`
   * (or the trailer's callback with `end: false`), or after an abort once the
   * writable is destroyed. Never rejects.
   */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  start(header: SnapshotHeader): void {
    if (this.current !== 'idle') throw new Error(`A StreamSink writes one snapshot; this one is ${this.current}`);
    const w = this.writable;
    if (w.destroyed || w.writableEnded) throw new Error('StreamSink needs a writable that is neither ended nor destroyed');
    const head = encodeHeader(header);
    this.encoder = new RecordEncoder(header);
    // Step 1: listen before the first write; the error listener also keeps an error from going uncaught.
    w.on('error', this.onError);
    w.on('drain', this.onDrain);
    this.current = 'open';
    this.queue.push({ bytes: head });
    this.pump();
  }

  write(run: PageRun, done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`StreamSink cannot write: it is ${this.current}`));
    }
    const chunks: Uint8Array[] = [];
    try {
      (this.encoder as RecordEncoder).encode(run, chunks);
    } catch (error) {
      return done(error as Error);
    }
    const last = chunks.length - 1;
    chunks.forEach((bytes, i) => this.queue.push(i === last ? { bytes, done } : { bytes }));
    this.pump();
  }

  end(done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`StreamSink cannot end: it is ${this.current}`));
    }
    this.current = 'ending';
    // Settles the end once: on success the sink is closed; on failure the abort that follows cleans up.
    const ended: SinkCallback = (error) => {
      this.release();
      if (error) return done(error);
      this.current = 'ended';
      this.resolveClosed();
      done();
    };
    const trailer = (this.encoder as RecordEncoder).trailer();
    if (!this.endStream) {
      this.queue.push({ bytes: trailer, done: ended });
      return this.pump();
    }
    // Step 1: the trailer goes out after every queued chunk, then the writable is ended…
    this.queue.push({ bytes: trailer });
    this.pump();
    this.pending.add(ended);
    this.whenQueueEmpty(() => {
      // Step 2: …and the snapshot completes on its 'finish', when all of it has been written.
      finished(this.writable, { readable: false }, (error) => {
        if (this.pending.delete(ended)) ended(error ?? undefined);
      });
      this.writable.end();
    });
  }

  /** Drops the stream (destroying the writable unless told not to). Settles, like `whenClosed()`, once it is closed. */
  abort(reason: unknown): Promise<void> {
    if (this.current === 'ended' || this.current === 'aborted') return this.whenClosed();
    this.current = 'aborted';
    this.queue.clear();
    this.emptyWaiters.length = 0;
    this.pending.clear();
    this.release();
    if (!this.destroyOnAbort || this.writable.destroyed) {
      this.resolveClosed();
      return this.whenClosed();
    }
    // The error listener stays on, so that this error is not an uncaught one.
    finished(this.writable, () => this.resolveClosed());
    this.writable.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    return this.whenClosed();
  }

  /** Writes queued chunks until the writable says it is full. */
  private pump(): void {
    const w = this.writable;
    while (!this.full && this.queue.length !== 0 && (this.current === 'open' || this.current === 'ending')) {
      const chunk = this.queue.shift() as Chunk;
      // Step 1: cork for the rest of this turn, so a burst of runs reaches `_writev` as one call.
      if (!this.corked) {
        this.corked = true;
        w.cork();
        process.nextTick(() => this.uncork());
      }
      // Step 2: the run's callback rides on its last chunk; its credit comes back when that is written.
      const done = chunk.done;
      if (done !== undefined) this.pending.add(done);
      const more = w.write(chunk.bytes, done === undefined ? undefined : (error) => this.written(done, error));
      if (!more) this.full = true;
    }
    if (this.queue.length === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
  }

  private whenQueueEmpty(wake: () => void): void {
    if (this.queue.length === 0) wake();
    else this.emptyWaiters.push(wake);
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    if (!this.writable.destroyed) this.writable.uncork();
  }

  private written(done: SinkCallback, error: Error | null | undefined): void {
    if (!this.pending.has(done)) return;
    // A failed write fails every run still waiting, this one included.
    if (error) return this.fail(error);
    this.pending.delete(done);
    done();
  }

  private readonly onDrain = (): void => {
    this.full = false;
    this.pump();
  };

  private readonly onError = (error: Error): void => this.fail(error);

  /**
   * The writable failed: every run still waiting, written or queued, gets the
   * error, and so will every later call.
   */
  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = [...this.pending];
    this.pending.clear();
    for (let chunk = this.queue.shift(); chunk !== undefined; chunk = this.queue.shift()) {
      if (chunk.done !== undefined) waiting.push(chunk.done);
    }
    this.emptyWaiters.length = 0;
    for (const done of waiting) done(this.failure);
  }

  private release(): void {
    this.writable.off('drain', this.onDrain);
  }
}
