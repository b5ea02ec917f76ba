import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src';

describe('VirtualClock', () => {
  it('runs actions by due time, then in the order they were scheduled', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.schedule(() => log.push(`a@${clock.now()}`), 5);
    clock.schedule(() => log.push(`b@${clock.now()}`), 2.5);
    clock.schedule(() => log.push(`c@${clock.now()}`), 5);
    clock.schedule(() => {
      log.push(`d@${clock.now()}`);
      clock.schedule(() => log.push(`e@${clock.now()}`), 0);
    }, 2.5);
    clock.flush();
    expect(log).toEqual(['b@2.5', 'd@2.5', 'e@2.5', 'a@5', 'c@5']);
    expect(clock.executed).toBe(5);
    expect(clock.pending).toBe(0);
  });

  it('reuses an action that schedules itself again, from its work or later', () => {
    const clock = new VirtualClock();
    const times: number[] = [];
    let later: (() => void) | undefined;
    const action = clock.schedule(function (this: { schedule(state?: unknown, delay?: number): unknown }) {
      times.push(clock.now());
      if (times.length < 3) this.schedule(undefined, 1);
      else if (times.length === 3) later = () => this.schedule(undefined, 10);
    }, 1);
    clock.flush();
    expect(times).toEqual([1, 2, 3]);
    later?.();
    expect(clock.pending).toBe(1);
    clock.flush();
    expect(times).toEqual([1, 2, 3, 13]);
    action.unsubscribe();
    later?.();
    expect(clock.pending).toBe(0);
  });

  it('drops an unsubscribed action and never runs one with a delay that is not finite', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const cancelled = clock.schedule(() => log.push('cancelled'), 1);
    clock.schedule(() => log.push('never'), Infinity);
    clock.schedule(() => log.push('kept'), 2);
    cancelled.unsubscribe();
    expect(clock.pending).toBe(1);
    clock.flush();
    expect(log).toEqual(['kept']);
    expect(clock.now()).toBe(2);
  });

  it('keeps order with many pending actions (a heap, not a sorted list)', () => {
    const clock = new VirtualClock();
    const delays = Array.from({ length: 500 }, (_, i) => (i * 7919) % 101);
    const seen: number[] = [];
    delays.forEach((d) => clock.schedule(() => seen.push(clock.now()), d));
    clock.flush();
    expect(seen).toEqual([...delays].sort((a, b) => a - b));
  });

  it('flushes up to a limit, leaving later actions queued, in the order flush() runs them', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.schedule(() => log.push(`a@${clock.now()}`), 5);
    clock.schedule(() => {
      log.push(`b@${clock.now()}`);
      clock.schedule(() => log.push(`c@${clock.now()}`), 2);
      clock.schedule(() => log.push(`d@${clock.now()}`), 4);
    }, 1);
    expect(clock.flushUntil(3)).toBe(true);
    expect(log).toEqual(['b@1', 'c@3']);
    expect(clock.now()).toBe(3);
    expect(clock.nextDue).toBe(5);
    expect(clock.flushUntil(4.5)).toBe(true);
    expect(log).toHaveLength(2);
    expect(clock.flushUntil(Infinity)).toBe(false);
    expect(log).toEqual(['b@1', 'c@3', 'a@5', 'd@5']);
  });
});
