// Rule: every memory the PagedMemory constructor accepts snapshots with
// defaults. For every page size from 512 B to 2 MiB, shared with writer
// threads (default `share()`) or not, under both strategies, `snapshot(memory,
// sink)` with no options (the strategy aside) saves memory at t0 while
// in-process writes fault on it, and the copy pool is the default: 1 MiB of
// pages, at least one, no more than the shared pool holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySink, OptionError, PagedMemory, snapshot, type SnapshotEvent, type SnapshotStats } from '../../src';
import { copyBlocks, expectAllUnprotected, expectSameBytes } from '../support/invariants';

const PAGE_SIZES = Array.from({ length: 13 }, (_, i) => 512 * 2 ** i);
/** What a default `share()` gives writer threads for their copies. */
const SHARED_POOL_BYTES = 16 * 2 ** 20;

/** Runs a snapshot to its end; writes issued at `started` fault on protected pages. */
function run(memory: PagedMemory, sink: MemorySink, queue: boolean, writes: readonly { page: number; at: number; byte: number }[]) {
  return new Promise<{ stats?: SnapshotStats; error?: unknown; written: Promise<unknown> }>((resolve) => {
    let stats: SnapshotStats | undefined;
    let written: Promise<unknown> = Promise.resolve();
    const events$ = queue ? snapshot(memory, sink, { strategy: 'queue' }) : snapshot(memory, sink);
    events$.subscribe({
      next: (e: SnapshotEvent) => {
        if (e.type === 'started') {
          written = Promise.all(
            writes.map(({ page, at, byte }) => memory.write('ram', (page % memory.pageCount) * memory.pageSize + (at % memory.pageSize), Uint8Array.of(byte))),
          );
        }
        if (e.type === 'done') stats = e.stats;
      },
      error: (error: unknown) => resolve({ error, written }),
      complete: () => resolve({ stats, written }),
    });
  });
}

describe('snapshot defaults', () => {
  for (const pageSize of PAGE_SIZES) {
    for (const shared of [false, true]) {
      for (const strategy of ['copy', 'queue'] as const) {
        it(`page size ${pageSize}, ${shared ? 'shared' : 'not shared'}, ${strategy}: no options needed`, async () => {
          const maxPages = Math.max(2, Math.min(48, (8 * 2 ** 20) / pageSize));
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 1, max: maxPages }),
              fc.integer(),
              fc.array(fc.record({ page: fc.nat(), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 12 }),
              async (pages, seed, writes) => {
                const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }] });
                const bytes = memory.block('ram').bytes;
                for (let p = 0; p < pages; p++) bytes.fill((seed + p * 37) & 0xff, p * pageSize, (p + 1) * pageSize);
                if (shared) memory.share();
                const atT0 = copyBlocks(memory);
                const sink = new MemorySink();

                const { stats, error, written } = await run(memory, sink, strategy === 'queue', writes);
                expect(error).toBeUndefined();
                expectSameBytes((block) => sink.image(block), atT0);
                expect(stats?.totalPages).toBe(pages);
                const defaultPool = Math.max(1, (2 ** 20) / pageSize);
                const expectedPool = strategy === 'queue' ? 0 : shared ? Math.min(defaultPool, SHARED_POOL_BYTES / pageSize) : defaultPool;
                expect(stats?.pool.pages).toBe(expectedPool);
                expectAllUnprotected(memory);
                await written;
              },
            ),
            { numRuns: pageSize >= 256 * 1024 ? 2 : 4 },
          );
        });
      }
    }
  }

  it('sizes the default pool to a shared pool smaller than a page: none, and faults go the queue way', async () => {
    const pageSize = 64 * 1024;
    const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: 4 * pageSize }] });
    memory.share({ poolBytes: pageSize - 1 });
    memory.block('ram').bytes.fill(7);
    const atT0 = copyBlocks(memory);
    const sink = new MemorySink();
    const { stats, error, written } = await run(memory, sink, false, [{ page: 2, at: 5, byte: 1 }]);
    expect(error).toBeUndefined();
    expect(stats?.pool.pages).toBe(0);
    expect(stats?.saved.copy).toBe(0);
    expectSameBytes((block) => sink.image(block), atT0);
    await written;
    expect(memory.read('ram', 2 * pageSize + 5, 1)[0]).toBe(1);
  });

  it('still refuses explicit sizes below a page, naming the option', () => {
    const memory = new PagedMemory({ pageSize: 2 * 2 ** 20, blocks: [{ name: 'ram', size: 2 * 2 ** 20 }] });
    for (const option of ['runBytes', 'faultRunBytes', 'turnBytes'] as const) {
      let error: unknown;
      try {
        snapshot(memory, new MemorySink(), { [option]: 256 * 1024 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OptionError);
      expect((error as OptionError).option).toBe(option);
    }
  });
});
