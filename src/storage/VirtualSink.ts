import type { SchedulerLike, Subscription } from 'rxjs';
import { OptionError } from '../errors';
import { checkCapacity } from './checkCapacity';
import { ImageStore } from './ImageStore';
import type { SinkState } from './MemorySink';
import type { PageRun, SaveVia, SnapshotHeader, Sink, SinkCallback } from './Sink';

export interface VirtualSinkOptions {
  /** The clock writes take their time on: a TestScheduler, a VirtualTimeScheduler, or a real one. */
  readonly scheduler: SchedulerLike;
  /**
   * Writes accepted in flight.
   * @default 1
   */
  readonly capacity?: number;
  /**
   * Scheduler ticks one write takes: a number, or a function of the run (for
   * a write of several runs, `writeRuns`, the largest of theirs).
   * @default 1
   */
  readonly latency?: number | ((run: PageRun) => number);
  /**
   * Keep an image of what was written (copied when each write completes, so a
   * page changed while its write was in flight shows up as a wrong image).
   * @default true
   */
  readonly keepImage?: boolean;
  /** Fails the write for which it returns an error, for any of its runs (`index` counts writes from 0). */
  readonly fail?: (run: PageRun, index: number) => Error | undefined;
}

/** One completed write, as the virtual sink logged it. */
export interface WriteRecord {
  /** Which write of the snapshot carried the run, from 0: runs of one `writeRuns` share it. */
  readonly write: number;
  readonly block: number;
  readonly page: number;
  readonly count: number;
  readonly via: SaveVia;
  /** Scheduler time the write was handed over. */
  readonly startedAt: number;
  /** Scheduler time it completed. */
  readonly doneAt: number;
}

/**
 * A sink whose writes take a given number of scheduler ticks. Marble specs and
 * the simulator run on it; it logs every write and the most writes it ever
 * had in flight, so tests can check the pipeline against it.
 */
export class VirtualSink implements Sink {
  readonly capacity: number;
  /** Every completed write, in completion order. */
  readonly log: WriteRecord[] = [];

  private readonly scheduler: SchedulerLike;
  private readonly latency: (run: PageRun) => number;
  private readonly keepImage: boolean;
  private readonly fail: VirtualSinkOptions['fail'];
  private readonly images = new ImageStore();
  private readonly pending = new Set<Subscription>();
  private current: SinkState = 'idle';
  private writes = 0;
  private inFlight = 0;
  private peakInFlight = 0;

  constructor(options: VirtualSinkOptions) {
    this.scheduler = options.scheduler;
    this.capacity = checkCapacity(options.capacity ?? 1);
    const latency = options.latency ?? 1;
    if (typeof latency === 'number' && (!Number.isFinite(latency) || latency < 0)) {
      throw new OptionError('latency', 'a number of ticks from 0 up, or a function of the run', latency);
    }
    this.latency = typeof latency === 'number' ? () => latency : latency;
    this.keepImage = options.keepImage ?? true;
    this.fail = options.fail;
  }

  get state(): SinkState {
    return this.current;
  }

  /** The most writes that were ever in flight at once. */
  get maxInFlight(): number {
    return this.peakInFlight;
  }

  image(block: string): Uint8Array {
    return this.images.image(block);
  }

  start(header: SnapshotHeader): void {
    if (this.keepImage) this.images.reset(header.blocks, header.pageSize);
    this.current = 'open';
  }

  write(run: PageRun, done: SinkCallback): void {
    this.writeRuns([run], done);
  }

  /** Stores the runs as one write: one latency, one log entry per run, all with the same `write`. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    const index = this.writes++;
    const startedAt = this.scheduler.now();
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    let failure: Error | undefined;
    let latency = 0;
    for (const run of runs) {
      failure ??= this.fail?.(run, index);
      latency = Math.max(latency, this.latency(run));
    }
    let completed = false;
    // eslint-disable-next-line prefer-const -- read by the callback, which may run before `schedule` returns
    let action: Subscription | undefined;
    action = this.scheduler.schedule(() => {
      completed = true;
      if (action !== undefined) this.pending.delete(action);
      this.inFlight--;
      if (failure !== undefined) return done(failure);
      const doneAt = this.scheduler.now();
      for (const run of runs) {
        if (this.keepImage) this.images.store(run);
        this.log.push({ write: index, block: run.block, page: run.page, count: run.count, via: run.via, startedAt, doneAt });
      }
      done();
    }, latency);
    if (!completed) this.pending.add(action);
  }

  end(done: SinkCallback): void {
    this.current = 'ended';
    done();
  }

  abort(): void {
    this.current = 'aborted';
    for (const action of this.pending) action.unsubscribe();
    this.pending.clear();
    this.inFlight = 0;
  }
}
