import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadAbortedError, PagedMemory, PageState, restoreLive, type RestoreEvent } from '../../src';
import { VirtualClock } from '../../src/sim/VirtualClock';
import { ArraySource } from '../support/ArraySource';

/** An access at a virtual time: a read (in-process `readAsync`) or a one-page write. */
const accessArb = fc.record({
  at: fc.integer({ min: 0, max: 60 }),
  kind: fc.constantFrom('read' as const, 'write' as const),
  page: fc.nat(),
  pages: fc.integer({ min: 1, max: 3 }),
  value: fc.integer({ min: 0, max: 255 }),
});

const scenarioArb = fc.record({
  pageSize: fc.constantFrom(512, 1024),
  blockPages: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
  basePerRecord: fc.integer({ min: 1, max: 5 }),
  // A newer link's records over the base: [first page, pages], global.
  overlay: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 4 })), { maxLength: 4 }),
  reads: fc.integer({ min: 1, max: 4 }),
  runPages: fc.integer({ min: 1, max: 6 }),
  faultRunPages: fc.integer({ min: 1, max: 3 }),
  latency: fc.integer({ min: 0, max: 6 }),
  tableDelay: fc.integer({ min: 0, max: 8 }),
  accesses: fc.array(accessArb, { maxLength: 30 }),
  cancelAt: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 60 }), weight: 1 }),
  corrupt: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.nat(), weight: 1 }),
  seed: fc.integer(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a >>> 24;
  }
  return out;
}

/**
 * Runs one live restore in virtual time with in-process readers and writers
 * from `started` on. Pages are split in two: pages some write touches, and
 * pages only read, so every byte a read sees must be the image's.
 */
async function run(s: Scenario) {
  const pageSize = s.pageSize;
  const blocks = s.blockPages.map((pages, i) => ({ name: `b${i}`, size: pages * pageSize }));
  const pageCount = s.blockPages.reduce((a, b) => a + b, 0);
  const firstPages = s.blockPages.map((_, i) => s.blockPages.slice(0, i).reduce((a, b) => a + b, 0));
  const blockOf = (page: number): number => {
    let b = 0;
    while (b + 1 < firstPages.length && (firstPages[b + 1] as number) <= page) b++;
    return b;
  };

  // Step 1: the records, within blocks: a base link, then an overlay link whose bytes differ.
  const base = randomBytes(pageCount * pageSize, s.seed);
  const newer = randomBytes(pageCount * pageSize, s.seed + 1);
  const image = base.slice();
  const records: [number, number][] = [];
  const recordImages: Uint8Array[] = [];
  s.blockPages.forEach((pages, i) => {
    for (let p = 0; p < pages; p += s.basePerRecord) {
      records.push([(firstPages[i] as number) + p, Math.min(s.basePerRecord, pages - p)]);
      recordImages.push(base);
    }
  });
  for (const [at, n] of s.overlay) {
    const first = at % pageCount;
    const b = blockOf(first);
    const end = Math.min(first + n, (firstPages[b] as number) + (s.blockPages[b] as number));
    records.push([first, end - first]);
    recordImages.push(newer);
    image.set(newer.subarray(first * pageSize, end * pageSize), first * pageSize);
  }

  // Step 2: the accesses, each within one block; written pages are never read.
  const written = new Set<number>();
  const accesses = s.accesses.map((a) => {
    const page = a.page % pageCount;
    const b = blockOf(page);
    const end = Math.min(page + (a.kind === 'write' ? 1 : a.pages), (firstPages[b] as number) + (s.blockPages[b] as number));
    if (a.kind === 'write') written.add(page);
    return { ...a, page, end, block: b };
  });
  const valid = accesses.filter((a) => a.kind === 'write' || !Array.from({ length: a.end - a.page }, (_, i) => a.page + i).some((p) => written.has(p)));

  const clock = new VirtualClock();
  const memory = new PagedMemory({ pageSize, blocks });
  for (const b of memory.blocks) b.bytes.fill(0xa5);
  const corrupt = s.corrupt === undefined ? undefined : new Set([s.corrupt % records.length]);
  const source = new ArraySource({ pageSize, blocks, image, records, recordImages, scheduler: clock, latency: s.latency, tableDelay: s.tableDelay, corrupt });
  const model = image.slice();
  const settled: { done: boolean; error?: unknown; check?: () => void }[] = [];
  const events: RestoreEvent[] = [];
  let failure: unknown;
  let completed = false;

  const sub = restoreLive(source, memory, { reads: s.reads, runBytes: s.runPages * pageSize, faultRunBytes: s.faultRunPages * pageSize, scheduler: clock }).subscribe({
    next: (e) => {
      events.push(e);
      if (e.type !== 'started') return;
      for (const a of valid) {
        clock.schedule(() => {
          const name = `b${a.block}`;
          const offset = (a.page - (firstPages[a.block] as number)) * pageSize;
          const entry: (typeof settled)[number] = { done: false };
          settled.push(entry);
          if (a.kind === 'write') {
            const at = offset + (a.value % pageSize);
            const data = Uint8Array.of(a.value, a.value ^ 0xff).subarray(0, Math.min(2, pageSize - (a.value % pageSize)));
            model.set(data, a.page * pageSize + (a.value % pageSize));
            memory.write(name, at, data).then(
              () => (entry.done = true),
              (error: unknown) => ((entry.done = true), (entry.error = error)),
            );
          } else {
            const length = (a.end - a.page) * pageSize;
            const want = image.slice(a.page * pageSize, a.end * pageSize);
            memory.readAsync(name, offset, length).then(
              (bytes) => ((entry.done = true), (entry.check = () => expect(Buffer.compare(bytes, want)).toBe(0))),
              (error: unknown) => ((entry.done = true), (entry.error = error)),
            );
          }
        }, a.at);
      }
    },
    error: (error: unknown) => (failure = error),
    complete: () => (completed = true),
  });
  if (s.cancelAt !== undefined) clock.schedule(() => sub.unsubscribe(), s.cancelAt);
  clock.flush();
  // Promises settle after the virtual flush.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return { memory, model, settled, failure, completed, events, corrupt, source, pageSize };
}

describe('restoreLive, property', () => {
  it('readers see the image, writes land, nobody is left waiting, done means the image', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const { memory, model, settled, failure, completed, source, pageSize } = await run(s);
        // Nobody is left waiting: every access settled, with its bytes or a LoadAbortedError.
        for (const entry of settled) {
          expect(entry.done).toBe(true);
          if (entry.error !== undefined) expect(entry.error).toBeInstanceOf(LoadAbortedError);
          entry.check?.();
        }
        expect(memory.loading).toBe(false);
        expect(source.closed).toBe(true);
        const all = new Uint8Array(memory.pageCount * pageSize);
        memory.blocks.forEach((b) => all.set(b.bytes, b.firstPage * pageSize));
        if (completed) {
          // Done: memory is the image with the writes over it, every page written.
          expect(failure).toBeUndefined();
          expect(Buffer.compare(all, model)).toBe(0);
          expect(memory.states.every((st) => st === PageState.Writable)).toBe(true);
          expect(settled.every((e) => e.error === undefined)).toBe(true);
        } else {
          if (failure !== undefined) expect(failure).toMatchObject({ name: 'FormatError' });
          // Every page loaded holds its bytes.
          for (let p = 0; p < memory.pageCount; p++) {
            if (memory.states[p] === PageState.Absent) continue;
            expect(Buffer.compare(all.subarray(p * pageSize, (p + 1) * pageSize), model.subarray(p * pageSize, (p + 1) * pageSize))).toBe(0);
          }
        }
        // Each record read at most once.
        const seen = source.reads.flat();
        expect(new Set(seen).size).toBe(seen.length);
      }),
      { numRuns: 300 },
    );
  });
});
