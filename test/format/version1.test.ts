// Version 1 files, which bgsnap no longer writes, are still read, verified and
// restored (docs/FORMAT.md, "Version 1"), and have no index for random access.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FormatError } from '../../src/errors';
import { fileSource } from '../../src/format/ByteSource';
import { readIndex } from '../../src/format/randomAccess';
import { openSnapshot } from '../../src/format/reader';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { tempDir } from '../storage/support';
import { v1Bytes } from './v1Writer';
import { blockTable, testHeader } from './writeFile';

const dir = tempDir('version1');
afterAll(() => dir.remove());
const path = dir.file('old.bgsnap');
const runs = [
  { block: 1, page: 0, count: 2, fill: 3 },
  { block: 0, page: 0, count: 8, fill: 4 },
];
let bytes: Buffer;
beforeAll(() => {
  bytes = v1Bytes(testHeader(), runs);
  writeFileSync(path, bytes);
});

it('reads a version 1 file: a full snapshot without identity, index or codec', async () => {
  const file = await openSnapshot(path);
  expect(file.header).toMatchObject({ version: 1, kind: 'full', identity: undefined, codec: 'none', byteLength: 40 + 6 + 13 + 12 + 4 });
  const read = [];
  for await (const r of file.records()) read.push([r.block, r.page, r.count, r.data[0]]);
  expect(read).toEqual([
    [1, 0, 2, 3],
    [0, 0, 8, 4],
  ]);
  expect(file.trailer).toMatchObject({ records: 2, pages: 10, byteLength: 48, indexOffset: undefined, offset: bytes.length - 48 });
});

it('verifies and restores a version 1 file', async () => {
  expect((await verify(path)).ok).toBe(true);
  const memory = new PagedMemory({ pageSize: 512, blocks: [{ name: 'ram', size: 8 * 512 }, { name: 'io', size: 2 * 512 }] });
  const report = await restore(path, memory);
  expect(report.pages).toBe(10);
  expect(memory.block('ram').bytes.every((b) => b === 4)).toBe(true);
  expect(memory.block('io').bytes.every((b) => b === 3)).toBe(true);
});

it('refuses every byte flipped in a version 1 file', async () => {
  const flipped = dir.file('flipped.bgsnap');
  for (let at = 0; at < bytes.length; at += at < 100 || at > bytes.length - 100 ? 1 : 37) {
    const copy = Buffer.from(bytes);
    copy[at] = (copy[at] as number) ^ 0x01;
    writeFileSync(flipped, copy);
    expect((await verify(flipped)).ok, `byte ${at}`).toBe(false);
  }
});

it('keeps a leading U+FEFF in a version 1 name', async () => {
  const bom = dir.file('bom.bgsnap');
  writeFileSync(bom, v1Bytes({ ...testHeader(), blocks: blockTable(512, [['\uFEFFram', 1]]) }, [{ block: 0, page: 0, count: 1, fill: 1 }]));
  const file = await openSnapshot(bom);
  expect(file.header.blocks[0]?.name).toBe('\uFEFFram');
  await file.close();
});

it('has no index to read from the end', async () => {
  const handle = await open(path, 'r');
  try {
    const error = await readIndex(fileSource(handle, bytes.length)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).message).toBe('At byte 8: expected format version 2 (version 1 has no index), found version 1');
  } finally {
    await handle.close();
  }
});
