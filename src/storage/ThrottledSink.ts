import type { SchedulerLike } from 'rxjs';
import { OptionError } from '../errors';
import { resolveScheduler } from '../scheduling/eventLoopScheduler';
import { resolveProfile, type StorageProfile, type StorageProfileName } from './profiles';
import type { PageRun, SnapshotHeader, Sink, SinkCallback, WriteSizeHint } from './Sink';
import { joinCallbacks, writeRunsTo } from './writeRuns';
import { StorageDevice } from './StorageDevice';

export interface ThrottledSinkOptions {
  /** The device to act like: `'hdd'`, `'ssd'`, `'nvme'` (see `storageProfiles`), or your own figures. */
  readonly profile: StorageProfileName | StorageProfile;
  /**
   * The clock the device's time passes on: the snapshot's scheduler, so that
   * throttled snapshots run in virtual time too.
   * @default eventLoopScheduler
   */
  readonly scheduler?: SchedulerLike;
  /**
   * What a write costs on the device: `'pages'`, its full pages (zero pages
   * included), or `'stored'`, the bytes the inner sink stored for it (its
   * `storedBytes` grew by: zero pages as bits, compressed records as frames;
   * pages when the inner sink does not say).
   * @default 'pages'
   */
  readonly bytes?: 'pages' | 'stored';
}

/**
 * Gives any sink the bandwidth and per-write latency of a storage device.
 * Each write goes to the inner sink at once and is booked on a model of the
 * device (`StorageDevice`); its credit comes back when both are done. Every
 * write counts its full pages (`count * pageSize`), zero pages included, so it
 * works over sinks of memories that have no bytes; with `bytes: 'stored'`, it
 * counts what the inner sink stored instead (compressed records as frames). The capacity is the inner
 * sink's. A write of several runs (`writeRuns`) is one device write: one
 * latency for all its bytes.
 *
 * It suggests write sizes from the profile (`writeSize`): start at
 * `latency × bandwidth` (where the latency is half a write's time) and grow
 * up to `9 × latency × bandwidth` (where it is a tenth), each rounded up to a
 * power of two and kept within 64 KiB to 4 MiB for the start and from 4 MiB
 * up for the most. On `hdd`: 2 MiB growing up to 16 MiB; on `ssd` and
 * `nvme`: 64 KiB growing up to 4 MiB.
 *
 * @example
 * const sink = new ThrottledSink(new FileSink('guest.bgsnap'), { profile: 'hdd' });
 */
export class ThrottledSink implements Sink {
  /** The device's figures, frozen: a named profile is shared, a custom one copied. */
  readonly profile: Readonly<Required<StorageProfile>>;
  private readonly scheduler: SchedulerLike;
  private device: StorageDevice | undefined;
  private pageSize = 0;
  private aborted = false;
  /** Book the bytes the inner sink stored, not the pages. */
  private readonly stored: boolean;

  constructor(
    readonly inner: Sink,
    options: ThrottledSinkOptions,
  ) {
    if (typeof inner?.write !== 'function') throw new OptionError('inner', 'a Sink', inner);
    this.profile = resolveProfile(options?.profile);
    const scheduler = resolveScheduler(options.scheduler);
    this.scheduler = scheduler;
    const bytes = options.bytes ?? 'pages';
    if (bytes !== 'pages' && bytes !== 'stored') throw new OptionError('bytes', "'pages' or 'stored'", bytes);
    this.stored = bytes === 'stored';
  }

  get capacity(): number {
    return this.inner.capacity;
  }

  /** Write sizes that suit the profile (see the class comment). */
  get writeSize(): WriteSizeHint {
    return writeSizeFor(this.profile);
  }

  /** Settles when the inner sink is closed: its `whenClosed()`, if it has one (which may reject, as FileSink's does). */
  whenClosed(): Promise<void> {
    const inner = this.inner as Partial<{ whenClosed(): Promise<void> }>;
    return typeof inner.whenClosed === 'function' ? inner.whenClosed() : Promise.resolve();
  }

  start(header: SnapshotHeader): void {
    this.aborted = false;
    this.pageSize = header.pageSize;
    this.device = new StorageDevice(this.profile, this.scheduler);
    this.inner.start(header);
  }

  write(run: PageRun, done: SinkCallback): void {
    this.writeRuns([run], done);
  }

  /** One device write for all the runs; the inner sink gets them as one write too, if it can. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    // The credit comes back when both the inner write and the device's time are done.
    const settle = joinCallbacks(2, done, () => this.aborted);
    let pages = 0;
    for (const run of runs) pages += run.count;
    const before = this.stored ? this.inner.storedBytes : undefined;
    if (before === undefined) {
      (this.device as StorageDevice).submit(pages * this.pageSize, () => settle());
      return writeRunsTo(this.inner, runs, settle);
    }
    // The inner sink encodes the runs as it takes them: what it stored is known once it has them.
    writeRunsTo(this.inner, runs, settle);
    (this.device as StorageDevice).submit((this.inner.storedBytes ?? before) - before, () => settle());
  }

  end(done: SinkCallback): void {
    this.inner.end(done);
  }

  abort(reason: unknown): void | PromiseLike<void> {
    this.aborted = true;
    this.device?.cancel();
    return this.inner.abort(reason);
  }
}

const KIB64 = 64 * 1024;
const MIB4 = 4 * 1024 * 1024;

/** The write sizes a device profile suggests (see `ThrottledSink`). */
export function writeSizeFor(profile: Required<StorageProfile>): WriteSizeHint {
  const perWrite = (profile.latency / 1000) * profile.bandwidth;
  return {
    start: Math.min(MIB4, Math.max(KIB64, powerOfTwoAtLeast(perWrite))),
    max: Math.max(MIB4, powerOfTwoAtLeast(9 * perWrite)),
  };
}

function powerOfTwoAtLeast(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}
