import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

type Work<T> = (this: SchedulerAction<T>, state?: T) => void;

/** What the clock's queue holds. */
interface Queued {
  due: number;
  seq: number;
  queued: boolean;
  run(): void;
  unsubscribe(): void;
}

/** One piece of work on the virtual clock. */
class ClockAction<T> extends Subscription implements SchedulerAction<T>, Queued {
  /** Virtual time it is due at. */
  due = 0;
  /** Order of scheduling, which breaks ties between actions due at the same time. */
  seq = 0;
  /** Whether it waits in the clock's queue now. */
  queued = false;
  state: T | undefined;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: Work<T>,
  ) {
    super();
  }

  run(): void {
    this.work.call(this, this.state);
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.clock.enqueue(this, delay);
    return this;
  }

  override unsubscribe(): void {
    if (this.closed) return;
    if (this.queued) this.clock.dequeue(this);
    super.unsubscribe();
  }
}

/**
 * A virtual-time `SchedulerLike` for long simulations: the clock jumps from
 * one due action to the next, in order of due time and then of scheduling
 * (like RxJS's `VirtualTimeScheduler`). Pending actions wait in a binary heap,
 * so scheduling and running one costs O(log n) where `VirtualTimeScheduler`
 * re-sorts its whole list on every `schedule`. An action can be scheduled
 * again, from its own work or later (as RxJS's `AsyncAction` can): it is
 * reused, not chained to a new one, and only `unsubscribe` ends it.
 * Clock values are milliseconds from 0.
 */
export class VirtualClock implements SchedulerLike {
  private heap: Queued[] = [];
  private time = 0;
  private scheduled = 0;
  private ran = 0;

  now(): number {
    return this.time;
  }

  /** Actions waiting to run. */
  get pending(): number {
    return this.heap.length;
  }

  /** When the next pending action is due; `Infinity` when none is. */
  get nextDue(): number {
    return this.heap[0]?.due ?? Infinity;
  }

  /** Actions run since construction. */
  get executed(): number {
    return this.ran;
  }

  schedule<T>(work: Work<T>, delay = 0, state?: T): Subscription {
    return new ClockAction<T>(this, work).schedule(state, delay);
  }

  /**
   * Charges `ms` of work to the running action: the clock moves on by it at
   * once, as a busy CPU's would, and actions that fell due meanwhile run
   * late, at the clock's time. For costs that are not waiting (a page copy).
   */
  spend(ms: number): void {
    if (ms > 0 && Number.isFinite(ms)) this.time += ms;
  }

  /** Runs every due action in order, advancing the clock, until none is left. */
  flush(): void {
    this.flushUntil(Infinity);
  }

  /**
   * Runs, in order, every action due at or before `limit` (those they
   * schedule included), advancing the clock; later ones stay queued. Returns
   * whether any are left. `flushUntil(t)` then `flushUntil(Infinity)` runs the
   * same actions in the same order as `flush()`.
   */
  flushUntil(limit: number): boolean {
    const heap = this.heap;
    while (heap.length !== 0 && (heap[0] as Queued).due <= limit) {
      const action = this.pop() as Queued;
      // An action due while work was being charged (`spend`) runs late, not in the past.
      if (action.due > this.time) this.time = action.due;
      this.ran++;
      action.run();
    }
    return heap.length !== 0;
  }

  /** @internal (Re)queues `action` at `delay` from now; a delay that is not finite never runs. */
  enqueue(action: Queued, delay: number): void {
    if (action.queued) this.dequeue(action);
    if (!Number.isFinite(delay)) return;
    action.due = this.time + Math.max(0, delay);
    action.seq = this.scheduled++;
    action.queued = true;
    this.heap.push(action);
    this.up(this.heap.length - 1);
  }

  /** @internal Takes `action` out of the queue (a linear search: few actions are pending). */
  dequeue(action: Queued): void {
    const i = this.heap.indexOf(action);
    action.queued = false;
    if (i < 0) return;
    const last = this.heap.pop() as Queued;
    if (i === this.heap.length) return;
    this.heap[i] = last;
    this.down(i);
    this.up(i);
  }

  private pop(): Queued | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Queued;
    if (heap.length !== 0) {
      heap[0] = last;
      this.down(0);
    }
    top.queued = false;
    return top;
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i] as Queued;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Queued;
      if (!before(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i] as Queued;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(heap[right] as Queued, heap[child] as Queued)) child = right;
      const c = heap[child] as Queued;
      if (!before(c, item)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = item;
  }
}

/** Whether `a` runs before `b`: earlier due time, then earlier scheduling. */
function before(a: Queued, b: Queued): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
