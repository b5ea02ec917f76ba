// restoreLive reads what restore reads: a version 1 file (its record table from one
// scan of the record headers) and a version 2 chain (from the links' page indexes,
// each page from the newest link that holds it), with readers waiting on pages
// while they load; a chain that is not one is refused as restore refuses it.
import { writeFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PagedMemory, restore, restoreLive, verify, type RestoreEvent } from '../../src';
import { v1Bytes } from '../format/v1Writer';
import { chainIdentities, testHeader, writeSnapshot } from '../format/writeFile';
import { tempDir } from '../storage/support';

const dir = tempDir('restore-live-formats');
afterAll(() => dir.remove());
const chain = ['a', 'b', 'c'].map((n) => dir.file(`${n}.bgsnap`));
const old = dir.file('old.bgsnap');

beforeAll(() => {
  const [a, b, c] = chainIdentities(3);
  const [pa, pb, pc] = chain as [string, string, string];
  writeSnapshot(pa, testHeader(a), [
    { block: 0, page: 0, count: 5, fill: 1 },
    { block: 0, page: 5, count: 1, fill: 0 },
    { block: 0, page: 6, count: 2, fill: 1 },
    { block: 1, page: 0, count: 2, fill: 1 },
  ]);
  writeSnapshot(pb, testHeader(b), [
    { block: 0, page: 5, count: 1, fill: 2, via: 'fault' },
    { block: 0, page: 0, count: 2, fill: 2 },
  ]);
  writeSnapshot(pc, testHeader(c), [
    { block: 0, page: 1, count: 1, fill: 3 },
    { block: 1, page: 0, count: 1, fill: 0 },
  ]);
  writeFileSync(old, v1Bytes(testHeader(), [
    { block: 1, page: 0, count: 2, fill: 3 },
    { block: 0, page: 0, count: 8, fill: 4 },
  ]));
});

const fresh = () => {
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 8 * 512 }, { name: 'io', size: 2 * 512 }] });
  for (const b of memory.blocks) b.bytes.fill(9);
  return memory;
};

/** Restores live with a reader of every page from `started` on; returns the reads and the stats. */
async function live(files: string | string[], memory: PagedMemory) {
  const reads: Promise<Uint8Array>[] = [];
  const events: RestoreEvent[] = [];
  await new Promise<void>((resolve, reject) =>
    restoreLive(files, memory, { runBytes: 512 }).subscribe({
      next: (e) => {
        events.push(e);
        if (e.type === 'started') for (let p = 7; p >= 0; p--) reads.push(memory.readAsync('ram', p * 512, 512));
      },
      error: reject,
      complete: resolve,
    }),
  );
  return { reads: await Promise.all(reads), events };
}

it.each([
  ['a version 1 file', () => old],
  ['a chain of three version 2 links', () => chain],
])('loads %s as restore does', async (_, files) => {
  const eager = fresh();
  await restore(files(), eager);
  const memory = fresh();
  const { reads, events } = await live(files(), memory);
  for (const b of memory.blocks) expect(Buffer.compare(b.bytes, eager.block(b.name).bytes), b.name).toBe(0);
  reads.forEach((bytes, i) => expect(Buffer.compare(bytes, eager.read('ram', (7 - i) * 512, 512))).toBe(0));
  const done = events.at(-1);
  expect(done?.type === 'done' && done.stats.loaded.fault + done.stats.loaded.background).toBe(10);
  expect(events.some((e) => e.type === 'indexed')).toBe(true);
});

it('refuses links out of order with the ChainError restore gives, memory untouched', async () => {
  const memory = fresh();
  const reversed = [chain[0], chain[2], chain[1]] as string[];
  const eagerError = await restore(reversed, fresh()).then(() => undefined, (e: unknown) => e);
  const error = await lastValueFrom(restoreLive(reversed, memory)).then(() => undefined, (e: unknown) => e);
  expect(error).toMatchObject({ name: 'ChainError', message: (eagerError as Error).message });
  expect(memory.block('ram').bytes.every((b) => b === 9)).toBe(true);
  expect(memory.loading).toBe(false);
});

it('refuses a version 1 file that holds a page twice, with the FormatError verify gives', async () => {
  const twice = dir.file('twice.bgsnap');
  writeFileSync(twice, v1Bytes(testHeader(), [
    { block: 0, page: 0, count: 8, fill: 4 },
    { block: 1, page: 0, count: 2, fill: 3 },
    { block: 0, page: 3, count: 1, fill: 5 },
  ]));
  const report = await verify(twice);
  const error = await lastValueFrom(restoreLive(twice, fresh())).then(() => undefined, (e: unknown) => e);
  expect(report.ok).toBe(false);
  expect(error).toMatchObject({ name: 'FormatError', message: report.ok ? '' : report.problems[0].message });
});

it('refuses a full version 2 snapshot whose index misses a page, with the FormatError verify gives', async () => {
  const [a] = chainIdentities(1);
  const short = dir.file('short.bgsnap');
  writeSnapshot(short, testHeader(a), [
    { block: 0, page: 0, count: 7, fill: 1 },
    { block: 1, page: 0, count: 2, fill: 1 },
  ]);
  const report = await verify(short);
  const error = await lastValueFrom(restoreLive(short, fresh())).then(() => undefined, (e: unknown) => e);
  expect(report.ok).toBe(false);
  expect(error).toMatchObject({ name: 'FormatError', message: report.ok ? '' : report.problems[0].message });
});
