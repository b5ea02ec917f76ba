import { OptionError } from '../errors';
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

type Work<T> = (this: SchedulerAction<T>, state?: T) => void;

/** Below this delay (ms), `setTimeout` is too coarse: wait by polling the clock from `setImmediate`. */
const POLL_BELOW_MS = 2;

const now = (): number => performance.timeOrigin + performance.now();

/**
 * One scheduled piece of work: `setImmediate` for no delay, polling the clock
 * from `setImmediate` for delays under 2 ms, `setTimeout` for most of a longer
 * delay and polling for the rest. Work never runs before its due time.
 */
class EventLoopAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
  private immediate = false;
  private due = 0;
  private state: T | undefined;

  constructor(private readonly work: Work<T>) {
    super();
    this.add(() => this.cancel());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.cancel();
    this.state = state;
    this.due = delay > 0 ? now() + delay : 0;
    this.immediate = !(delay >= POLL_BELOW_MS);
    // setTimeout truncates to whole milliseconds and may fire early: sleep a little
    // less than the delay, then poll the clock to the due time.
    this.handle = this.immediate ? setImmediate(this.poll) : setTimeout(this.poll, Math.floor(delay - 1));
    return this;
  }

  /** Runs the work once its due time has come; until then, checks again on the next turn. */
  private readonly poll = (): void => {
    if (this.due !== 0 && now() < this.due) {
      this.immediate = true;
      this.handle = setImmediate(this.poll);
      return;
    }
    this.run();
  };

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
 * (`performance.now()` from the epoch). Zero-delay work runs from
 * `setImmediate`: that yields to I/O and timers between batches at a cost of
 * microseconds, where `asyncScheduler`'s `setInterval(…, 0)` costs a
 * millisecond per yield and `asapScheduler` runs on microtasks, which never
 * yield to I/O. Delays under 2 ms, which `setTimeout` would round up to a
 * millisecond or more, are kept by polling the clock once per event-loop turn
 * (the loop keeps serving I/O meanwhile); longer ones sleep in `setTimeout`
 * and poll the last millisecond. Work never runs early. Polling costs CPU
 * while such a wait is pending: the loop spins through `setImmediate`.
 */
export const eventLoopScheduler: SchedulerLike = {
  now,
  schedule<T>(work: Work<T>, delay = 0, state?: T): Subscription {
    return new EventLoopAction<T>(work).schedule(state, delay);
  },
};

/**
 * The `scheduler` option as given, or `eventLoopScheduler` when it is not.
 * @throws OptionError naming `scheduler` for anything that is not a `SchedulerLike`.
 */
export function resolveScheduler(scheduler: unknown): SchedulerLike {
  const resolved = (scheduler ?? eventLoopScheduler) as Partial<SchedulerLike> | null;
  if (typeof resolved?.schedule !== 'function' || typeof resolved.now !== 'function') {
    throw new OptionError('scheduler', 'an RxJS SchedulerLike', scheduler);
  }
  return resolved as SchedulerLike;
}
