import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

type Work<T> = (this: SchedulerAction<T>, state?: T) => void;

/** One scheduled piece of work: `setImmediate` for no delay, `setTimeout` otherwise. */
class EventLoopAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private immediate = false;
  private state: T | undefined;

  constructor(private readonly work: Work<T>) {
    super();
    this.add(() => this.cancel());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.cancel();
    this.state = state;
    this.immediate = !(delay > 0);
    this.handle = this.immediate ? setImmediate(this.run) : setTimeout(this.run, delay);
    return this;
  }

  private readonly run = (): void => {
    this.handle = undefined;
    try {
      this.work.call(this, this.state);
    } finally {
      // Work that did not schedule itself again is finished.
      if (this.handle === undefined) this.unsubscribe();
    }
  };

  private cancel(): void {
    if (this.handle === undefined) return;
    if (this.immediate) clearImmediate(this.handle as ReturnType<typeof setImmediate>);
    else clearTimeout(this.handle as ReturnType<typeof setTimeout>);
    this.handle = undefined;
  }
}

/**
 * The default scheduler: real time, with a clock in fractional milliseconds
 * (`performance.now()` from the epoch) and zero-delay work run by
 * `setImmediate`. That yields to I/O and timers between batches at a cost of
 * microseconds, where `asyncScheduler`'s `setInterval(…, 0)` costs a
 * millisecond per yield, and `asapScheduler` runs on microtasks and does not
 * yield to I/O at all.
 */
export const eventLoopScheduler: SchedulerLike = {
  now: () => performance.timeOrigin + performance.now(),
  schedule<T>(work: Work<T>, delay = 0, state?: T): Subscription {
    return new EventLoopAction<T>(work).schedule(state, delay);
  },
};
