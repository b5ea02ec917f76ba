/**
 * Named errors. Each has a fixed `name`, so hosts can tell them apart without
 * parsing messages, and a message that says which option, byte or page is wrong.
 */

import { formatDuration } from './sim/format';

/** An option had a value outside what it accepts. `option` names it. */
export class OptionError extends TypeError {
  override readonly name = 'OptionError';
  constructor(
    /** The option, as the caller spelled it (`pageSize`, `blocks[2].name`, …). */
    readonly option: string,
    /** What the option accepts. */
    readonly expected: string,
    /** The value that was given. */
    readonly received: unknown,
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${describe(received)}`);
  }
}

/** A read or write reached outside its block. Nothing was read or written. */
export class OutOfBlockError extends RangeError {
  override readonly name = 'OutOfBlockError';
  constructor(
    readonly block: string,
    readonly offset: number,
    readonly length: number,
    /** The block's size in bytes, or -1 when no block has that name. */
    readonly blockSize: number,
  ) {
    super(
      blockSize < 0
        ? `No block named ${JSON.stringify(block)} (offset ${offset}, length ${length})`
        : `Access outside block ${JSON.stringify(block)}: offset ${offset}, length ${length}, block size ${blockSize}`,
    );
  }
}

/** A memory already has a snapshot running; it takes one at a time. */
export class SnapshotInProgressError extends Error {
  override readonly name = 'SnapshotInProgressError';
  constructor() {
    super('This memory already has a snapshot running; wait for its `done` or unsubscribe from it first');
  }
}

/** The sink failed a write, its start or its close. `cause` holds the sink's error. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(
    /** What the sink was doing: `start`, `write` or `end`. */
    readonly operation: 'start' | 'write' | 'end',
    cause: unknown,
  ) {
    super(`Sink ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A `StreamSink`'s writable was closed or destroyed, without an error of its
 * own, before the snapshot ended: whoever reads the other end has a short
 * stream. The snapshot fails with a `SinkError` whose `cause` is this.
 */
export class StreamClosedError extends Error {
  override readonly name = 'StreamClosedError';
  constructor(
    /** Bytes of the snapshot stream handed to the writable before it closed. */
    readonly bytesHandedOver: number,
    /** Whether the sink was ending (its trailer handed over) when the writable closed. */
    readonly ending: boolean,
  ) {
    super(
      `The writable was closed or destroyed before the snapshot ended, after ${bytesHandedOver} bytes of it were handed over` +
        (ending ? ' (the end was under way)' : ''),
    );
  }
}

/** A pool buffer was given back that the pool did not lend, or was given back twice. */
export class ForeignBufferError extends Error {
  override readonly name = 'ForeignBufferError';
  constructor(detail: string) {
    super(`Buffer not on loan from this pool: ${detail}`);
  }
}

/**
 * A snapshot file or stream is not what the format says (docs/FORMAT.md):
 * corrupted, truncated, or not a snapshot at all. `offset` is the byte where
 * the problem starts, counted from the start of the file.
 */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  constructor(
    /** Byte offset, from the start of the file, where the problem starts. */
    readonly offset: number,
    /** What the format expects there. */
    readonly expected: string,
    /** What is there instead. */
    readonly found: string,
  ) {
    super(`At byte ${offset}: expected ${expected}, found ${found}`);
  }
}

/**
 * How a list of snapshot files breaks the chain rules (docs/FORMAT.md,
 * "Chains"), at the first link that breaks one:
 * - `not-full-first`: link 0 is not a full snapshot;
 * - `version-1`: a version 1 file in a chain of more than one link;
 * - `repeated`: the link has the id of an earlier link;
 * - `not-incremental`: a full snapshot after link 0;
 * - `geometry`: the link's page size or block table differ from the base's;
 * - `other-chain`: the link's root is not the base's id;
 * - `out-of-order`: the link's parent is a later link, or its link number is
 *   below the one before;
 * - `missing`: the link's number is above its place in the list and its
 *   parent is in no link: a link between is missing;
 * - `parent`: the link's parent is not the link before it, otherwise.
 */
export type ChainProblem =
  | 'not-full-first'
  | 'version-1'
  | 'repeated'
  | 'not-incremental'
  | 'geometry'
  | 'other-chain'
  | 'out-of-order'
  | 'missing'
  | 'parent';

/**
 * Snapshot files given as a chain (base first) are not one. Nothing was
 * written. `link` is the index in the list of the first link that breaks
 * a rule, `reason` which rule.
 */
export class ChainError extends Error {
  override readonly name = 'ChainError';
  constructor(
    /** Index in the list of the link that breaks the rule. */
    readonly link: number,
    /** That link's path. */
    readonly path: string,
    readonly reason: ChainProblem,
    /** What is wrong, after "link N (path) ": `is out of order: its parent is link 3 (c.bgsnap)`. */
    detail: string,
  ) {
    super(`Chain link ${link} (${path}) ${detail}`);
  }
}

/**
 * A snapshot cannot be restored into a memory whose page size or blocks
 * differ from the snapshot's. Nothing was written.
 */
export class GeometryMismatchError extends Error {
  override readonly name = 'GeometryMismatchError';
  constructor(
    /** The mismatching field, as the file header spells it (`pageSize`, `blocks[1].size`, …). */
    readonly field: string,
    /** The snapshot's value. */
    readonly snapshot: unknown,
    /** The memory's value. */
    readonly memory: unknown,
  ) {
    super(`Snapshot and memory differ in \`${field}\`: the snapshot has ${describe(snapshot)}, the memory ${describe(memory)}`);
  }
}

/** A sink refused to replace a file that already exists. Nothing was written to it. */
export class FileExistsError extends Error {
  override readonly name = 'FileExistsError';
  constructor(
    /** The existing file. */
    readonly path: string,
    /** The option that allows replacing it. */
    readonly option = 'overwrite',
  ) {
    super(`Refusing to overwrite ${JSON.stringify(path)}: it exists; pass \`${option}: true\` to replace it`);
  }
}

/**
 * A FileSink could not leave the file system as it promises. `committed`
 * says which side of the commit point (the link or rename that gives the file
 * its final name) the failure came on:
 * - `committed: true`: the snapshot file at `path` is complete; a step after
 *   the commit point failed. `syncDirectory`: the directory's fsync (or its
 *   open) failed, so the new name may not survive a crash: sync the directory
 *   or take the snapshot again. `unlink`: the temporary name `leftover` (a
 *   second name of the same file) could not be removed: remove it.
 * - `committed: false`: the snapshot failed or was cancelled, and its
 *   temporary file `leftover` could not be removed: remove it. Nothing is
 *   under `path`.
 */
export class FileSinkError extends Error {
  override readonly name = 'FileSinkError';
  constructor(
    /** The step that failed. */
    readonly step: 'unlink' | 'syncDirectory',
    /** Whether the complete file has its final name. */
    readonly committed: boolean,
    /** The snapshot's final path. */
    readonly path: string,
    /** The temporary file left behind, if any. */
    readonly leftover: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      !committed
        ? `The snapshot was not written, and its temporary file ${JSON.stringify(leftover)} could not be removed (${reason}); remove it`
        : step === 'syncDirectory'
          ? `The snapshot file ${JSON.stringify(path)} is complete, but syncing its directory failed (${reason}): the new name may not survive a crash; sync the directory or take the snapshot again`
          : `The snapshot file ${JSON.stringify(path)} is complete, but its temporary name ${JSON.stringify(leftover)} could not be removed (${reason}); remove it`,
      { cause },
    );
  }
}

/**
 * A file changed while it was being read: its size or modification time
 * differ from when reading began. `memoryWritten` says whether `restore` had
 * begun writing into memory (false: memory is untouched).
 */
export class FileChangedError extends Error {
  override readonly name = 'FileChangedError';
  constructor(
    readonly path: string,
    /** Size and modification time (ms since the epoch) when reading began. */
    readonly before: { readonly size: number; readonly mtimeMs: number },
    /** Size and modification time when the change was seen. */
    readonly after: { readonly size: number; readonly mtimeMs: number },
    readonly memoryWritten: boolean,
  ) {
    const what =
      before.size !== after.size ? `its size went from ${before.size} to ${after.size} bytes` : `its modification time went from ${before.mtimeMs} to ${after.mtimeMs}`;
    super(
      `${JSON.stringify(path)} changed while it was read (${what}); ` +
        (memoryWritten ? 'memory may hold part of it: restore again' : 'nothing was written to memory'),
    );
  }
}

/** How a simulated snapshot was seen to never end (see `SimulationStalledError`). */
export type StallCondition = 'idle' | 'no-progress' | 'over-time';

/**
 * `simulate` gave up on a snapshot that would never end, and cancelled it
 * (every page unprotected, every writer released). `condition` says how it
 * was seen, all in virtual time:
 * - `idle`: nothing was left to run on the clock (every writer blocked, or
 *   none) and the snapshot had not ended: it waits for a callback that never
 *   comes, such as a sink's write or end.
 * - `no-progress`: writers kept the clock running, but the pipeline handed
 *   nothing to storage (no write, no end) for `limitMs`: a thousand times the
 *   longest a working pipeline goes between two hand-overs.
 * - `over-time`: the run reached `limitMs` from t0, twice the longest any
 *   correct snapshot of that memory on that device takes.
 */
export class SimulationStalledError extends Error {
  override readonly name = 'SimulationStalledError';
  constructor(
    readonly condition: StallCondition,
    /** Virtual time (ms) at which the simulation gave up. */
    readonly atMs: number,
    /** Virtual time (ms) at which the pipeline last handed a write or the end to storage. */
    readonly lastProgressMs: number,
    /** The limit that was reached, in virtual ms: without progress (`no-progress`) or from t0 (`over-time`); 0 for `idle`. */
    readonly limitMs: number,
  ) {
    const last = `the last write or end reached the simulated storage at ${formatDuration(lastProgressMs)}`;
    super(
      condition === 'idle'
        ? `The simulated snapshot stalled at ${formatDuration(atMs)} of virtual time: nothing was left to run (every writer blocked, or none) and it had not ended; ${last}. A sink whose write or end never calls back?`
        : condition === 'no-progress'
          ? `The simulated snapshot stalled: nothing reached the simulated storage for ${formatDuration(limitMs)} of virtual time (${last}), while the writers kept running. A sink whose write or end never calls back?`
          : `The simulated snapshot ran past its limit of ${formatDuration(limitMs)} of virtual time, twice what a correct snapshot takes with every page in its own write; ${last}.`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}

/** A writer thread used after `detach()`, or after the saver declared it gone. */
export class WriterDetachedError extends Error {
  override readonly name = 'WriterDetachedError';
  constructor(
    readonly writer: number,
    readonly reason: 'detached' | 'gone',
  ) {
    super(
      reason === 'detached'
        ? `Writer ${writer} is detached; attach again with attachMemory(handle)`
        : `Writer ${writer} did not reach a safe point in time and was declared gone; attach again with attachMemory(handle)`,
    );
  }
}

/** `attachMemory` was called more often than one memory has writer slots. */
export class TooManyWritersError extends RangeError {
  override readonly name = 'TooManyWritersError';
  constructor(readonly limit: number) {
    super(`A memory takes at most ${limit} attached writers over its life`);
  }
}

/**
 * A writer thread completed writes after t0 that the safe point did not see,
 * so the image may hold some of them: the snapshot fails rather than produce
 * an image that matches no cut. It takes a writer that was inside a write
 * while the safe point judged it outside, or one declared gone that came back.
 */
export class CutViolationError extends Error {
  override readonly name = 'CutViolationError';
  constructor(
    readonly writer: number,
    readonly cut: number,
    readonly completed: number,
  ) {
    super(`Writer ${writer} completed ${completed} writes where the cut at t0 said ${cut}; the image is not a consistent cut`);
  }
}

/**
 * A writer on the thread that runs the snapshot touched a protected page: it
 * would wait for a saver that cannot run while it waits. Nothing was written.
 * On that thread, write with `memory.write`, which waits without blocking.
 */
export class SaverThreadWriteError extends Error {
  override readonly name = 'SaverThreadWriteError';
  constructor(
    readonly block: string,
    /** Where the page that is not writable starts in its block. */
    readonly offset: number,
  ) {
    super(
      `A write to the page at offset ${offset} of block ${JSON.stringify(block)}, held by the snapshot running on this thread, would wait forever; use memory.write() on this thread`,
    );
  }
}

/** A command was stopped by a signal (Ctrl-C) and cleaned up: `cleanup` says what is left. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(
    readonly signal: NodeJS.Signals,
    cleanup: string,
  ) {
    super(`Cancelled by ${signal}; ${cleanup}`);
  }
}

/**
 * An object-storage call made by an `S3Sink` failed. `operation` names the
 * S3 call (`UploadPart`, `CompleteMultipartUpload`, …), `bucket` and `key`
 * the object, `uploadId` the multipart upload when there was one; `cause`
 * holds the client's error. `committed` is false for every failure before
 * `CompleteMultipartUpload` succeeded: nothing is under the key then. When
 * the failure is of `AbortMultipartUpload`, the upload `uploadId` may still
 * hold parts: abort it again, or let a lifecycle rule remove it.
 */
export class ObjectSinkError extends Error {
  override readonly name = 'ObjectSinkError';
  constructor(
    readonly operation: string,
    readonly bucket: string,
    readonly key: string,
    readonly uploadId: string | undefined,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `S3 ${operation} of s3://${bucket}/${key}${uploadId === undefined ? '' : ` (upload ${uploadId})`} failed: ${reason}` +
        (operation === 'AbortMultipartUpload' ? '; the upload may still hold parts: abort it again' : ''),
      { cause },
    );
  }
}

/** An `S3Sink` refused to replace an object that exists. Nothing was written under its key. */
export class ObjectExistsError extends Error {
  override readonly name = 'ObjectExistsError';
  constructor(
    readonly bucket: string,
    readonly key: string,
    /** The option that allows replacing it. */
    readonly option = 'overwrite',
  ) {
    super(`Refusing to overwrite s3://${bucket}/${key}: the object exists; pass \`${option}: true\` to replace it`);
  }
}

/**
 * A compressed frame did not decode to the bytes it should: it is corrupt
 * (`found` undefined, `cause` the codec's error), or it decoded to `found`
 * bytes instead of `expected`.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly codec: string,
    readonly expected: number,
    readonly found: number | undefined,
    cause?: unknown,
  ) {
    super(
      found === undefined
        ? `A ${codec} frame is corrupt (${cause instanceof Error ? cause.message : String(cause)}); expected ${expected} bytes from it`
        : `A ${codec} frame decoded to ${found} bytes, expected ${expected}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * An in-process `memory.read` touched a page that a live restore has not
 * loaded yet: `read` cannot wait. Use `memory.readAsync`, which waits for the
 * page (and has it loaded ahead of the background pass). Nothing was read.
 */
export class PageNotLoadedError extends Error {
  override readonly name = 'PageNotLoadedError';
  constructor(
    readonly block: string,
    /** Where the page that is not loaded starts in its block. */
    readonly offset: number,
  ) {
    super(`The page at offset ${offset} of block ${JSON.stringify(block)} is not loaded yet by the live restore; use memory.readAsync() to wait for it`);
  }
}

/**
 * A live restore ended before the page a read or write waited on was
 * loaded: it was cancelled (unsubscribed) or failed (`cause` holds its
 * error, a `FormatError` for a bad record). The pages it did not load keep
 * no valid bytes: every access to them fails so, until the memory is
 * restored again (`restore`, `restoreLive`) or `forgetSnapshots()` declares
 * its bytes valid. Nothing was read or written.
 */
export class LoadAbortedError extends Error {
  override readonly name = 'LoadAbortedError';
  constructor(
    readonly reason: 'cancelled' | 'failed',
    readonly block: string,
    /** Where the page that was not loaded starts in its block. */
    readonly offset: number,
    cause?: unknown,
  ) {
    super(
      `The page at offset ${offset} of block ${JSON.stringify(block)} was not loaded: the live restore ` +
        (reason === 'cancelled' ? 'was cancelled' : `failed (${cause instanceof Error ? cause.message : String(cause)})`),
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A memory is being restored (a live restore, or `restore`): no snapshot, share, restore or live restore until it ends. */
export class RestoreInProgressError extends Error {
  override readonly name = 'RestoreInProgressError';
  constructor(
    /** Which restore holds the memory. */
    readonly restore: 'live' | 'eager' = 'live',
  ) {
    super(
      restore === 'live'
        ? 'This memory is being loaded by a live restore; wait for its `done` or unsubscribe from it first'
        : 'This memory is being written by `restore`; wait for it to end first',
    );
  }
}
