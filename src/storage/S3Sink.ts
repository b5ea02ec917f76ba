import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ObjectExistsError, ObjectSinkError, OptionError } from '../errors';
import { RecordEncoder } from '../format/encode';
import { checkCapacity } from './checkCapacity';
import { CloseSignal } from './CloseSignal';
import type { PageRun, SnapshotHeader, Sink, SinkCallback } from './Sink';

const MiB = 1024 * 1024;
/** S3's smallest part, but for the last one. */
export const MIN_PART_BYTES = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_BYTES = 5 * 1024 * MiB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;

export interface S3SinkOptions {
  /** The client the sink sends its calls through (region, endpoint, credentials are its own). */
  readonly client: S3Client;
  readonly bucket: string;
  /** The object's key: nothing is under it until the snapshot is complete. */
  readonly key: string;
  /**
   * Bytes of each part but the last: from 5 MiB (S3's minimum) to 5 GiB. A
   * snapshot has at most 10,000 parts, so at most 10,000 × `partBytes` bytes.
   * @default 8 MiB
   */
  readonly partBytes?: number;
  /**
   * Part buffers the sink holds at once, the one being filled among them:
   * the sink never holds more than `partsInFlight × partBytes` bytes of the
   * snapshot. While they are all uploading, writes wait (their callbacks and
   * so the pipeline's credits with them) until a part's upload completes.
   * @default 4
   */
  readonly partsInFlight?: number;
  /**
   * Replace an object that exists under the key. Off, the sink refuses one
   * (`ObjectExistsError`): it looks at start (HeadObject), again before the
   * commit, and makes the commit conditional (`If-None-Match: *`) where the
   * server supports it.
   * @default false
   */
  readonly overwrite?: boolean;
  /**
   * Writes accepted in flight: the pipeline's credits. A write's callback
   * runs once its bytes are copied into a part buffer, at once while a
   * buffer has room, else when an upload frees one.
   * @default 4
   */
  readonly capacity?: number;
}

/**
 * `idle` until `start`; `open` while it takes writes; `ending` from `end()`
 * until the end's callback; `ended` once the upload is complete (the object
 * exists); `aborted` once the snapshot failed or `abort()` ran.
 */
export type S3SinkState = 'idle' | 'open' | 'ending' | 'ended' | 'aborted';

/** A write whose bytes are not all copied into part buffers yet: views of the run, valid until `done`. */
interface Pending {
  readonly chunks: Uint8Array[];
  /** Index of the next chunk to copy, and how far into it. */
  next: number;
  offset: number;
  readonly done?: SinkCallback;
}

/** What follows the last record: the page index and the trailer. */
function endOfSnapshot(encoder: RecordEncoder): Uint8Array[] {
  return encoder.end();
}

/**
 * Writes a snapshot (docs/FORMAT.md) as one object in S3 or an S3-compatible
 * store, through a multipart upload, with `@aws-sdk/client-s3`'s calls.
 *
 * The encoded stream is copied into part buffers of `partBytes`; each full
 * one is sent with `UploadPart` while the next fills. At most
 * `partsInFlight` buffers exist, so the sink holds at most
 * `partsInFlight × partBytes` bytes; when every one is uploading, writes
 * wait, and so does the pipeline (real backpressure: the snapshot goes as
 * fast as the uploads).
 *
 * `CompleteMultipartUpload` is the commit point: before it nothing exists
 * under the key. A failure or an abort before it waits for the parts in
 * flight, then sends `AbortMultipartUpload`, so that no part is left
 * behind; `abort()` returns a promise that settles when that is done. After
 * it, an abort is ignored and the object stays.
 *
 * @example
 * const sink = new S3Sink({ client: new S3Client({}), bucket: 'snapshots', key: 'guest.bgsnap' });
 * await lastValueFrom(snapshot(memory, sink));
 */
export class S3Sink implements Sink {
  readonly capacity: number;
  readonly bucket: string;
  readonly key: string;
  readonly partBytes: number;
  readonly partsInFlight: number;

  private readonly client: S3Client;
  private readonly overwrite: boolean;
  private current: S3SinkState = 'idle';
  private encoder: RecordEncoder | undefined;
  /** HeadObject (without `overwrite`) then CreateMultipartUpload; parts are sent after it. */
  private prepared: Promise<void> | undefined;
  private uploadId: string | undefined;
  /** The part being filled, and its bytes so far. */
  private part: Buffer | undefined;
  private partFill = 0;
  /** Buffers whose upload completed, ready to fill again. */
  private readonly spare: Buffer[] = [];
  /** Buffers allocated: the ones uploading, the one filling and the spare ones. */
  private buffers = 0;
  private peakBuffers = 0;
  private readonly pending: Pending[] = [];
  private pumping = false;
  private readonly completed: CompletedPart[] = [];
  private partsSent = 0;
  private uploading = 0;
  private idleWaiters: (() => void)[] = [];
  /** The first failure; every later write and the end fail with it. */
  private failure: Error | undefined;
  /** The end's callback, until the end settles. */
  private ending: SinkCallback | undefined;
  private abortRequested = false;
  private committed = false;
  private cleanup: Promise<void> | undefined;
  /** When the output is in place or removed. */
  private readonly signal = new CloseSignal();

  constructor(options: S3SinkOptions) {
    if (typeof options !== 'object' || options === null) throw new OptionError('options', 'an object', options);
    const client = options.client as unknown;
    if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
      throw new OptionError('client', 'an S3Client', client);
    }
    if (typeof options.bucket !== 'string' || options.bucket.length === 0) throw new OptionError('bucket', 'a non-empty string', options.bucket);
    if (typeof options.key !== 'string' || options.key.length === 0) throw new OptionError('key', 'a non-empty string', options.key);
    const partBytes = options.partBytes ?? 8 * MiB;
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES || partBytes > MAX_PART_BYTES) {
      throw new OptionError('partBytes', `an integer from ${MIN_PART_BYTES} (5 MiB) to ${MAX_PART_BYTES} (5 GiB)`, partBytes);
    }
    const partsInFlight = options.partsInFlight ?? 4;
    if (!Number.isSafeInteger(partsInFlight) || partsInFlight < 1 || partsInFlight > 64) {
      throw new OptionError('partsInFlight', 'an integer from 1 to 64', partsInFlight);
    }
    const overwrite = options.overwrite ?? false;
    if (typeof overwrite !== 'boolean') throw new OptionError('overwrite', 'a boolean', overwrite);
    this.capacity = checkCapacity(options.capacity ?? 4);
    this.client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.partBytes = partBytes;
    this.partsInFlight = partsInFlight;
    this.overwrite = overwrite;
  }

  get state(): S3SinkState {
    return this.current;
  }

  /** Bytes of part buffers the sink holds now (uploading, filling or spare). */
  get heldBytes(): number {
    return this.buffers * this.partBytes;
  }

  /** The most bytes of part buffers the sink held at once: at most `partsInFlight × partBytes`. */
  get peakHeldBytes(): number {
    return this.peakBuffers * this.partBytes;
  }

  /** The multipart upload's id, once CreateMultipartUpload answered. */
  get multipartUploadId(): string | undefined {
    return this.uploadId;
  }

  /**
   * Settles when the sink is done with the store: the upload completed, or
   * (after a failure or abort) aborted. Rejects with an `ObjectSinkError`
   * when the upload could not be aborted (its `uploadId` names it).
   */
  whenClosed(): Promise<void> {
    return this.signal.closed;
  }

  start(header: SnapshotHeader): void {
    if (this.current !== 'idle') throw new Error(`An S3Sink writes one snapshot; this one is ${this.current}`);
    this.encoder = new RecordEncoder(header);
    const head = this.encoder.headerBytes;
    this.current = 'open';
    this.prepared = this.prepare();
    // A failure shows up in the next write or the end; the promise itself is awaited before each part.
    this.prepared.catch((error: unknown) => this.fail(error as Error));
    this.pending.push({ chunks: [head], next: 0, offset: 0 });
    this.pump();
  }

  write(run: PageRun, done: SinkCallback): void {
    this.writeRuns([run], done);
  }

  /** The runs' records, in order; one credit, whose `done` runs once their bytes are copied into part buffers. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    if (this.current !== 'open' || this.failure !== undefined) {
      return done(this.failure ?? new Error(`S3Sink cannot write: it is ${this.current}`));
    }
    const chunks: Uint8Array[] = [];
    try {
      for (const run of runs) (this.encoder as RecordEncoder).encode(run, chunks);
    } catch (error) {
      return done(error as Error);
    }
    this.pending.push({ chunks, next: 0, offset: 0, done });
    this.pump();
  }

  end(done: SinkCallback): void {
    if (this.current !== 'open') return done(new Error(`S3Sink cannot end: it is ${this.current}`));
    this.current = 'ending';
    this.ending = done;
    if (this.failure !== undefined) return this.finishWith(this.failure);
    this.pending.push({ chunks: endOfSnapshot(this.encoder as RecordEncoder), next: 0, offset: 0 });
    this.pump();
    this.commit().then(
      () => this.settleEnd(undefined),
      (error: unknown) => this.finishWith(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /**
   * Drops the snapshot: waits for the parts in flight, then aborts the
   * multipart upload, so that nothing is left under the key nor in the
   * upload. After the commit point (the upload completed) it is ignored.
   * Settles once the sink is done with the store; never rejects
   * (`whenClosed()` reports an abort that failed).
   */
  abort(reason?: unknown): Promise<void> {
    if (this.current === 'ended' || this.current === 'aborted') return this.signal.settled;
    if (this.current === 'ending') {
      // The end sees it before it commits; once CompleteMultipartUpload is sent, the object stays.
      this.abortRequested = true;
      this.fail(reason instanceof Error ? reason : new Error('S3Sink aborted'));
      return this.signal.settled;
    }
    this.current = 'aborted';
    this.fail(reason instanceof Error ? reason : new Error('S3Sink aborted'));
    void this.discard();
    return this.signal.settled;
  }

  private async prepare(): Promise<void> {
    if (!this.overwrite && (await this.exists())) throw new ObjectExistsError(this.bucket, this.key);
    const created = await this.call('CreateMultipartUpload', () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: 'application/octet-stream' })),
    );
    if (created.UploadId === undefined) throw new ObjectSinkError('CreateMultipartUpload', this.bucket, this.key, undefined, new Error('no UploadId in the answer'));
    this.uploadId = created.UploadId;
    // An abort that came while the upload was being created: the discard, waiting on this, aborts it.
  }

  /** Whether an object is under the key (HeadObject; a 404 is no object). */
  private async exists(): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const name = (error as { name?: string }).name;
      if (status === 404 || name === 'NotFound' || name === 'NoSuchKey') return false;
      throw new ObjectSinkError('HeadObject', this.bucket, this.key, undefined, error);
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new ObjectSinkError(operation, this.bucket, this.key, this.uploadId, error);
    }
  }

  /**
   * Copies pending bytes into part buffers, in order, sending each full part;
   * a write's callback runs once its last byte is copied. Stops when every
   * buffer is uploading; an upload's completion calls it again.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.pending.length > 0 && this.failure === undefined) {
        const entry = this.pending[0] as Pending;
        while (entry.next < entry.chunks.length) {
          if (this.part === undefined && !this.takeBuffer()) return;
          const part = this.part as Buffer;
          const chunk = entry.chunks[entry.next] as Uint8Array;
          const n = Math.min(chunk.length - entry.offset, part.length - this.partFill);
          part.set(chunk.subarray(entry.offset, entry.offset + n), this.partFill);
          this.partFill += n;
          entry.offset += n;
          if (entry.offset === chunk.length) {
            entry.next++;
            entry.offset = 0;
          }
          if (this.partFill === part.length) this.sendPart();
        }
        this.pending.shift();
        // May hand over the next write, which is queued behind and copied by this loop.
        entry.done?.();
      }
      // Every byte is copied: the end sends the last, partial, part.
      if (this.current === 'ending' && this.pending.length === 0 && this.failure === undefined && this.partFill > 0) this.sendPart();
    } finally {
      this.pumping = false;
    }
  }

  /** A buffer to fill: a spare one, or a new one while fewer than `partsInFlight` exist. */
  private takeBuffer(): boolean {
    const spare = this.spare.pop();
    if (spare !== undefined) {
      this.part = spare;
    } else if (this.buffers < this.partsInFlight) {
      this.part = Buffer.allocUnsafeSlow(this.partBytes);
      this.buffers++;
      this.peakBuffers = Math.max(this.peakBuffers, this.buffers);
    } else {
      return false;
    }
    this.partFill = 0;
    return true;
  }

  private sendPart(): void {
    const buffer = this.part as Buffer;
    const body = buffer.subarray(0, this.partFill);
    this.part = undefined;
    this.partFill = 0;
    const number = ++this.partsSent;
    this.uploading++;
    const sent = (async () => {
      if (number > MAX_PARTS) {
        throw new ObjectSinkError('UploadPart', this.bucket, this.key, this.uploadId, new RangeError(`more than ${MAX_PARTS} parts: raise partBytes`));
      }
      await this.prepared;
      if (this.failure !== undefined) return;
      const answer = await this.call('UploadPart', () =>
        this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: number, Body: body })),
      );
      this.completed[number - 1] = {
        PartNumber: number,
        ETag: answer.ETag,
        ...(answer.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: answer.ChecksumCRC32 }),
      };
    })();
    sent.then(
      () => {
        this.uploading--;
        this.spare.push(buffer);
        this.wakeIdle();
        this.pump();
      },
      (error: unknown) => {
        this.uploading--;
        this.spare.push(buffer);
        this.fail(error as Error);
        this.wakeIdle();
      },
    );
  }

  /** Records the first failure and fails the writes waiting to be copied. */
  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const waiting = this.pending.splice(0);
    for (const entry of waiting) entry.done?.(error);
  }

  private wakeIdle(): void {
    if (this.uploading === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves when no part is uploading. */
  private idle(): Promise<void> {
    if (this.uploading === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** From the end's last part to CompleteMultipartUpload, the commit point. */
  private async commit(): Promise<void> {
    await this.prepared;
    // The last part goes once every byte is copied; wait until it is sent and every part is stored.
    while (this.failure === undefined && (this.pending.length > 0 || this.partFill > 0 || this.uploading > 0)) {
      await this.idle();
      if (this.pending.length > 0 || this.partFill > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.failure !== undefined) throw this.failure;
    if (!this.overwrite && (await this.exists())) throw new ObjectExistsError(this.bucket, this.key);
    if (this.abortRequested || this.failure !== undefined) throw this.failure ?? new Error('S3Sink aborted while ending');
    const parts = this.completed.slice(0, this.partsSent);
    const complete = (conditional: boolean) =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: parts },
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
    try {
      await complete(!this.overwrite);
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const name = (error as { name?: string }).name;
      if (!this.overwrite && (status === 412 || name === 'PreconditionFailed')) throw new ObjectExistsError(this.bucket, this.key);
      if (this.overwrite || !(status === 501 || name === 'NotImplemented')) {
        throw new ObjectSinkError('CompleteMultipartUpload', this.bucket, this.key, this.uploadId, error);
      }
      // A server without conditional writes: the HeadObject just before stands in for it.
      await this.call('CompleteMultipartUpload', () => complete(false));
    }
    this.committed = true;
  }

  private settleEnd(error: Error | undefined): void {
    const done = this.ending;
    this.ending = undefined;
    if (error === undefined) {
      this.current = 'ended';
      this.signal.resolve();
    }
    done?.(error);
  }

  /** The end failed before the commit point: the upload is aborted, then the end fails. */
  private finishWith(error: Error): void {
    if (this.committed) return this.settleEnd(undefined);
    this.current = 'aborted';
    this.fail(error);
    void this.discard().then(() => this.settleEnd(error));
  }

  /**
   * Before the commit point, after a failure or abort: waits for the
   * upload's creation and every part in flight, then aborts the upload.
   * Settles `whenClosed()`. Never throws.
   */
  private discard(): Promise<void> {
    this.cleanup ??= (async () => {
      await this.prepared?.catch(() => undefined);
      await this.idle();
      const uploadId = this.uploadId;
      if (uploadId === undefined) return this.signal.resolve();
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId }));
        this.signal.resolve();
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404) this.signal.resolve();
        else this.signal.reject(new ObjectSinkError('AbortMultipartUpload', this.bucket, this.key, uploadId, error));
      }
    })();
    return this.cleanup;
  }
}
