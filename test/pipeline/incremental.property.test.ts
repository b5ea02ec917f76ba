import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, PagedMemory, restore, snapshot, type PageRun, type Sink, type SinkCallback } from '../../src';
import { copyBlocks, expectAllUnprotected, expectSameBytes } from '../support/invariants';

/**
 * Chains of real files, taken while in-process writes go on: a full snapshot,
 * then incremental ones, some of them cancelled or failed by their sink at a
 * random point. Every prefix of the committed chain restores to memory as it
 * was at its last link's t0, byte for byte; a cancelled or failed snapshot
 * loses nothing for the next one.
 */
const writeArb = fc.record({
  block: fc.nat(),
  page: fc.nat(),
  offset: fc.nat(),
  length: fc.integer({ min: 1, max: 2 * 4096 }),
  value: fc.integer({ min: 0, max: 255 }),
});

const linkArb = fc.record({
  /** Written before t0: these pages are the link's. */
  before: fc.array(writeArb, { maxLength: 12 }),
  /** Written while the snapshot runs, one per turn of the event loop. */
  during: fc.array(writeArb, { maxLength: 12 }),
  strategy: fc.constantFrom('queue' as const, 'copy' as const),
  /** How it ends: committed, cancelled after some events, or its sink failing a write. */
  end: fc.oneof(
    fc.constant({ type: 'commit' as const }),
    fc.record({ type: fc.constant('cancel' as const), after: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ type: fc.constant('fail' as const), write: fc.integer({ min: 0, max: 8 }) }),
  ),
});

const scenarioArb = fc.record({
  pageSize: fc.constantFrom(512, 4096),
  blockPages: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
  links: fc.array(linkArb, { minLength: 2, maxLength: 6 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;
type Write = typeof writeArb extends fc.Arbitrary<infer W> ? W : never;

const dir = mkdtempSync(join(tmpdir(), 'bgsnap-chain-property-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

describe('incremental chains', () => {
  it('restore, every prefix, to memory at its t0; failed links lose nothing', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, check), { numRuns: 100 });
  }, 240_000);
});

async function check(s: Scenario): Promise<void> {
  const memory = new PagedMemory({
    pageSize: s.pageSize,
    blocks: s.blockPages.map((pages, i) => ({ name: `b${i}`, size: pages * s.pageSize })),
  });
  memory.blocks.forEach((b, i) => b.bytes.forEach((_, j) => (b.bytes[j] = (j * 31 + i * 7 + 1) & 0xff)));
  const run = runs++;
  // The committed chain: its files, and memory at each one's t0.
  const chain: { file: string; atT0: Map<string, Uint8Array> }[] = [];
  for (const [k, link] of s.links.entries()) {
    for (const w of link.before) await apply(memory, w);
    const file = join(dir, `r${run}-${k}.bgsnap`);
    const before = memory.lastCommitted;
    const atT0 = await take(memory, file, link, chain.length === 0 ? 'full' : 'incremental');
    expectAllUnprotected(memory);
    // Committed or not: a cancel that comes after the commit (with the last `progress`) finds the
    // snapshot complete. A committed link names the one before as its parent.
    const committed = memory.lastCommitted;
    if (committed === before) continue;
    expect(committed?.parent).toBe(before?.id);
    expect(committed?.link).toBe(chain.length);
    chain.push({ file, atT0 });
  }
  // Every prefix restores to memory at its last link's t0.
  for (let n = 1; n <= chain.length; n++) {
    const target = new PagedMemory({ pageSize: s.pageSize, blocks: memory.blocks.map(({ name, size }) => ({ name, size })) });
    await restore(chain.slice(0, n).map((l) => l.file), target);
    expectSameBytes((name) => target.block(name).bytes, (chain[n - 1] as (typeof chain)[number]).atT0);
  }
}

/** One snapshot of the link, its writes going on; its t0 image and stats if it committed. */
async function take(memory: PagedMemory, file: string, link: Scenario['links'][number], kind: 'full' | 'incremental') {
  let failAt = link.end.type === 'fail' ? link.end.write : -1;
  const sink = new FailingSink(new FileSink(file), () => failAt-- === 0);
  let atT0 = new Map<string, Uint8Array>();
  let events = 0;
  let cancelled = false;
  const writes: Promise<void>[] = [];
  let subscription: Subscription | undefined;
  await new Promise<void>((resolve) => {
    subscription = snapshot(memory, sink, {
      strategy: link.strategy,
      poolPages: 2,
      incremental: true,
      // A page a write, and an event per page saved: failures and cancels land between pages.
      runBytes: memory.pageSize,
      maxWriteBytes: memory.pageSize,
      detail: true,
    }).subscribe({
      next: (e) => {
        events++;
        if (e.type === 'started') {
          expect(e.kind).toBe(kind);
          atT0 = copyBlocks(memory);
          // The writes during the snapshot, one per turn of the event loop.
          link.during.forEach((w, i) => setTimeout(() => writes.push(apply(memory, w)), i));
        }
        if (link.end.type === 'cancel' && events === link.end.after && e.type !== 'done') {
          cancelled = true;
          subscription?.unsubscribe();
          resolve();
        }
      },
      error: () => resolve(),
      complete: () => resolve(),
    });
    // A cancel asked for during `started` (emitted on subscribe) takes effect here.
    if (cancelled) subscription.unsubscribe();
  });
  await new Promise((r) => setTimeout(r, link.during.length + 1));
  await Promise.all(writes);
  await sink.closed;
  return atT0;
}

/** Applies a write to `memory`, its range folded into one of its blocks. */
function apply(memory: PagedMemory, w: Write): Promise<void> {
  const block = memory.blocks[w.block % memory.blocks.length] as (typeof memory.blocks)[number];
  const offset = (w.page % block.pages) * memory.pageSize + (w.offset % memory.pageSize);
  const length = Math.min(w.length, block.size - offset);
  return memory.write(block.name, offset, new Uint8Array(length).fill(w.value));
}

/** A sink that passes everything to `inner`, failing the write for which `failNow()` says so. */
class FailingSink implements Sink {
  readonly capacity: number;
  closed: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: FileSink,
    private readonly failNow: () => boolean,
  ) {
    this.capacity = inner.capacity;
  }

  start(header: Parameters<Sink['start']>[0]): void {
    this.inner.start(header);
  }

  write(run: PageRun, done: SinkCallback): void {
    if (this.failNow()) return done(new Error('injected write failure'));
    this.inner.write(run, done);
  }

  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    if (this.failNow()) return done(new Error('injected write failure'));
    this.inner.writeRuns(runs, done);
  }

  end(done: SinkCallback): void {
    this.inner.end(done);
  }

  abort(reason: unknown): void | PromiseLike<void> {
    const aborted = this.inner.abort(reason);
    this.closed = Promise.resolve(aborted);
    return aborted;
  }
}
