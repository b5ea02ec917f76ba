import type { SchedulerLike, Subscription } from 'rxjs';
import { Fifo } from '../pipeline/Fifo';
import type { StorageProfile } from './profiles';

/**
 * The time a `StorageProfile` device takes, on a scheduler's clock. Writes
 * are served in submission order; each takes one of `queueDepth` slots from
 * its start, through its latency, until its transfer on the shared channel
 * ends. Every write's end is booked on the model's own timeline when it is
 * submitted, so timers that fire late or early do not add up; in real time
 * they fire within about a millisecond of the booked time.
 */
export class StorageDevice {
  private readonly timers = new Set<Subscription>();
  /** Booked ends of the last `queueDepth` writes, oldest first: when each slot frees. */
  private readonly slotEnds = new Fifo<number>();
  /** Clock time at which the channel finishes its last booked transfer. */
  private channelFreeAt = -Infinity;

  constructor(
    private readonly profile: Required<StorageProfile>,
    private readonly scheduler: SchedulerLike,
  ) {}

  /** Writes booked and not yet done. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Books a write of `bytes`; `done` runs on the scheduler when the device
   * has written it. Returns the booked end, on the scheduler's clock.
   */
  submit(bytes: number, done: () => void): number {
    const { bandwidth, latency, queueDepth } = this.profile;
    const now = this.scheduler.now();
    // Step 1: a slot. Ends come in submission order, so the slot that frees
    // first is the one the write `queueDepth` places back had.
    const slotFree = this.slotEnds.length < queueDepth ? -Infinity : (this.slotEnds.shift() as number);
    const start = Math.max(now, slotFree);
    // Step 2: the latency, then the transfer once the channel is free.
    const end = Math.max(start + latency, this.channelFreeAt) + (bytes / bandwidth) * 1000;
    this.channelFreeAt = end;
    this.slotEnds.push(end);
    // Step 3: the callback at the booked end.
    let fired = false;
    // eslint-disable-next-line prefer-const -- read by the work, which may run before `schedule` returns
    let timer: Subscription | undefined;
    timer = this.scheduler.schedule(() => {
      fired = true;
      if (timer !== undefined) this.timers.delete(timer);
      done();
    }, end - now);
    if (!fired) this.timers.add(timer);
    return end;
  }

  /** Drops every booked write; their `done` never runs. */
  cancel(): void {
    for (const timer of this.timers) timer.unsubscribe();
    this.timers.clear();
  }
}
