// restore of a chain gives the memory as it was at the last link's t0: each
// page from the newest link that holds it (docs/FORMAT.md, "Restoring").
import { afterAll, beforeAll, expect, it } from 'vitest';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { tempDir } from '../storage/support';
import { chainIdentities, testHeader, writeSnapshot } from './writeFile';

const dir = tempDir('chain-restore');
afterAll(() => dir.remove());
const paths = ['a', 'b', 'c', 'd'].map((n) => dir.file(`${n}.bgsnap`));

beforeAll(() => {
  const [a, b, c, d] = chainIdentities(4);
  const [pa, pb, pc, pd] = paths as [string, string, string, string];
  // Base: ram pages 0–7 hold 1 except page 5, zero; io pages hold 1.
  writeSnapshot(pa, testHeader(a), [
    { block: 0, page: 0, count: 5, fill: 1 },
    { block: 0, page: 5, count: 1, fill: 0 },
    { block: 0, page: 6, count: 2, fill: 1 },
    { block: 1, page: 0, count: 2, fill: 1 },
  ]);
  // Then ram 0–1 hold 2, and ram 5 holds 2 (a fault, saved early).
  writeSnapshot(pb, testHeader(b), [
    { block: 0, page: 5, count: 1, fill: 2, via: 'fault' },
    { block: 0, page: 0, count: 2, fill: 2 },
  ]);
  // Then ram 1 holds 3, and io 0 is zero.
  writeSnapshot(pc, testHeader(c), [
    { block: 0, page: 1, count: 1, fill: 3 },
    { block: 1, page: 0, count: 1, fill: 0 },
  ]);
  // Then nothing changed.
  writeSnapshot(pd, testHeader(d), []);
});

const pageFills = (memory: PagedMemory, block: string) => {
  const bytes = memory.block(block).bytes;
  return Array.from({ length: bytes.length / 512 }, (_, p) => {
    const page = bytes.subarray(p * 512, (p + 1) * 512);
    return page.every((b) => b === page[0]) ? page[0] : -1;
  });
};

const fresh = () => {
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 8 * 512 }, { name: 'io', size: 2 * 512 }] });
  memory.block('ram').bytes.fill(9);
  memory.block('io').bytes.fill(9);
  return memory;
};

it('verifies the chain, incremental links holding some pages only', async () => {
  const report = await verify(paths);
  expect(report.ok).toBe(true);
  expect(report.links.map((l) => [l.header?.kind, l.pages])).toEqual([
    ['full', 10],
    ['incremental', 3],
    ['incremental', 2],
    ['incremental', 0],
  ]);
});

it('restores each page from the newest link that holds it', async () => {
  const memory = fresh();
  const report = await restore(paths, memory);
  expect(pageFills(memory, 'ram')).toEqual([2, 3, 1, 1, 1, 2, 1, 1]);
  expect(pageFills(memory, 'io')).toEqual([0, 1]);
  expect(report.pages).toBe(10);
  expect(report.header.identity?.link).toBe(3);
  expect(report.links.map((l) => [l.header.identity?.link, l.pages, l.zeroPages])).toEqual([
    [0, 6, 0],
    [1, 2, 0],
    [2, 2, 1],
    [3, 0, 0],
  ]);
  expect(report.zeroPages).toBe(1);
});

it('gives what applying the links base first, each over the last, gives', async () => {
  const byPrefix = fresh();
  for (let n = 1; n <= paths.length; n++) await restore(paths.slice(0, n), byPrefix);
  const whole = fresh();
  await restore(paths, whole);
  expect(Buffer.from(whole.block('ram').bytes).equals(Buffer.from(byPrefix.block('ram').bytes))).toBe(true);
  expect(Buffer.from(whole.block('io').bytes).equals(Buffer.from(byPrefix.block('io').bytes))).toBe(true);
});

it('restores the base alone as before: one path, every page', async () => {
  const memory = fresh();
  const report = await restore(paths[0] as string, memory);
  expect(pageFills(memory, 'ram')).toEqual([1, 1, 1, 1, 1, 0, 1, 1]);
  expect(report.links.length).toBe(1);
  expect(report.pages).toBe(10);
  expect(report.zeroPages).toBe(1);
});
