import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { snapshot, VirtualSink } from '../../src';
import { numberedMemory, only } from '../support/fixtures';
import { marbles } from '../support/marbles';

// Every write takes 5 frames, so a group like (ab) fits before the next write completes.
const LATENCY = 5;

describe('bulk pass', () => {
  // Rule: with one credit, the bulk pass saves pages in order, one write at a time.
  it('saves pages in order with capacity 1', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    const saved$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '     -----a----b----c----(d|)',
      { a: 'bulk 0', b: 'bulk 1', c: 'bulk 2', d: 'bulk 3' },
    );
  }));

  // Rule: with two credits, two writes are in flight at once, still in page order.
  it('saves pages in order with capacity 2', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 2, latency: LATENCY });
    const saved$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '     -----(ab)-(cd|)',
      { a: 'bulk 0', b: 'bulk 1', c: 'bulk 2', d: 'bulk 3' },
    );
  }));

  // Rule: contiguous pages go to the sink as one run of up to `runBytes`, never across a block.
  it('coalesces contiguous pages into runs within a block', marbles((m) => {
    const memory = numberedMemory(5);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    const saved$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 1024, maxWriteBytes: 1024, detail: true, scheduler: m.scheduler });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '     -----a----b----(c|)',
      { a: 'bulk 0+2', b: 'bulk 2+2', c: 'bulk 4' },
    );
  }));

  // Rule: a bulk page is unprotected the frame its write completes, not later.
  it('unprotects each bulk run when its write completes', marbles((m) => {
    const memory = numberedMemory(3);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    const events$ = snapshot(memory, sink, { strategy: 'copy', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('unprotected'))).toBeObservable(
      '     -----a----b----(c|)',
      { a: 'u:bulk 0', b: 'u:bulk 1', c: 'u:bulk 2' },
    );
  }));

  // Rule: every page is protected at t0, synchronously on subscribe; unsubscribing unprotects all.
  it('protects every page on subscribe', () => {
    const scheduler = new VirtualTimeScheduler();
    const memory = numberedMemory(3);
    const sink = new VirtualSink({ scheduler, capacity: 1, latency: LATENCY });
    const subscription = snapshot(memory, sink, { scheduler }).subscribe();
    expect([0, 1, 2].map((p) => memory.isProtected('ram', p))).toEqual([true, true, true]);
    subscription.unsubscribe();
    expect([0, 1, 2].map((p) => memory.isProtected('ram', p))).toEqual([false, false, false]);
  });
});
