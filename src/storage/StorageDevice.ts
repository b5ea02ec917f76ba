import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { Fifo } from '../pipeline/Fifo';
import type { StorageProfile } from './profiles';

/**
 * The time a `StorageProfile` device takes, on a scheduler's clock. Writes
 * are served in submission order; each takes one of `queueDepth` slots from
 * its start, through its latency, until its transfer on the shared channel
 * ends. Every write's end is booked on the model's own timeline when it is
 * submitted, so timers that fire late or early do not add up; in real time
 * they fire within about a millisecond of the booked time.
 *
 * Booked ends never decrease in submission order (each transfer follows the
 * one before on the channel), so the device keeps its pending writes in a
 * queue and one timer, due at the oldest one's end: a write allocates no
 * action of its own.
 */
export class StorageDevice {
  /** Booked ends of the last `queueDepth` writes, oldest first: when each slot frees. */
  private readonly slotEnds = new Fifo<number>();
  /** Clock time at which the channel finishes its last booked transfer. */
  private channelFreeAt = -Infinity;
  /** Pending writes, oldest first: booked ends and callbacks, side by side from `head`. */
  private ends: number[] = [];
  private dones: ((() => void) | undefined)[] = [];
  private head = 0;
  /** The timer, due at the oldest pending write's end; undefined when none is pending. */
  private timer: Subscription | undefined;
  /** Whether the timer's work is completing writes (it sets the timer again after). */
  private firing = false;
  /** Times the timer's work has run: a scheduler may run it before `schedule` returns. */
  private fired = 0;
  private readonly fire: (this: SchedulerAction<void>) => void;

  constructor(
    private readonly profile: Required<StorageProfile>,
    private readonly scheduler: SchedulerLike,
  ) {
    const device = this;
    this.fire = function (this: SchedulerAction<void>) {
      device.complete(this);
    };
  }

  /** Writes booked and not yet done. */
  get pending(): number {
    return this.ends.length - this.head;
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
    // Step 3: the callback at the booked end: the timer is set for the oldest pending write.
    this.ends.push(end);
    this.dones.push(done);
    if (this.timer === undefined && !this.firing) {
      const fired = this.fired;
      const timer = this.scheduler.schedule(this.fire, end - now);
      // Work that ran already has set the timer again, or cleared it.
      if (this.fired === fired) this.timer = timer;
    }
    return end;
  }

  /** Drops every booked write; their `done` never runs. */
  cancel(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.ends = [];
    this.dones = [];
    this.head = 0;
  }

  /**
   * The timer's work: the oldest pending write is due, and so is any other
   * whose end has passed (a timer that fired late, in real time). Then the
   * timer is set again for the next one.
   */
  private complete(action: SchedulerAction<void>): void {
    this.fired++;
    this.firing = true;
    try {
      for (let due = true; this.head < this.ends.length; due = false) {
        if (!due && (this.ends[this.head] as number) > this.scheduler.now()) break;
        const done = this.dones[this.head] as () => void;
        this.dones[this.head] = undefined;
        this.head++;
        // May submit the next write, or cancel the device.
        done();
      }
    } finally {
      this.firing = false;
      this.rearm(action);
    }
  }

  /** After the timer fired: set it for the oldest pending write, or clear it. */
  private rearm(action: SchedulerAction<void>): void {
    // Keep the queue's consumed prefix small.
    if (this.head > 1024 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.dones = this.dones.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.ends.length) {
      this.timer = undefined;
      return;
    }
    const delay = (this.ends[this.head] as number) - this.scheduler.now();
    // A cancel from a callback closed the action; later submits need a new one.
    this.timer = action.closed ? this.scheduler.schedule(this.fire, delay) : action.schedule(undefined, delay);
  }
}
