import { finished, type Writable } from 'node:stream';
import { OptionError, StreamClosedError } from '../errors';
import { RecordEncoder } from '../format/encode';
import { Fifo } from '../pipeline/Fifo';
import { checkCapacity } from './checkCapacity';
import type { PageRun, SnapshotHeader, Sink, SinkCallback } from './Sink';

export interface StreamSinkOptions {
  /**
   * Writes accepted in flight: the pipeline's credits (a write is one run,
   * or several through `writeRuns`). A credit comes back when the write
   * callback of the write's last chunk fires, not when `write()` accepts it.
   * @default 16
   */
  readonly capacity?: number;
  /**
   * End the writable after the trailer, and complete the snapshot on its
   * `'finish'`. Off, the snapshot completes when the trailer's write
   * callback fires and the writable stays open (a socket that carries one
   * snapshot after another, say).
   * @default true
   */
  readonly endStream?: boolean;
  /**
   * Destroy the writable, with the abort reason as its error, when the
   * snapshot fails or is cancelled, so that whoever reads the other end sees
   * a failed stream rather than a short one.
   * @default true
   */
  readonly destroyOnAbort?: boolean;
  /**
   * Copy each run's bytes when the run is handed over, so that the writable
   * holds bytes of its own. A run's data is a view of live memory or of a
   * pool buffer, which writers change as soon as the run's credit comes back;
   * a `Transform` or `PassThrough` (an upload body, a pipe) calls a chunk's
   * write callback once it has pushed the chunk on, while the next stream
   * still holds the same bytes.
   *
   * Turn it off only for a writable that is finished with a chunk when the
   * chunk's write callback fires: an `fs.WriteStream`, a `net.Socket`, a
   * zlib stream. The sink then writes views of the run, and saves a copy.
   * @default true
   */
  readonly copy?: boolean;
}

/**
 * `idle` until `start`; `open` while it takes writes; `ending` from `end()`
 * until the end's callback; `ended` once the trailer is written (and, with
 * `endStream`, the writable finished); `aborted` once `abort()` ran.
 */
export type StreamSinkState = 'idle' | 'open' | 'ending' | 'ended' | 'aborted';

/** One chunk queued for the writable; the last chunk of a run carries the run's callback. */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly done?: SinkCallback;
}

/**
 * Writes the snapshot stream (docs/FORMAT.md) to any Node `Writable`: a
 * file stream, a socket, a gzip stream, an upload. It honours `write()`'s
 * return value and `'drain'`: once the writable says it is full, writes wait in
 * the sink (at most `capacity` of them) until it drains. Writes handed over in
 * one turn of the event loop go out corked, so a stream with `_writev` gets
 * them as one call. A write of several runs (`writeRuns`) is their records
 * in order. Each write's bytes are copied when it is handed over (see the
 * `copy` option), and its credit comes back when its last chunk's write
 * callback fires.
 *
 * A writable that closes or is destroyed before the snapshot ends, at any
 * point, fails the snapshot: with its own error when it has one, otherwise
 * with a `StreamClosedError` (the `cause` of the snapshot's `SinkError`).
 *
 * The sink adds an `'error'`, a `'drain'` and a `'close'` listener at `start`
 * and removes them when it is done with the writable: after the end, or after
 * an abort once the writable has finished, or (without `destroyOnAbort`) once
 * every chunk it handed over has been written. A writable can carry one
 * snapshot after another (`endStream: false`), with a new sink for each.
 */
export class StreamSink implements Sink {
  readonly capacity: number;
  private readonly endStream: boolean;
  private readonly destroyOnAbort: boolean;
  private readonly copy: boolean;
  private current: StreamSinkState = 'idle';
  private encoder: RecordEncoder | undefined;
  private readonly queue = new Fifo<Chunk>();
  /** `write()` returned false: wait for `'drain'`. */
  private full = false;
  private corked = false;
  /** Callbacks of runs handed to the writable whose write has not completed. */
  private readonly pending = new Set<SinkCallback>();
  /** Chunks handed to the writable whose write callback has not fired. */
  private inWritable = 0;
  /** Bytes handed to the writable, for the error when it closes early. */
  private handedOver = 0;
  /** Wake-ups for when every queued chunk has been handed to the writable. */
  private readonly emptyWaiters: (() => void)[] = [];
  private failure: Error | undefined;
  private listening = false;
  /** Aborted without destroying: let go of the writable once the chunks handed over are written. */
  private releaseWhenWritten = false;
  /** Removes the listeners `finished()` added, on a writable that lives on. */
  private stopWatching: (() => void) | undefined;
  private readonly closed: Promise<void>;
  private resolveClosed: () => void = () => undefined;

  constructor(
    private readonly writable: Writable,
    options: StreamSinkOptions = {},
  ) {
    if (typeof writable?.write !== 'function' || typeof writable.on !== 'function') {
      throw new OptionError('writable', 'a Node Writable', writable);
    }
    if (Object.hasOwn(options, 'end')) {
      throw new OptionError('end', 'absent: the option is called `endStream`', (options as { end?: unknown }).end);
    }
    this.capacity = checkCapacity(options.capacity ?? 16);
    this.endStream = options.endStream ?? true;
    this.destroyOnAbort = options.destroyOnAbort ?? true;
    this.copy = options.copy ?? true;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get state(): StreamSinkState {
    return this.current;
  }

  /**
   * Settles when the sink is done with the writable: after its `'finish'`
   * (or the trailer's callback with `endStream: false`), or after an abort
   * once the writable is destroyed (at once without `destroyOnAbort`). Never
   * rejects.
   */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  start(header: SnapshotHeader): void {
    if (this.current !== 'idle') throw new Error(`A StreamSink writes one snapshot; this one is ${this.current}`);
    const w = this.writable;
    if (w.destroyed || w.writableEnded) throw new Error('StreamSink needs a writable that is neither ended nor destroyed');
    this.encoder = new RecordEncoder(header);
    const head = this.encoder.headerBytes;
    // Step 1: listen before the first write; the error listener also keeps an error from going uncaught.
    w.on('error', this.onError);
    w.on('drain', this.onDrain);
    w.on('close', this.onClose);
    this.listening = true;
    this.current = 'open';
    this.queue.push({ bytes: head });
    this.pump();
  }

  write(run: PageRun, done: SinkCallback): void {
    this.writeRuns([run], done);
  }

  /** Several runs as one write: their records in order, one `done`, with the write callback of the last chunk. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`StreamSink cannot write: it is ${this.current}`));
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    try {
      for (const run of runs) bytes += (this.encoder as RecordEncoder).encode(run, chunks);
    } catch (error) {
      return done(error as Error);
    }
    // The runs' records as one buffer of their own, or as views of the runs.
    if (this.copy) this.queue.push({ bytes: Buffer.concat(chunks, bytes), done });
    else {
      const last = chunks.length - 1;
      chunks.forEach((chunk, i) => this.queue.push(i === last ? { bytes: chunk, done } : { bytes: chunk }));
    }
    this.pump();
  }

  end(done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`StreamSink cannot end: it is ${this.current}`));
    }
    this.current = 'ending';
    // Settles the end once: on success the sink is closed; on failure the abort that follows cleans up.
    const ended: SinkCallback = (error) => {
      if (error) {
        this.writable.off('drain', this.onDrain);
        return done(error);
      }
      this.current = 'ended';
      this.detach();
      this.resolveClosed();
      done();
    };
    // The index and the trailer, as one chunk.
    const trailer = Buffer.concat((this.encoder as RecordEncoder).end());
    if (!this.endStream) {
      // The trailer's callback comes after every earlier chunk's: the writable is done with the snapshot.
      this.queue.push({ bytes: trailer, done: ended });
      return this.pump();
    }
    // Step 1: the trailer goes out after every queued chunk, then the writable is ended…
    this.queue.push({ bytes: trailer });
    this.pump();
    this.pending.add(ended);
    this.whenQueueEmpty(() => {
      // Step 2: …and the snapshot completes on its 'finish', when all of it has been written.
      // (`finished` leaves its own listeners on the ended writable, as Node advises, so
      // that a late error from its close is not an uncaught one.)
      finished(this.writable, { readable: false }, (error) => {
        if (this.pending.delete(ended)) ended(error ? this.causeOf(error) : undefined);
      });
      this.writable.end();
    });
  }

  /**
   * Drops the stream, destroying the writable unless told not to. Settles,
   * like `whenClosed()`, once it is closed.
   */
  abort(reason: unknown): Promise<void> {
    if (this.current === 'ended' || this.current === 'aborted') return this.whenClosed();
    this.current = 'aborted';
    this.queue.clear();
    this.emptyWaiters.length = 0;
    this.pending.clear();
    this.writable.off('drain', this.onDrain);
    const w = this.writable;
    if (!this.destroyOnAbort && !w.destroyed) {
      // The writable lives on. The error listener stays while chunks this sink
      // handed over may still fail, and goes when they are written, or when
      // the writable ends or fails.
      if (this.inWritable === 0) this.detach();
      else {
        this.releaseWhenWritten = true;
        this.stopWatching = finished(w, () => this.detach());
      }
      this.resolveClosed();
      return this.whenClosed();
    }
    // The error listener stays until the writable has finished, so that this error is not an uncaught one.
    finished(w, () => {
      this.detach();
      this.resolveClosed();
    });
    if (!w.destroyed) w.destroy(reason instanceof Error ? reason : new Error(String(reason)));
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
      this.inWritable++;
      this.handedOver += chunk.bytes.length;
      const more = w.write(chunk.bytes, (error) => this.written(done, error));
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

  private written(done: SinkCallback | undefined, error: Error | null | undefined): void {
    this.inWritable--;
    if (this.current === 'aborted') {
      // A failed chunk is followed by the writable's 'error': `finished` lets go after that.
      if (this.releaseWhenWritten && this.inWritable === 0 && !error) this.detach();
      return;
    }
    if (done === undefined || !this.pending.has(done)) return;
    // A failed write fails every run still waiting, this one included.
    if (error) return this.fail(this.causeOf(error));
    this.pending.delete(done);
    done();
  }

  private readonly onDrain = (): void => {
    this.full = false;
    this.pump();
  };

  private readonly onError = (error: Error): void => this.fail(error);

  /**
   * The writable closed. After its `'finish'` with `endStream`, that is the
   * normal end (`finished` settles it); before the end, every run still
   * waiting fails, and so does every later call: a destroyed writable may
   * never call back the chunks it holds.
   */
  private readonly onClose = (): void => {
    if (this.current !== 'open' && this.current !== 'ending') return;
    if (this.endStream && this.current === 'ending' && this.writable.writableFinished) return;
    this.fail(this.causeOf());
  };

  /**
   * What to fail the snapshot with: the writable's own error, or, for Node's
   * "destroyed" and "premature close" errors or a plain close, a
   * `StreamClosedError` that says the writable went away and how far the
   * stream had got.
   */
  private causeOf(error?: Error | null): Error {
    if (isOwnError(error)) return error;
    const own = this.writable.errored;
    return isOwnError(own) ? own : new StreamClosedError(this.handedOver, this.current === 'ending');
  }

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

  /** Done with the writable: removes every listener this sink added. */
  private detach(): void {
    if (!this.listening) return;
    this.listening = false;
    this.writable.off('error', this.onError);
    this.writable.off('drain', this.onDrain);
    this.writable.off('close', this.onClose);
    this.stopWatching?.();
    this.stopWatching = undefined;
  }
}

/** An error of the writable's own, not Node's word that it was destroyed or closed early. */
function isOwnError(error: Error | null | undefined): error is Error {
  if (error === undefined || error === null) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code !== 'ERR_STREAM_DESTROYED' && code !== 'ERR_STREAM_PREMATURE_CLOSE';
}
