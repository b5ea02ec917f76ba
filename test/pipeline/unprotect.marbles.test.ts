import { isProtected } from '../../src/memory/contract';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { copyStrategy, snapshot, VirtualSink, type PageBufferPool, type Strategy } from '../../src';
import { numberedMemory, only } from '../support/fixtures';
import { marbles } from '../support/marbles';

const W = new Uint8Array([0xee]);
const PAGE3 = 3 * 512;

describe('when pages are unprotected', () => {
  // Rule (queue): a faulted page is unprotected, and its writer's bytes land,
  // the frame its own write completes: here 5 (page 0's write) + 5.
  it('queue: at the completion of the page write', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: 5 });
    m.hot('    --w').subscribe(() => void memory.write('ram', PAGE3, W));
    const events$ = snapshot(memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('fault', 'unprotected'))).toBeObservable(
      '        --f--a----b----c----(d|)',
      { f: 'f3', a: 'u:bulk 0', b: 'u:fault 3', c: 'u:bulk 1', d: 'u:bulk 2' },
    );
    // What page 3 holds, sampled between frames: the write lands at frame 10.
    const byte$ = m.cold('-a-b-----c-d|').pipe(mapToByte(() => memory.read('ram', PAGE3, 1)[0]));
    m.expect(byte$).toBeObservable(
      '        -o-o-----o-w|',
      { o: 4, w: 0xee },
    );
  }));

  // Rule (copy): a faulted page is unprotected at its copy, the frame of the
  // fault; its copy is written later, ahead of the bulk pass.
  it('copy: at the copy, before the copy is written', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: 6 });
    m.hot('    --w').subscribe(() => void memory.write('ram', PAGE3, W));
    const events$ = snapshot(memory, sink, { strategy: 'copy', runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('fault', 'unprotected', 'saved'))).toBeObservable(
      '        --(fu)(sa)--c-----(tb)--(vd|)',
      { f: 'f3', u: 'u:copy 3', s: 'bulk 0', a: 'u:bulk 0', c: 'copy 3', t: 'bulk 1', b: 'u:bulk 1', v: 'bulk 2', d: 'u:bulk 2' },
    );
    const byte$ = m.cold('-a-b-----c-d|').pipe(mapToByte(() => memory.read('ram', PAGE3, 1)[0]));
    m.expect(byte$).toBeObservable(
      '        -o-w-----w-w|',
      { o: 4, w: 0xee },
    );
  }));

  // Rule: however many faults and copies wait, writes in flight never exceed the sink's capacity.
  it('never exceeds the sink capacity', marbles((m) => {
    const memory = numberedMemory(8);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 2, latency: 3 });
    m.hot('    -abcdefg').subscribe((v) => void memory.write('ram', (v.charCodeAt(0) - 96) * 512, W));
    const events$ = snapshot(memory, sink, { strategy: 'copy', poolPages: 3, runBytes: 512, maxWriteBytes: 512, scheduler: m.scheduler });
    m.expect(events$.pipe(only('done'))).toBeObservable('------------(d|)', { d: 'done' });
    m.flush();
    expect(sink.maxInFlight).toBe(2);
    expect(sink.log).toHaveLength(8);
  }));

  // Rule: a cancel in the middle releases everyone: every page unprotected, the
  // waiting write applied, pool buffers back, the sink aborted, and no `done`.
  it('cancel releases writers, pages and buffers', marbles((m) => {
    const memory = numberedMemory(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: 5 });
    let pool: PageBufferPool | undefined;
    const watched: Strategy = { ...copyStrategy, serve: (faults$, context) => ((pool = context.pool), copyStrategy.serve(faults$, context)) };
    m.hot('    --ab').subscribe((v) => void memory.write('ram', v === 'a' ? PAGE3 : 2 * 512, W));
    const events$ = snapshot(memory, sink, { strategy: watched, poolPages: 1, runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('saved', 'done')), '^------!').toBeObservable(
      '        -----a--',
      { a: 'bulk 0' },
    );
    m.flush();
    expect(!memory.states.some(isProtected)).toBe(true);
    expect(memory.read('ram', 2 * 512, 1)[0]).toBe(0xee);
    expect(pool?.borrowed).toBe(0);
    expect(sink.state).toBe('aborted');
    expect(memory.snapshotting).toBe(false);
  }));
});

function mapToByte(read: () => number | undefined) {
  return map(() => read());
}
