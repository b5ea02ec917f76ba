import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileExistsError, OptionError } from '../errors';
import { encodeHeader, RecordEncoder } from '../format/encode';
import { checkCapacity } from './checkCapacity';
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
   * Most bytes in one `writev` call. Runs handed over together (in one turn
   * of the event loop) are coalesced into writes up to this size; a write
   * starts as soon as it is full, when every credit is spent, or at the end
   * of the turn.
   * @default 1048576 (1 MiB)
   */
  readonly writeBytes?: number;
  /**
   * Replace a file that exists at `path`. Off, the sink refuses at `start`
   * with a FileExistsError, and again at the rename should one have appeared.
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

/** `ending` from `end()` until the file has its name; `aborted` once `abort()` ran or the end failed. */
export type FileSinkState = 'idle' | 'open' | 'ending' | 'ended' | 'aborted';

export const DEFAULT_FILE_CAPACITY = 16;
export const DEFAULT_WRITE_BYTES = 1024 * 1024;

/** Codes of `link` failing because the file system has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Writes a snapshot file (docs/FORMAT.md). The file is written under a
 * temporary name in the same directory, and gets its name only after the
 * trailer is written and `fsync` has returned. On failure or abort the
 * temporary file is removed (unless `keepTemp`), and nothing is ever left
 * under the final name. One sink writes one snapshot.
 *
 * @example
 * const sink = new FileSink('guest.snap');
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
  private published = false;
  private readonly closed: Promise<void>;
  private resolveClosed: () => void = () => undefined;

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
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get state(): FileSinkState {
    return this.current;
  }

  /**
   * Settles when the sink is done with the file system: the file has its name,
   * or (after a failure or abort) the handle is closed and the temporary file
   * removed. Never rejects. A sink that was never started opened nothing; its
   * promise settles when it is aborted (the pipeline aborts every sink it
   * started, even one whose start threw).
   */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  start(header: SnapshotHeader): void {
    if (this.current !== 'idle') throw new Error(`A FileSink writes one snapshot; this one is ${this.current}`);
    // Step 1: refuse to replace a file, unless told to.
    if (!this.overwrite && this.fs.lstatSync(this.path, { throwIfNoEntry: false }) !== undefined) {
      throw new FileExistsError(this.path);
    }
    // Step 2: the header, then the temporary file, created new.
    const head = encodeHeader(header);
    this.encoder = new RecordEncoder(header);
    this.fd = this.fs.openSync(this.tempPath, 'wx');
    this.tempExists = true;
    this.current = 'open';
    this.batch.push(head);
    this.batchBytes += head.length;
    this.queueFlush();
  }

  write(run: PageRun, done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`FileSink cannot write: it is ${this.current}`));
    }
    // Step 1: the run's records, as chunks that point into the run's bytes.
    let bytes: number;
    try {
      bytes = (this.encoder as RecordEncoder).encode(run, this.batch);
    } catch (error) {
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
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`FileSink cannot end: it is ${this.current}`));
    }
    this.current = 'ending';
    const trailer = (this.encoder as RecordEncoder).trailer();
    this.batch.push(trailer);
    this.batchBytes += trailer.length;
    this.flush();
    this.commit().then(
      () => done(),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** Drops the file: the reason is not written anywhere. Settles, like `whenClosed()`, once it is gone. */
  abort(_reason?: unknown): Promise<void> {
    if (this.current === 'ended' || this.current === 'aborted') return this.whenClosed();
    const committing = this.current === 'ending';
    this.current = 'aborted';
    // A commit under way sees the abort at its next step and cleans up itself.
    if (!committing) void this.discard();
    return this.whenClosed();
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

  /** From the trailer's flush to the final name; any failure or abort on the way discards the file. */
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
      // Step 3: the name, then the directory entry made durable too.
      await this.publish();
      await this.syncDirectory();
      this.checkNotAborted();
      this.current = 'ended';
      this.resolveClosed();
    } catch (error) {
      this.current = 'aborted';
      await this.discard();
      throw error;
    }
  }

  private checkNotAborted(): void {
    if (this.current === 'aborted') throw new Error('FileSink aborted while ending');
  }

  /** Gives the temporary file its final name, atomically, refusing to replace a file unless told to. */
  private async publish(): Promise<void> {
    if (this.overwrite) return this.renameIntoPlace();
    try {
      // A hard link fails if the name is taken, with no window between the check and the rename.
      await call<void>((cb) => this.fs.link(this.tempPath, this.path, cb));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new FileExistsError(this.path);
      if (!NO_HARD_LINKS.has(code)) throw error;
      if (this.fs.lstatSync(this.path, { throwIfNoEntry: false }) !== undefined) throw new FileExistsError(this.path);
      return this.renameIntoPlace();
    }
    this.published = true;
    await call<void>((cb) => this.fs.unlink(this.tempPath, cb));
    this.tempExists = false;
  }

  private async renameIntoPlace(): Promise<void> {
    await call<void>((cb) => this.fs.rename(this.tempPath, this.path, cb));
    this.tempExists = false;
    this.published = true;
  }

  /** fsyncs the directory, so the new name survives a crash; skipped where directories cannot be synced. */
  private async syncDirectory(): Promise<void> {
    let fd: number;
    try {
      fd = await call<number>((cb) => this.fs.open(dirname(this.path), 'r', cb));
    } catch {
      return;
    }
    try {
      await call<void>((cb) => this.fs.fsync(fd, cb));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP'].includes(code)) throw error;
    } finally {
      await call<void>((cb) => this.fs.close(fd, cb)).catch(() => undefined);
    }
  }

  /**
   * After a failure or abort: waits for writes in flight (they cannot be
   * cancelled), closes the handle and removes what was written. Never throws.
   */
  private async discard(): Promise<void> {
    try {
      await this.drained();
      const fd = this.fd;
      this.fd = undefined;
      if (fd !== undefined) await call<void>((cb) => this.fs.close(fd, cb)).catch(() => undefined);
      if (this.published) {
        this.published = false;
        await call<void>((cb) => this.fs.unlink(this.path, cb)).catch(() => undefined);
      }
      if (this.tempExists && !this.keepTemp) {
        this.tempExists = false;
        await call<void>((cb) => this.fs.unlink(this.tempPath, cb)).catch(() => undefined);
      }
    } finally {
      this.resolveClosed();
    }
  }
}

/** A Node-style call as a promise. */
function call<T>(start: (cb: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}
