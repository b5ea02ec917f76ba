import { filter, share } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { snapshot, VirtualSink } from '../../src';
import { numberedMemory, only } from '../support/fixtures';
import { marbles } from '../support/marbles';

const LATENCY = 5;
const W = new Uint8Array([0xee]);
const PAGE = 512;

describe('writes that carry as much as they can', () => {
  // Rule: one sink write carries a waiting fault, pending copies and bulk pages
  // together, as records in priority order: the fault, then the copies, then the
  // bulk pass's next pages (its share of the write, 1 page of 4 here).
  it('carries a fault, copies and bulk pages in one write', marbles((m) => {
    const memory = numberedMemory(12);
    // Writes take 7 frames here, so that a group of four saves fits between two.
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: 7 });
    // Pages 8 and 9 are copied (the pool holds 2); page 10 finds the pool empty and waits.
    m.hot('    --w').subscribe(() => {
      void memory.write('ram', 8 * PAGE, W);
      void memory.write('ram', 9 * PAGE, W);
      void memory.write('ram', 10 * PAGE, W);
    });
    const saved$ = snapshot(memory, sink, {
      strategy: 'copy',
      poolPages: 2,
      runBytes: 4 * PAGE,
      minWriteBytes: 4 * PAGE,
      maxWriteBytes: 4 * PAGE,
      detail: true,
      scheduler: m.scheduler,
    });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '        -------a------(fcdb)-(eg|)',
      { a: 'bulk 0+4', f: 'fault 10', c: 'copy 8', d: 'copy 9', b: 'bulk 4', e: 'bulk 5+3', g: 'bulk 11' },
    );
    m.flush();
    // The second write of the sink is the one that carried all four.
    expect(sink.log.filter((r) => r.write === 1).map((r) => `${r.via} ${r.page}`)).toEqual(['fault 10', 'copy 8', 'copy 9', 'bulk 4']);
    expect(sink.maxInFlight).toBe(1);
  }));

  // Rule: under a flood of faults the bulk pass still gets its share of every
  // write (bulkShare 0.25: 1 page of 4), so it progresses whatever the fault rate.
  it('gives the bulk pass its share of every write under a flood of faults', marbles((m) => {
    const memory = numberedMemory(24);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    // One write over pages 12..23: twelve faults at once, all waiting.
    m.hot('    -w').subscribe(() => void memory.write('ram', 12 * PAGE, new Uint8Array(12 * PAGE).fill(0xee)));
    const saved$ = snapshot(memory, sink, {
      strategy: 'queue',
      runBytes: 4 * PAGE,
      minWriteBytes: 4 * PAGE,
      maxWriteBytes: 4 * PAGE,
      bulkShare: 0.25,
      detail: true,
      scheduler: m.scheduler,
    }).pipe(share());
    const bulk$ = saved$.pipe(only('saved'), filter((s) => s.startsWith('bulk')));
    const faults$ = saved$.pipe(only('saved'), filter((s) => s.startsWith('fault')));
    m.expect(bulk$).toBeObservable(
      '        -----a----b----c----d----e----(f|)',
      { a: 'bulk 0+4', b: 'bulk 4', c: 'bulk 5', d: 'bulk 6', e: 'bulk 7', f: 'bulk 8+4' },
    );
    m.expect(faults$).toBeObservable(
      '        ----------(abc)(def)(ghi)(jkl)|',
      {
        a: 'fault 12', b: 'fault 13', c: 'fault 14',
        d: 'fault 15', e: 'fault 16', f: 'fault 17',
        g: 'fault 18', h: 'fault 19', i: 'fault 20',
        j: 'fault 21', k: 'fault 22', l: 'fault 23',
      },
    );
  }));

  // Rule: the write size doubles while writes complete with no fault waiting,
  // up to maxWriteBytes; a write made while a fault waits is cut to
  // minWriteBytes; then the size goes on from where it was.
  it('cuts the write size while a fault waits', marbles((m) => {
    const memory = numberedMemory(32);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    ------------w').subscribe(() => void memory.write('ram', 30 * PAGE, W));
    const saved$ = snapshot(memory, sink, {
      strategy: 'queue',
      runBytes: 8 * PAGE,
      minWriteBytes: PAGE,
      maxWriteBytes: 8 * PAGE,
      detail: true,
      scheduler: m.scheduler,
    });
    m.expect(saved$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----c----d----e----f----(gh|)',
      { a: 'bulk 0', b: 'bulk 1+2', c: 'bulk 3+4', d: 'fault 30', e: 'bulk 7+8', f: 'bulk 15+8', g: 'bulk 23+7', h: 'bulk 31' },
    );
  }));
});
