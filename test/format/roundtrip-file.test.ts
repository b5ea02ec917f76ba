// Snapshot → file → restore gives memory as it was at t0, while writers write
// during the snapshot: under both strategies, several page sizes and block layouts.
import { afterAll, describe, expect, it } from 'vitest';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import type { BlockSpec } from '../../src/memory/geometry';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { copyBlocks } from '../support/invariants';
import { filledMemory, runToEnd, startWriters, tempDir, type Writers } from '../storage/support';

const dir = tempDir('roundtrip');
afterAll(() => dir.remove());

const layouts: { name: string; pageSize: number; blocks: BlockSpec[] }[] = [
  { name: '512 B pages, one block', pageSize: 512, blocks: [{ name: 'ram', size: 512 * 300 }] },
  {
    name: '4 KiB pages, three blocks',
    pageSize: 4096,
    blocks: [
      { name: 'ram', size: 4096 * 256 },
      { name: 'vram', size: 4096 * 17 },
      { name: 'rom', size: 4096 },
    ],
  },
  {
    name: '64 KiB pages, two blocks',
    pageSize: 65536,
    blocks: [
      { name: 'low', size: 65536 * 5 },
      { name: 'high', size: 65536 * 12 },
    ],
  },
];

describe.each(['queue', 'copy'] as const)('strategy %s', (strategy) => {
  it.each(layouts)('$name', async ({ pageSize, blocks }) => {
    const seed = pageSize + blocks.length + (strategy === 'copy' ? 1 : 0);
    const memory = filledMemory(pageSize, blocks, seed);
    const path = dir.file(`${strategy}-${pageSize}.snap`);
    let atT0: Map<string, Uint8Array> | undefined;
    let writers: Writers | undefined;
    const outcome = await runToEnd(
      snapshot(memory, new FileSink(path, { capacity: 3, writeBytes: 4 * pageSize }), {
        strategy,
        poolPages: 4,
        runBytes: 4 * pageSize,
      }),
      () => {
        // t0: keep the image to compare with, then let writers loose.
        atT0 = copyBlocks(memory);
        writers = startWriters(memory, 3, seed);
      },
    );
    await writers?.stop();

    expect(outcome.kind).toBe('done');
    if (outcome.kind !== 'done') return;
    // Writers did hit protected pages, so faults were served during the save.
    expect(outcome.stats.faults).toBeGreaterThan(0);
    expect(outcome.stats.saved.fault + outcome.stats.saved.copy).toBeGreaterThan(0);
    expect((await verify(path)).ok).toBe(true);

    // Restore into a fresh memory (filled with junk first) and compare with t0.
    const target = new PagedMemory({ pageSize, blocks });
    for (const b of target.blocks) b.bytes.fill(0x5a);
    const report = await restore(path, target);
    expect(report.pages).toBe(target.pageCount);
    for (const b of target.blocks) {
      expect(Buffer.compare(b.bytes, atT0?.get(b.name) as Uint8Array), `block ${b.name}`).toBe(0);
    }
    // Memory moved on after t0, so the restored image is not just today's memory.
    expect(memory.blocks.some((b) => Buffer.compare(b.bytes, atT0?.get(b.name) as Uint8Array) !== 0)).toBe(true);
  });
});
