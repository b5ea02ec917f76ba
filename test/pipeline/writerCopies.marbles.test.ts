import { share } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  PageState,
  snapshot,
  VirtualSink,
  type PageBufferPool,
  type ProtectOptions,
  type ProtectionSession,
  type SnapshotMemory,
} from '../../src';
import { numberedMemory, only } from '../support/fixtures';
import { marbles } from '../support/marbles';

const LATENCY = 5;

/**
 * A memory whose "writer thread" is the test: `writerCopies(page)` does what a
 * writer does under `copy` (claim a pool buffer and the page, copy, unprotect,
 * report), in virtual time, so the pipeline's handling of it can be pinned.
 */
function memoryWithWriter(pages: number) {
  const inner = numberedMemory(pages);
  let options: ProtectOptions = {};
  let session: ProtectionSession | undefined;
  let raise: ((page: number) => void) | undefined;
  const memory: SnapshotMemory = {
    pageSize: inner.pageSize,
    blocks: inner.blocks,
    pageCount: inner.pageCount,
    protect(onFault, given = {}) {
      options = given;
      raise = onFault;
      session = inner.protect(onFault, given);
      return session;
    },
  };
  return {
    memory,
    inner,
    pool: (): PageBufferPool | undefined => options.pool,
    /** A writer thread's fault report as the ring delivers it: possibly after the page was saved. */
    reportFault(page: number): void {
      raise?.(page);
    },
    writerCopies(page: number): boolean {
      const claimed = this.writerClaims(page);
      claimed?.();
      return claimed !== undefined;
    },
    /** The first half: claims a buffer and the page; the returned function copies and reports. */
    writerClaims(page: number): (() => void) | undefined {
      const buffer = options.pool?.acquire();
      if (buffer === undefined || session === undefined) return undefined;
      if (Atomics.compareExchange(inner.states, page, PageState.Protected, PageState.Claimed) !== PageState.Protected) {
        options.pool?.release(buffer);
        return undefined;
      }
      const held = session;
      return () => {
        held.copy(page, buffer);
        Atomics.store(inner.states, page, PageState.Writable);
        options.onCopied?.(page, buffer);
      };
    },
  };
}

describe('pages writer threads copied themselves', () => {
  // Rule: a writer's own copy is written ahead of the bulk pass, like the
  // saver's copies; the pipeline does not unprotect it again (the writer did,
  // at its copy), and its buffer returns to the pool after the write.
  it('are written before the next bulk page and their buffers come back', marbles((m) => {
    const w = memoryWithWriter(4);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    const borrowed: number[] = [];
    m.hot('    --c----r').subscribe((v) => {
      if (v === 'c') expect(w.writerCopies(3)).toBe(true);
      borrowed.push(w.pool()?.borrowed ?? -1);
    });
    const events$ = snapshot(w.memory, sink, { strategy: 'copy', poolPages: 1, runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler }).pipe(share());
    m.expect(events$.pipe(only('fault'))).toBeObservable(
      '        --f-----------------|',
      { f: 'f3' },
    );
    m.expect(events$.pipe(only('unprotected'))).toBeObservable(
      '        --u--a---------b----(c|)',
      { u: 'u:copy 3', a: 'u:bulk 0', b: 'u:bulk 1', c: 'u:bulk 2' },
    );
    m.expect(events$.pipe(only('saved'))).toBeObservable(
      '        -----a----b----c----(d|)',
      { a: 'bulk 0', b: 'copy 3', c: 'bulk 1', d: 'bulk 2' },
    );
    m.flush();
    // Lent at the copy (frame 2); back after its write (frame 10) — sampled at 2 and 7.
    expect(borrowed).toEqual([1, 1]);
    expect(w.pool()?.borrowed).toBe(0);
  }));

  // Rule: the snapshot does not end while a writer holds a page it claimed for
  // its own copy and has not reported yet: the bulk pass skips that page, and
  // `done` waits for the copy's report and write.
  it('waits for a page a writer claimed and has not reported', marbles((m) => {
    const w = memoryWithWriter(2);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    let report: (() => void) | undefined;
    m.hot('    c-------------------r').subscribe((v) => {
      if (v === 'c') report = w.writerClaims(1);
      else report?.();
    });
    const events$ = snapshot(w.memory, sink, { strategy: 'copy', poolPages: 1, runBytes: 512, maxWriteBytes: 512, detail: true, scheduler: m.scheduler });
    m.expect(events$.pipe(only('saved', 'done'))).toBeObservable(
      '        -----a-------------------(bd|)',
      { a: 'bulk 0', b: 'copy 1', d: 'done' },
    );
  }));

  // Rule: a page a writer copied is not saved again by the bulk pass, and
  // counts once as a fault and once as a copy.
  it('count as faults served by a copy, saved once', marbles((m) => {
    const w = memoryWithWriter(2);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    c').subscribe(() => expect(w.writerCopies(1)).toBe(true));
    let stats: { faults: number; saved: { bulk: number; copy: number } } | undefined;
    snapshot(w.memory, sink, { strategy: 'copy', poolPages: 1, runBytes: 512, maxWriteBytes: 512, scheduler: m.scheduler }).subscribe((e) => {
      if (e.type === 'done') stats = e.stats;
    });
    m.flush();
    expect(stats).toMatchObject({ faults: 1, saved: { bulk: 1, copy: 1 } });
    expect(sink.log.map((r) => `${r.via} ${r.page}`)).toEqual(['bulk 0', 'copy 1']);
  }));

  // Rule: a writer thread's fault report that reaches the pipeline after its
  // page was saved counts as a fault with no wait left to time, and changes
  // nothing else.
  it('count a late fault report with a zero stall', marbles((m) => {
    const w = memoryWithWriter(2);
    const sink = new VirtualSink({ scheduler: m.scheduler, capacity: 1, latency: LATENCY });
    m.hot('    -------f').subscribe(() => w.reportFault(0));
    let stats: { faults: number; stall: { count: number; max: number }; saved: { bulk: number } } | undefined;
    const events$ = snapshot(w.memory, sink, { strategy: 'queue', runBytes: 512, maxWriteBytes: 512, scheduler: m.scheduler });
    events$.subscribe((e) => {
      if (e.type === 'done') stats = e.stats;
    });
    m.flush();
    expect(stats).toMatchObject({ faults: 1, stall: { count: 1, max: 0 }, saved: { bulk: 2 } });
    expect(sink.log.map((r) => `${r.via} ${r.page}`)).toEqual(['bulk 0', 'bulk 1']);
  }));
});
