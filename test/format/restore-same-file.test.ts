// restore checks the geometry from the header first (a mismatch costs a small
// read, not the whole file), then verifies and writes from one open handle:
// the file it writes is the file it checked. A file that changes in place
// between the two passes (its size or modification time differ) is refused
// with a FileChangedError, and memory is left untouched.
import { open, type FileHandle } from 'node:fs/promises';
import { readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { FileChangedError, GeometryMismatchError } from '../../src/errors';
import { restore } from '../../src/format/restore';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, tempDir } from '../storage/support';

const dir = tempDir('restore-same');
afterAll(() => dir.remove());
const blocks = [{ name: 'ram', size: 512 * 4096 }];
let fileHandle: FileHandle;
let good: Buffer;
let other: Buffer;

beforeAll(async () => {
  // Two snapshots of one geometry and the same size: no zero pages in either.
  for (const [name, seed] of [['a.snap', 1], ['b.snap', 2]] as const) {
    const outcome = await runToEnd(snapshot(filledMemory(4096, blocks, seed, 0), new FileSink(dir.file(name))));
    if (outcome.kind !== 'done') throw new Error('setup snapshot failed');
  }
  good = readFileSync(dir.file('a.snap'));
  other = readFileSync(dir.file('b.snap'));
  expect(other.length).toBe(good.length);
  fileHandle = await open(dir.file('a.snap'));
  await fileHandle.close();
});
afterEach(() => vi.restoreAllMocks());

/** The FileHandle prototype, whose `stat` and `read` every handle uses. */
const handles = () => Object.getPrototypeOf(fileHandle) as FileHandle;

/**
 * Runs `change` just before the `nth` fstat of any handle. restore fstats its
 * handle when it opens the file (1), between the verify pass and the write
 * pass (2), and after the write pass (3).
 */
function changeBefore(nth: number, change: () => void): void {
  const real = handles().stat;
  let calls = 0;
  vi.spyOn(handles(), 'stat').mockImplementation(function (this: FileHandle, ...args: Parameters<FileHandle['stat']>) {
    if (++calls === nth) change();
    return real.apply(this, args);
  } as FileHandle['stat']);
}

const untouched = () => {
  const memory = new PagedMemory({ pageSize: 4096, blocks });
  memory.block('ram').bytes.fill(0x5a);
  return memory;
};

it('reads only the header when the geometry does not match', async () => {
  const path = dir.file('geometry.snap');
  writeFileSync(path, good);
  const real = handles().read;
  let bytesRead = 0;
  vi.spyOn(handles(), 'read').mockImplementation(async function (this: FileHandle, ...args: unknown[]) {
    const result = await (real as (...a: unknown[]) => Promise<{ bytesRead: number }>).apply(this, args);
    bytesRead += result.bytesRead;
    return result;
  } as unknown as FileHandle['read']);
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 256 * 4096 }] });
  const error = await restore(path, memory).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GeometryMismatchError);
  expect(bytesRead).toBeGreaterThan(0);
  expect(bytesRead).toBeLessThanOrEqual(64 * 1024);
  expect(good.length).toBeGreaterThan(2 << 20);
});

it('refuses a file cut short between the passes, writing nothing', async () => {
  const path = dir.file('cut.snap');
  writeFileSync(path, good);
  changeBefore(2, () => truncateSync(path, Math.floor(good.length / 2)));
  const memory = untouched();
  const error = await restore(path, memory).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FileChangedError);
  expect((error as FileChangedError).path).toBe(path);
  expect((error as FileChangedError).memoryWritten).toBe(false);
  expect((error as Error).message).toMatch(/size/);
  expect(memory.block('ram').bytes.every((b) => b === 0x5a)).toBe(true);
});

it('refuses a file rewritten in place between the passes, even with another valid snapshot of the same size', async () => {
  const path = dir.file('rewritten.snap');
  writeFileSync(path, good);
  changeBefore(2, () => {
    writeFileSync(path, other, { flag: 'r+' });
    // A modification time of its own, whatever the clock's granularity.
    utimesSync(path, new Date(), new Date(Date.now() + 10_000));
  });
  const memory = untouched();
  const error = await restore(path, memory).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(FileChangedError);
  expect(memory.block('ram').bytes.every((b) => b === 0x5a)).toBe(true);
});

it('restores the file it opened when another is renamed over its name meanwhile', async () => {
  const path = dir.file('renamed.snap');
  writeFileSync(path, good);
  const replacement = dir.file('replacement.snap');
  writeFileSync(replacement, other);
  const { renameSync } = await import('node:fs');
  changeBefore(2, () => renameSync(replacement, path));
  const memory = untouched();
  await restore(path, memory);
  const expected = filledMemory(4096, blocks, 1, 0);
  expect(Buffer.compare(memory.block('ram').bytes, expected.block('ram').bytes)).toBe(0);
});
