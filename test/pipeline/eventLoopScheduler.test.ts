import { describe, expect, it } from 'vitest';
import { eventLoopScheduler } from '../../src';

describe('eventLoopScheduler', () => {
  it('runs zero-delay work after pending I/O callbacks, on a sub-millisecond clock', async () => {
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      eventLoopScheduler.schedule(() => {
        order.push('work');
        resolve();
      });
      order.push('sync');
    });
    expect(order).toEqual(['sync', 'work']);
    const a = eventLoopScheduler.now();
    const b = eventLoopScheduler.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - Date.now())).toBeLessThan(50);
  });

  it('lets work reschedule itself, with a delay, and cancels on unsubscribe', async () => {
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      eventLoopScheduler.schedule(
        function (n) {
          seen.push(n ?? -1);
          if (n !== undefined && n < 3) this.schedule(n + 1, 1);
          else resolve();
        },
        0,
        1,
      );
    });
    expect(seen).toEqual([1, 2, 3]);
    let ran = false;
    eventLoopScheduler.schedule(() => (ran = true), 5).unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(false);
  });
});

describe('eventLoopScheduler, short delays', () => {
  it('never runs work before its delay, however short', async () => {
    const measure = (delay: number) =>
      new Promise<number>((resolve) => {
        const start = eventLoopScheduler.now();
        eventLoopScheduler.schedule(() => resolve(eventLoopScheduler.now() - start), delay);
      });
    for (const delay of [0.05, 0.3, 1.5, 2.5]) expect(await measure(delay)).toBeGreaterThanOrEqual(delay);
  });
});
