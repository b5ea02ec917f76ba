import { Subject, Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { drainByPriority } from '../../src/pipeline/drainByPriority';

/**
 * A scheduler whose clock the test moves, and that holds what it is given to
 * run until the test runs it: a turn of work that takes time, in miniature.
 */
function heldScheduler() {
  let clock = 0;
  const held: (() => void)[] = [];
  const scheduler: SchedulerLike = {
    now: () => clock,
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void): Subscription {
      held.push(() => work.call({} as SchedulerAction<T>));
      return new Subscription();
    },
  };
  return { scheduler, held, tick: (ms: number) => (clock += ms) };
}

describe('drainByPriority turns', () => {
  // Rule: a turn ends after `turnMs` of work on the scheduler's clock, whatever
  // the weight handed out: with a sink that completes every write at once and
  // each job taking 1 ms to make, a 4 ms turn hands out 4 batches, then yields
  // to the scheduler, and the next turn hands out 4 more.
  it('yields after turnMs of work, even when every write completes at once', () => {
    const { scheduler, held, tick } = heldScheduler();
    const credits$ = new Subject<void>();
    const batches: number[][] = [];
    let turns = 0;
    const subscription = drainByPriority<number>({
      capacity: 1,
      credits$,
      wake$: new Subject<void>(),
      sources: [() => (tick(1), batches.length)],
      weight: () => 1,
      turnBudget: Infinity,
      turnMs: 4,
      scheduler,
      onTurn: () => turns++,
    }).subscribe((batch) => {
      batches.push(batch);
      credits$.next();
    });
    expect(batches).toHaveLength(4);
    expect(held).toHaveLength(1);
    (held.shift() as () => void)();
    expect(turns).toBe(1);
    expect(batches).toHaveLength(8);
    expect(held).toHaveLength(1);
    subscription.unsubscribe();
  });
});
