import { EMPTY, merge, throwError, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { queueStrategy, SinkError, snapshot, VirtualSink, type Sink, type SnapshotEvent, type Strategy } from '../../src';
import { numberedMemory } from '../support/fixtures';
import { expectAllUnprotected } from '../support/invariants';

/** Runs a snapshot in virtual time, with one faulting write at tick 1; returns what happened. */
async function run(makeSink: (scheduler: VirtualTimeScheduler) => Sink, strategy: Strategy = queueStrategy) {
  const scheduler = new VirtualTimeScheduler();
  const sink = makeSink(scheduler);
  const memory = numberedMemory(4);
  let released = false;
  scheduler.schedule(() => void memory.write('ram', 3 * 512, new Uint8Array([1])).then(() => (released = true)), 1);
  const events: SnapshotEvent[] = [];
  let error: unknown;
  let completed = false;
  snapshot(memory, sink, { strategy, runBytes: 512, maxWriteBytes: 512, scheduler }).subscribe({
    next: (e) => events.push(e),
    error: (e: unknown) => (error = e),
    complete: () => (completed = true),
  });
  scheduler.flush();
  await new Promise((r) => setImmediate(r));
  return { memory, events, error, completed, released };
}


describe('a sink or strategy that misbehaves', () => {
  it('a sink whose write throws fails the snapshot with a SinkError and releases everything', async () => {
    const r = await run((scheduler) =>
      Object.assign(new VirtualSink({ scheduler }), {
        write: () => {
          throw new Error('boom');
        },
      }),
    );
    expect(r.error).toBeInstanceOf(SinkError);
    expect((r.error as SinkError).operation).toBe('write');
    expect(r.released).toBe(true);
    expectAllUnprotected(r.memory);
  });

  it('a sink whose end throws fails the snapshot with a SinkError', async () => {
    const scheduler = new VirtualTimeScheduler();
    const inner = new VirtualSink({ scheduler, latency: 1 });
    inner.end = () => {
      throw new Error('no end');
    };
    const memory = numberedMemory(2);
    let error: unknown;
    snapshot(memory, inner, { scheduler }).subscribe({ error: (e: unknown) => (error = e) });
    scheduler.flush();
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).operation).toBe('end');
    expectAllUnprotected(memory);
  });

  it('a sink whose abort throws still lets the error through', async () => {
    const scheduler = new VirtualTimeScheduler();
    const inner = new VirtualSink({ scheduler, latency: 1, fail: () => new Error('EIO') });
    inner.abort = () => {
      throw new Error('abort failed too');
    };
    const memory = numberedMemory(2);
    let error: unknown;
    snapshot(memory, inner, { scheduler }).subscribe({ error: (e: unknown) => (error = e) });
    scheduler.flush();
    expect(error).toBeInstanceOf(SinkError);
    expectAllUnprotected(memory);
  });

  it('counts and times every fault once, however the strategy subscribes to them', async () => {
    const twice: Strategy = { name: 'twice', usesPool: false, serve: (f, c) => merge(queueStrategy.serve(f, c), queueStrategy.serve(f, c)) };
    const never: Strategy = { name: 'never', usesPool: false, serve: () => EMPTY };
    for (const strategy of [twice, never]) {
      const r = await run((scheduler) => new VirtualSink({ scheduler, latency: 2 }), strategy);
      const done = r.events.find((e) => e.type === 'done');
      expect(done?.type === 'done' && done.stats.faults).toBe(1);
      expect(done?.type === 'done' && done.stats.stall.count).toBe(1);
      expect(r.released).toBe(true);
    }
  });

  it('a strategy that fails as it starts fails the snapshot before the sink starts', async () => {
    const calls: string[] = [];
    const sink: Sink = { capacity: 1, start: () => calls.push('start'), write: () => calls.push('write'), end: () => calls.push('end'), abort: () => void calls.push('abort') };
    const broken: Strategy = { name: 'broken', usesPool: false, serve: () => throwError(() => new Error('no')) };
    const r = await run(() => sink, broken);
    expect((r.error as Error).message).toBe('no');
    expect(calls).toEqual(['abort']);
    expect(r.events).toEqual([]);
    expectAllUnprotected(r.memory);
  });
});
