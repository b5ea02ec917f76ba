import type { SchedulerAction } from 'rxjs';
import { PageState } from '../memory/contract';
import type { GeometryMemory } from './GeometryMemory';
import type { RandomStream } from './random';
import type { VirtualClock } from './VirtualClock';
import type { PageChooser } from './workload';

/** What the writers did, seen from their side. */
export interface WriterStats {
  /** Writes made, blocked or not. */
  readonly writes: number;
  /** Writes that hit a protected page and waited. */
  readonly blocked: number;
  /** Milliseconds the writers spent waiting, summed over writers. */
  readonly blockedMs: number;
}

/** One writer's state. */
interface Writer {
  readonly random: RandomStream;
  /** Its one action, rescheduled for each write; undefined before its first. */
  action: SchedulerAction<void> | undefined;
  /** The page of its next write when already drawn, or -1. */
  nextPage: number;
  /** When its current write was made, for the time it blocks. */
  blockedAt: number;
  /** Its scheduled work: one write. */
  readonly work: (this: SchedulerAction<void>) => void;
  /** Runs when its blocked write's page is unprotected. */
  readonly released: () => void;
}

/**
 * Closed-loop writers on a virtual clock: each thinks for an exponential
 * time, writes one page through the memory's write barrier, and thinks again
 * once the write is done — at once, or when a blocked page is unprotected.
 *
 * Each writer owns one action, rescheduled for each write (a `VirtualClock`
 * reuses it), so the clock's queue never holds more than one action per
 * writer and writing allocates nothing. A write that cannot block and comes
 * before anything else on the clock changes nothing anyone else sees, so it
 * is made at once instead of scheduled: from the writer's action, the writes
 * that follow are made in a loop while they land on writable pages before the
 * clock's next action. Protection only ever goes from protected to writable
 * during a snapshot, and only in an action, so the results are those of
 * scheduling every write — with a fraction of the clock's work.
 */
export class Writers {
  private readonly writers: Writer[];
  private readonly meanThinkMs: number;
  private stopped = true;
  private writes = 0;
  private blocked = 0;
  private blockedMs = 0;

  constructor(
    private readonly memory: GeometryMemory,
    private readonly clock: VirtualClock,
    private readonly chooser: PageChooser,
    writesPerSecond: number,
    /** One random stream per writer. */
    streams: readonly RandomStream[],
  ) {
    this.meanThinkMs = 1000 / writesPerSecond;
    const self = this;
    this.writers = streams.map((random) => {
      const writer: Writer = {
        random,
        action: undefined,
        nextPage: -1,
        blockedAt: 0,
        work(this: SchedulerAction<void>) {
          writer.action = this;
          self.write(writer);
        },
        released: () => this.onReleased(writer),
      };
      return writer;
    });
  }

  get stats(): WriterStats {
    return { writes: this.writes, blocked: this.blocked, blockedMs: this.blockedMs };
  }

  /** Starts every writer: its first write comes after a think time from now. */
  start(): void {
    this.stopped = false;
    for (const writer of this.writers) this.schedule(writer, writer.random.exponential(this.meanThinkMs));
  }

  /** Stops every writer: pending writes are cancelled, blocked writers stay idle when released. */
  stop(): void {
    this.stopped = true;
    for (const writer of this.writers) writer.action?.unsubscribe();
  }

  private schedule(writer: Writer, delay: number): void {
    if (this.stopped) return;
    if (writer.action === undefined) this.clock.schedule(writer.work, delay);
    else writer.action.schedule(undefined, delay);
  }

  /** The writer's action: its write now, then the writes that cannot block before the clock's next action. */
  private write(writer: Writer): void {
    if (this.stopped) return;
    const { random, released } = writer;
    const states = this.memory.states;
    const start = this.clock.now();
    // Step 1: the write that is due, through the write barrier.
    const page = writer.nextPage >= 0 ? writer.nextPage : this.chooser.pick(random);
    writer.nextPage = -1;
    this.writes++;
    writer.blockedAt = start;
    if (!this.memory.touch(page, released)) {
      // Blocked: `released` runs at the unprotect (maybe already has, for a copy).
      this.blocked++;
      return;
    }
    // Step 2: the writes that follow, drawn in the writer's order (think time, then
    // page), made here while they are due before anything else and cannot block.
    const horizon = this.clock.nextDue;
    let at = start;
    for (;;) {
      at += random.exponential(this.meanThinkMs);
      const next = this.chooser.pick(random);
      if (!(at < horizon) || horizon === Infinity || states[next] !== PageState.Writable) {
        // Step 3: the first one that may block, or that comes after the next action, is scheduled.
        writer.nextPage = next;
        return this.schedule(writer, at - start);
      }
      this.writes++;
    }
  }

  private onReleased(writer: Writer): void {
    this.blockedMs += this.clock.now() - writer.blockedAt;
    this.schedule(writer, writer.random.exponential(this.meanThinkMs));
  }
}
