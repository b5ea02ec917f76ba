// restore requires the memory's geometry to match the snapshot's (page size,
// block names, sizes and order) and refuses a memory held by a snapshot;
// either way it writes nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GeometryMismatchError, SnapshotInProgressError } from '../../src/errors';
import { restore } from '../../src/format/restore';
import type { BlockSpec } from '../../src/memory/geometry';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { VirtualSink } from '../../src/storage/VirtualSink';
import { VirtualTimeScheduler } from 'rxjs';
import { filledMemory, runToEnd, tempDir } from '../storage/support';

const dir = tempDir('geometry');
afterAll(() => dir.remove());
const path = dir.file('g.snap');
const blocks: BlockSpec[] = [
  { name: 'ram', size: 8 * 4096 },
  { name: 'vram', size: 2 * 4096 },
];
beforeAll(async () => {
  const outcome = await runToEnd(snapshot(filledMemory(4096, blocks, 1), new FileSink(path)));
  if (outcome.kind !== 'done') throw new Error('setup snapshot failed');
});

it.each([
  ['pageSize', 512, 4096, 512, blocks],
  ['blocks.length', 2, 1, 4096, [{ name: 'ram', size: 8 * 4096 }]],
  ['blocks[1].name', 'vram', 'vga', 4096, [{ name: 'ram', size: 8 * 4096 }, { name: 'vga', size: 2 * 4096 }]],
  ['blocks[0].size', 8 * 4096, 9 * 4096, 4096, [{ name: 'ram', size: 9 * 4096 }, { name: 'vram', size: 2 * 4096 }]],
  ['blocks[0].name', 'ram', 'vram', 4096, [{ name: 'vram', size: 2 * 4096 }, { name: 'ram', size: 8 * 4096 }]],
] as const)('names `%s` and writes nothing', async (field, inFile, inMemory, pageSize, layout) => {
  const memory = new PagedMemory({ pageSize: pageSize === 512 ? 512 : 4096, blocks: layout as BlockSpec[] });
  for (const b of memory.blocks) b.bytes.fill(0x77);
  const error = await restore(path, memory).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GeometryMismatchError);
  expect((error as GeometryMismatchError).field).toBe(field);
  if (field !== 'pageSize' && field !== 'blocks.length') {
    expect((error as GeometryMismatchError).snapshot).toBe(inFile);
    expect((error as GeometryMismatchError).memory).toBe(inMemory);
  }
  expect((error as Error).message).toContain(`\`${field}\``);
  for (const b of memory.blocks) expect(b.bytes.every((x) => x === 0x77)).toBe(true);
});

it('refuses a memory that a snapshot holds', async () => {
  const memory = new PagedMemory({ pageSize: 4096, blocks });
  const scheduler = new VirtualTimeScheduler();
  // A snapshot that waits on its (virtual-time) sink holds the memory.
  const subscription = snapshot(memory, new VirtualSink({ scheduler, latency: 5 }), { scheduler }).subscribe();
  expect(memory.snapshotting).toBe(true);
  await expect(restore(path, memory)).rejects.toBeInstanceOf(SnapshotInProgressError);
  subscription.unsubscribe();
  expect(memory.snapshotting).toBe(false);
  await restore(path, memory);
});
