import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileExistsError, FileSinkError, OptionError } from '../errors';
import { RecordEncoder } from '../format/encode';
import { checkCapacity } from './checkCapacity';
import { CloseSignal } from './CloseSignal';
import type { PageRun, SnapshotHeader, Sink, SinkCallback } from './Sink';
import { writeAll, type FileSinkFs } from './writeAll';

export interface FileSinkOptions {
  /**
   * Runs accepted in flight: the pipeline's credits. A credit comes back when
   * the OS write holding its run completes.
   * @default 16
   */
  readonly capacity?: number;
  /**
   * The batch size that starts a write. Runs handed over together (in one
   * turn of the event loop) are coalesced into one `writev`, which starts as
   * soon as its batch holds at least this many bytes, when every credit is
   * spent, or at the end of the turn. A write the sink is handed (one run,
   * or the runs of one `writeRuns`) is never split, so a `writev` holds up
   * to `writeBytes` plus that write's records, less a byte.
   * @default 1048576 (1 MiB)
   */
  readonly writeBytes?: number;
  /**
   * Replace a file that exists at `path` (with a rename, at the end). Off,
   * the sink refuses at `start` with a FileExistsError, and again when it
   * links the file into place should one have appeared meanwhile: atomically
   * where the file system has hard links; without them it checks, then
   * renames, and a file created between the two is replaced.
   * @default false
   */
  readonly overwrite?: boolean;
  /**
   * Keep the temporary file when the snapshot fails or is cancelled, for a
   * post-mortem. It never gets the final name.
   * @default false
   */
  readonly keepTemp?: boolean;
  /**
   * The file system calls the sink makes; tests inject failures through it.
   * @default node:fs
   */
  readonly fs?: FileSinkFs;
}

/**
 * - `idle` until `start`.
 * - `open` while it takes writes; after a failed write, every later write
 *   fails with that error.
 * - `ending` from `end()` until the end calls back. An `abort()` meanwhile is
 *   acted on at the end's next step if the file has no name yet, and ignored
 *   once it has.
 * - `ended` once the end has called back with the file under its final name:
 *   without an error, or with a FileSinkError (`committed: true`) from a step
 *   after the commit point.
 * - `aborted` once the file is given up: `abort()` before `end()`, or before
 *   the commit point during it; an end that failed before the commit point;
 *   an `end()` after a failed write (which calls back once the temporary file
 *   is gone).
 */
export type FileSinkState = 'idle' | 'open' | 'ending' | 'ended' | 'aborted';

export const DEFAULT_FILE_CAPACITY = 16;
export const DEFAULT_WRITE_BYTES = 1024 * 1024;

/** Codes of `link` failing because the file system has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
/** Codes of opening or fsyncing a directory failing because the platform cannot sync directories. */
const NO_DIRECTORY_SYNC = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Writes a snapshot file (docs/FORMAT.md). The file is written under a
 * temporary name in the same directory, and gets its name only after the
 * trailer is written and `fsync` has returned. One sink writes one snapshot.
 *
 * The link (or rename) that gives the file its name is the commit point.
 * Before it, a failure or an abort removes the temporary file (unless
 * `keepTemp`), and nothing is left under the final name; with `overwrite`,
 * the file that was there stays. After it, the file stays: an abort (a
 * cancel that comes while the directory is synced, say) is ignored and the
 * sink ends as `ended` with the complete file in place, and a step that
 * fails after it is reported as a FileSinkError with `committed: true`,
 * never by removing the file.
 *
 * @example
 * const sink = new FileSink('guest.bgsnap');
 * await lastValueFrom(snapshot(memory, sink));
 */
export class FileSink implements Sink {
  readonly capacity: number;
  /** The final name. */
  readonly path: string;
  /** The name the file has until it is complete. */
  readonly tempPath: string;

  private readonly writeBytes: number;
  private readonly overwrite: boolean;
  private readonly keepTemp: boolean;
  private readonly fs: FileSinkFs;
  private current: FileSinkState = 'idle';
  private fd: number | undefined;
  private encoder: RecordEncoder | undefined;
  /** File offset of the next write. */
  private position = 0;
  /** Chunks not yet handed to the OS, and the callbacks of the runs they finish. */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchDone: SinkCallback[] = [];
  private flushQueued = false;
  /** Runs accepted whose write has not completed: batched or in flight. */
  private outstanding = 0;
  /** `writev` calls in flight. */
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];
  /** The first write error; every later write and the end fail with it. */
  private failure: Error | undefined;
  private tempExists = false;
  /** The file has its final name: the commit point is passed. */
  private committed = false;
  /** `abort()` came during the end, before the commit point; the end sees it at its next step. */
  private abortRequested = false;
  /** When the output is in place or removed. */
  private readonly signal = new CloseSignal();

  constructor(path: string, options: FileSinkOptions = {}) {
    if (typeof path !== 'string' || path.length === 0) throw new OptionError('path', 'a non-empty file path', path);
    this.capacity = checkCapacity(options.capacity ?? DEFAULT_FILE_CAPACITY);
    const writeBytes = options.writeBytes ?? DEFAULT_WRITE_BYTES;
    if (!Number.isSafeInteger(writeBytes) || writeBytes < 1) throw new OptionError('writeBytes', 'an integer from 1 up', writeBytes);
    this.writeBytes = writeBytes;
    this.overwrite = options.overwrite ?? false;
    this.keepTemp = options.keepTemp ?? false;
    this.fs = options.fs ?? nodeFs;
    this.path = path;
    this.tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  }

  get state(): FileSinkState {
    return this.current;
  }

  /**
   * Settles when the sink is done with the file system: the file has its name
   * and the directory is synced, or (after a failure or abort) the handle is
   * closed and the temporary file removed (kept with `keepTemp`). A sink that
   * was never started opened nothing; its promise settles when it is aborted
   * (the pipeline aborts every sink it started, even one whose start threw).
   *
   * Rejects with a FileSinkError when the sink could not leave things so: a
   * temporary file that could not be removed (`committed: false`, `leftover`
   * names it), or, after the commit point, a directory that could not be
   * synced or a temporary name that could not be removed (`committed: true`;
   * the end reported the same error).
   */
  whenClosed(): Promise<void> {
    return this.signal.closed;
  }

  start(header: SnapshotHeader): void {
    if (this.current !== 'idle') throw new Error(`A FileSink writes one snapshot; this one is ${this.current}`);
    // Step 1: refuse to replace a file, unless told to.
    if (!this.overwrite && this.fs.lstatSync(this.path, { throwIfNoEntry: false }) !== undefined) {
      throw new FileExistsError(this.path);
    }
    // Step 2: the header, then the temporary file, created new.
    this.encoder = new RecordEncoder(header);
    const head = this.encoder.headerBytes;
    this.fd = this.fs.openSync(this.tempPath, 'wx');
    this.tempExists = true;
    this.current = 'open';
    this.batch.push(head);
    this.batchBytes += head.length;
    this.queueFlush();
  }

  write(run: PageRun, done: SinkCallback): void {
    this.writeRuns([run], done);
  }

  /** The runs' records, in order, in the batch; one credit, whose `done` runs when the OS write holding the last of them completes. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`FileSink cannot write: it is ${this.current}`));
    }
    // Step 1: the runs' records, as chunks that point into the runs' bytes.
    let bytes = 0;
    const mark = this.batch.length;
    try {
      for (const run of runs) bytes += (this.encoder as RecordEncoder).encode(run, this.batch);
    } catch (error) {
      // Records are append-only: none of this write's goes out.
      this.batch.length = mark;
      return done(error as Error);
    }
    this.batchBytes += bytes;
    this.batchDone.push(done);
    this.outstanding++;
    // Step 2: write now when the batch is full or no more runs can come; else at the end of this turn.
    if (this.batchBytes >= this.writeBytes || this.outstanding >= this.capacity) this.flush();
    else this.queueFlush();
  }

  end(done: SinkCallback): void {
    if (this.current !== 'open') return done(new Error(`FileSink cannot end: it is ${this.current}`));
    const failure = this.failure;
    if (failure !== undefined) {
      // A write failed: the file is broken. It is given up, and the end fails once it is gone.
      this.current = 'aborted';
      void this.discard().then(() => done(failure));
      return;
    }
    this.current = 'ending';
    for (const chunk of (this.encoder as RecordEncoder).end()) {
      this.batch.push(chunk);
      this.batchBytes += chunk.length;
    }
    this.flush();
    this.commit().then(
      () => done(),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /**
   * Drops the file (the reason is not written anywhere), unless it already
   * has its final name: after the commit point an abort is ignored, and the
   * complete file stays. Settles once the sink is done with the file system;
   * never rejects (`whenClosed()` reports what could not be cleaned up).
   */
  abort(_reason?: unknown): Promise<void> {
    if (this.current === 'ended' || this.current === 'aborted') return this.signal.settled;
    if (this.current === 'ending') {
      // The end sees the abort at its next step and cleans up itself, unless the file has its name.
      if (!this.committed) this.abortRequested = true;
      return this.signal.settled;
    }
    this.current = 'aborted';
    void this.discard();
    return this.signal.settled;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Hands the batch to the OS as one positional `writev`; its runs' callbacks run when it completes. */
  private flush(): void {
    if (this.batch.length === 0 || this.fd === undefined || this.current === 'aborted') return;
    const chunks = this.batch;
    const callbacks = this.batchDone;
    const bytes = this.batchBytes;
    const at = this.position;
    this.batch = [];
    this.batchDone = [];
    this.batchBytes = 0;
    this.position += bytes;
    // After a failed write the file is broken: the rest fails without being written.
    if (this.failure !== undefined) return this.complete(callbacks, this.failure);
    this.inFlight++;
    writeAll(this.fs, this.fd, chunks, at, bytes, (error) => {
      this.inFlight--;
      if (error !== null) this.failure ??= error;
      this.complete(callbacks, error ?? undefined);
      if (this.inFlight === 0) for (const wake of this.drainWaiters.splice(0)) wake();
    });
  }

  /** Gives the runs' credits back, all counted first, since each callback may hand over a new run. */
  private complete(callbacks: SinkCallback[], error: Error | undefined): void {
    this.outstanding -= callbacks.length;
    for (const done of callbacks) done(error);
  }

  /** Resolves when no `writev` is in flight. */
  private drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * From the trailer's flush to the final name. Any failure or abort before
   * the name is taken discards the file; after that, nothing removes it.
   */
  private async commit(): Promise<void> {
    try {
      // Step 1: every record and the trailer written…
      await this.drained();
      if (this.failure !== undefined) throw this.failure;
      this.checkNotAborted();
      // Step 2: …and durable, before the file gets its name.
      const fd = this.fd as number;
      await call<void>((cb) => this.fs.fsync(fd, cb));
      this.checkNotAborted();
      this.fd = undefined;
      await call<void>((cb) => this.fs.close(fd, cb));
      this.checkNotAborted();
      // Step 3: the name. Once `publish` has taken it, the file is committed.
      await this.publish();
    } catch (error) {
      this.current = 'aborted';
      await this.discard();
      throw error;
    }
    // Step 4: past the commit point: the temporary name goes and the directory
    // entry is made durable; a failure is reported, and the file stays.
    let problem: FileSinkError | undefined;
    if (this.tempExists) {
      try {
        await call<void>((cb) => this.fs.unlink(this.tempPath, cb));
        this.tempExists = false;
      } catch (error) {
        problem = new FileSinkError('unlink', true, this.path, this.tempPath, error);
      }
    }
    try {
      await this.syncDirectory();
    } catch (error) {
      problem ??= new FileSinkError('syncDirectory', true, this.path, undefined, error);
    }
    this.current = 'ended';
    if (problem === undefined) return this.signal.resolve();
    this.signal.reject(problem);
    throw problem;
  }

  private checkNotAborted(): void {
    if (this.abortRequested) throw new Error('FileSink aborted while ending');
  }

  /**
   * Gives the temporary file its final name, atomically, refusing to replace
   * a file unless told to. Sets `committed` as soon as the name is taken;
   * throws only before that.
   */
  private async publish(): Promise<void> {
    if (this.overwrite) return this.renameIntoPlace();
    try {
      // A hard link fails if the name is taken, with no window between the check and the rename.
      await call<void>((cb) => this.fs.link(this.tempPath, this.path, cb));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new FileExistsError(this.path);
      if (!NO_HARD_LINKS.has(code)) throw error;
      // No hard links here: check, then rename. A file created between the two is replaced.
      if (this.fs.lstatSync(this.path, { throwIfNoEntry: false }) !== undefined) throw new FileExistsError(this.path);
      this.checkNotAborted();
      return this.renameIntoPlace();
    }
    this.committed = true;
  }

  private async renameIntoPlace(): Promise<void> {
    await call<void>((cb) => this.fs.rename(this.tempPath, this.path, cb));
    this.tempExists = false;
    this.committed = true;
  }

  /**
   * fsyncs the directory, so the new name survives a crash. Skipped where
   * directories cannot be opened or synced (`NO_DIRECTORY_SYNC`); any other
   * failure of the open or the fsync throws.
   */
  private async syncDirectory(): Promise<void> {
    let fd: number;
    try {
      fd = await call<number>((cb) => this.fs.open(dirname(this.path), 'r', cb));
    } catch (error) {
      if (NO_DIRECTORY_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) return;
      throw error;
    }
    try {
      await call<void>((cb) => this.fs.fsync(fd, cb));
    } catch (error) {
      if (!NO_DIRECTORY_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    } finally {
      // The fsync has settled: a failed close of a read-only directory handle loses nothing.
      await call<void>((cb) => this.fs.close(fd, cb)).catch(() => undefined);
    }
  }

  /**
   * Before the commit point, after a failure or abort: waits for writes in
   * flight (they cannot be cancelled), closes the handle and removes the
   * temporary file (unless `keepTemp`), then settles `whenClosed()`: it
   * rejects when the temporary file could not be removed. Never throws.
   */
  private async discard(): Promise<void> {
    let problem: FileSinkError | undefined;
    try {
      await this.drained();
      const fd = this.fd;
      this.fd = undefined;
      // The file is being dropped, and the descriptor is released either way: a failed close loses nothing.
      if (fd !== undefined) await call<void>((cb) => this.fs.close(fd, cb)).catch(() => undefined);
      if (this.tempExists && !this.keepTemp) {
        try {
          await call<void>((cb) => this.fs.unlink(this.tempPath, cb));
          this.tempExists = false;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.tempExists = false;
          else problem = new FileSinkError('unlink', false, this.path, this.tempPath, error);
        }
      }
    } finally {
      if (problem === undefined) this.signal.resolve();
      else this.signal.reject(problem);
    }
  }
}

function call<T>(start: (cb: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}
