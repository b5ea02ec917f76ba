// merge: a chain (base first) into one full snapshot, each page from the
// newest link that holds it; bad chains and existing outputs refused with
// nothing left under the output's name.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChainError, FileExistsError, FormatError } from '../../src/errors';
import { merge } from '../../src/format/merge';
import { openSnapshot } from '../../src/format/reader';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, rng, tempDir } from '../storage/support';

const dir = tempDir('merge');
afterAll(() => dir.remove());

const PAGE = 1024;
const BLOCKS = [
  { name: 'ram', size: 300 * PAGE },
  { name: 'io', size: 20 * PAGE },
];
/** chain[0] full, chain[1..5] incremental. */
const chain: string[] = [];

/** A memory of the chain's geometry, every byte 0x5a. */
function blankMemory(): PagedMemory {
  const memory = new PagedMemory({ pageSize: PAGE, blocks: BLOCKS });
  for (const b of memory.blocks) b.bytes.fill(0x5a);
  return memory;
}

const image = (memory: PagedMemory) => Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes)));

beforeAll(async () => {
  // A base, then five links, each after writes to a few pages: runs, single pages, and pages zeroed.
  const memory = filledMemory(PAGE, BLOCKS, 7, 0.2);
  const random = rng(3);
  for (let i = 0; i <= 5; i++) {
    if (i > 0) {
      for (let k = 0; k < 12; k++) {
        const block = random() < 0.8 ? 'ram' : 'io';
        const pages = block === 'ram' ? 300 : 20;
        const page = Math.floor(random() * pages);
        const data = k % 4 === 0 ? new Uint8Array(PAGE) : Uint8Array.from({ length: 64 }, () => (random() * 256) | 0);
        await memory.write(block, page * PAGE, data);
      }
    }
    const path = dir.file(`c.${i}.bgsnap`);
    await lastValueFrom(snapshot(memory, new FileSink(path), { incremental: i > 0 }));
    chain.push(path);
  }
});

it('writes one full snapshot that restores to what the chain restores to', async () => {
  for (const n of [1, 2, 6]) {
    const out = dir.file(`merged-${n}.bgsnap`);
    const links = chain.slice(0, n);
    const report = await merge(links, out);
    expect(report.links.map((l) => l.path)).toEqual(links);
    // Every page once, from the link that is newest to hold it.
    expect(report.pages).toBe(320);
    expect(report.links.reduce((s, l) => s + l.pages, 0)).toBe(320);
    const verified = await verify(out);
    expect(verified.ok).toBe(true);
    expect(verified.header?.kind).toBe('full');
    // A new id, its own root; t0 and wall time of the newest link.
    const newest = (await openSnapshot(links[n - 1] as string)).header;
    const merged = verified.header;
    expect(merged?.identity?.id).not.toBe(newest.identity?.id);
    expect(merged?.identity?.root).toBe(merged?.identity?.id);
    expect([merged?.t0, merged?.wallTime, merged?.strategy]).toEqual([newest.t0, newest.wallTime, newest.strategy]);
    const fromChain = blankMemory();
    await restore(links, fromChain);
    const fromMerged = blankMemory();
    await restore(out, fromMerged);
    expect(image(fromMerged).equals(image(fromChain))).toBe(true);
  }
});

it('refuses a bad chain with the ChainError, leaving no file', async () => {
  const cases: [string[], number, string][] = [
    [[chain[0], chain[2]] as string[], 1, 'missing'],
    [[chain[0], chain[2], chain[1]] as string[], 1, 'out-of-order'],
    [[chain[1], chain[2]] as string[], 0, 'not-full-first'],
    [[chain[0], chain[1], chain[1]] as string[], 2, 'repeated'],
  ];
  for (const [links, link, reason] of cases) {
    const out = dir.file('bad-chain.bgsnap');
    const error = await merge(links, out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainError);
    expect([(error as ChainError).link, (error as ChainError).reason]).toEqual([link, reason]);
    expect(existsSync(out)).toBe(false);
  }
  expect(readdirSync(dir.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

it('refuses a link with a flipped byte, in the base or a later link, with a FormatError and no file', async () => {
  for (const at of [0, 3]) {
    const bytes = readFileSync(chain[at] as string);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x10;
    const bad = dir.file(`flipped-${at}.bgsnap`);
    writeFileSync(bad, bytes);
    const links = chain.map((p, i) => (i === at ? bad : p));
    const out = dir.file('bad-link.bgsnap');
    await expect(merge(links, out)).rejects.toBeInstanceOf(FormatError);
    expect(existsSync(out)).toBe(false);
  }
  expect(readdirSync(dir.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

it('refuses an existing output unless told to replace it', async () => {
  const out = dir.file('taken.bgsnap');
  writeFileSync(out, 'not a snapshot');
  await expect(merge(chain, out)).rejects.toBeInstanceOf(FileExistsError);
  expect(readFileSync(out, 'utf8')).toBe('not a snapshot');
  await merge(chain, out, { overwrite: true });
  expect((await verify(out)).ok).toBe(true);
});

// Bounded: the output is written through four 8 MiB staging buffers, and a
// page's link comes from a table of one byte a page, so the heap does not
// grow with the chain's bytes. Here: a 64 MiB base merged with the heap
// growing by far less than the base.
it('merges with memory bounded well below the base size', async () => {
  const big = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 64 * 2 ** 20 }] });
  const bytes = big.blocks[0]?.bytes as Uint8Array;
  for (let p = 0; p < big.pageCount; p++) bytes[p * 4096] = (p % 251) + 1;
  const files = [dir.file('big.0.bgsnap'), dir.file('big.1.bgsnap')];
  await lastValueFrom(snapshot(big, new FileSink(files[0] as string)));
  for (let p = 0; p < big.pageCount; p += 50) await big.write('ram', p * 4096 + 8, Uint8Array.of(1, 2, 3));
  await lastValueFrom(snapshot(big, new FileSink(files[1] as string), { incremental: true }));
  const before = process.memoryUsage();
  let peak = 0;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
  }, 5);
  try {
    const report = await merge(files, dir.file('big.merged.bgsnap'));
    expect(report.pages).toBe(big.pageCount);
  } finally {
    clearInterval(timer);
  }
  expect(peak).toBeLessThan(48 * 2 ** 20);
}, 60_000);
