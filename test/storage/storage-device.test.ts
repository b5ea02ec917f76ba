import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { StorageDevice, VirtualClock } from '../../src';

const profile = { bandwidth: 1e6, latency: 10, queueDepth: 2 }; // 1 byte per µs: 1000 bytes take 1 ms

describe('StorageDevice', () => {
  it('calls each write back at its booked end, in order, on one timer', () => {
    const clock = new VirtualClock();
    const device = new StorageDevice(profile, clock);
    const done: [number, number][] = [];
    const ends = [0, 1, 2, 3].map((i) => device.submit(1000, () => done.push([i, clock.now()])));
    // Two slots: 10 ms latency each, overlapping; the 1 ms transfers line up on the channel.
    expect(ends).toEqual([11, 12, 22, 23]);
    expect(device.pending).toBe(4);
    expect(clock.pending).toBe(1);
    clock.flush();
    expect(done).toEqual([[0, 11], [1, 12], [2, 22], [3, 23]]);
    expect(device.pending).toBe(0);
  });

  it('takes writes submitted from a callback, and ends nothing early', () => {
    const clock = new VirtualClock();
    const device = new StorageDevice({ ...profile, queueDepth: 1 }, clock);
    const done: number[] = [];
    const next = (left: number): void => {
      device.submit(1000, () => {
        done.push(clock.now());
        if (left > 0) next(left - 1);
      });
    };
    next(2);
    clock.flush();
    expect(done).toEqual([11, 22, 33]);
  });

  it('drops every booked write on cancel, from a callback too, and books new ones after', () => {
    const clock = new VirtualClock();
    const device = new StorageDevice(profile, clock);
    const done: string[] = [];
    device.submit(1000, () => {
      done.push('a');
      device.cancel();
    });
    device.submit(1000, () => done.push('b'));
    clock.flush();
    expect(done).toEqual(['a']);
    expect(device.pending).toBe(0);
    device.submit(1000, () => done.push(`c@${clock.now()}`));
    clock.flush();
    expect(done).toEqual(['a', 'c@22']);
  });

  it('calls back, on a timer that fires late, every write whose end has passed', () => {
    // A real-time clock seen from a stub: the timer fires once, 50 ms late.
    let now = 0;
    const timers: { work: (this: SchedulerAction<unknown>) => void; due: number; action: SchedulerAction<unknown> }[] = [];
    const scheduler: SchedulerLike = {
      now: () => now,
      schedule(work, delay = 0) {
        const action = Object.assign(new Subscription(), {
          schedule(_state?: unknown, d = 0) {
            timers.push({ work: work as never, due: now + d, action });
            return action;
          },
        }) as SchedulerAction<unknown>;
        return action.schedule(undefined, delay);
      },
    };
    const device = new StorageDevice(profile, scheduler);
    const done: number[] = [];
    for (let i = 0; i < 4; i++) device.submit(1000, () => done.push(i));
    expect(timers).toHaveLength(1);
    now = 22.5;
    const timer = timers.shift()!;
    timer.work.call(timer.action);
    // Ends 11, 12 and 22 have passed; 23 has not: the timer is set again for it.
    expect(done).toEqual([0, 1, 2]);
    expect(timers.map((t) => t.due)).toEqual([23]);
  });

  it('works on a scheduler that runs work before `schedule` returns', () => {
    let now = 0;
    const scheduler: SchedulerLike = {
      now: () => now,
      schedule(work, delay = 0) {
        const action = Object.assign(new Subscription(), {
          schedule(_state?: unknown, d = 0) {
            now += d;
            (work as (this: SchedulerAction<unknown>) => void).call(action);
            return action;
          },
        }) as SchedulerAction<unknown>;
        return action.schedule(undefined, delay);
      },
    };
    const device = new StorageDevice(profile, scheduler);
    const done: number[] = [];
    for (let i = 0; i < 3; i++) device.submit(1000, () => done.push(now));
    expect(done).toEqual([11, 22, 33]);
    expect(device.pending).toBe(0);
  });
});
