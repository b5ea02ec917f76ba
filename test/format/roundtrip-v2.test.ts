// Version 2 round trips through the encoder and the readers: full and
// incremental snapshots, their identity, the page index read from the end of
// the file, and one record read alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { fileSource } from '../../src/format/ByteSource';
import { readIndex, readRecordAt } from '../../src/format/randomAccess';
import { openSnapshot } from '../../src/format/reader';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { allPages, chainIdentities, testHeader, writeSnapshot, type TestRun } from './writeFile';

const dir = tempDir('roundtrip-v2');
afterAll(() => dir.remove());
const [base, child] = chainIdentities(2);

async function readBack(path: string) {
  const file = await openSnapshot(path);
  const records = [];
  for await (const r of file.records()) records.push({ block: r.block, page: r.page, count: r.count, zero: r.zeroPages, offset: r.offset, first: r.data[0] });
  return { header: file.header, trailer: file.trailer, records };
}

it('reads back a full snapshot with its identity, records and index', async () => {
  const path = dir.file('full.bgsnap');
  const runs: TestRun[] = [{ block: 1, page: 1, count: 1, fill: 7, via: 'fault' }, { block: 0, page: 0, count: 8, fill: 5 }, { block: 1, page: 0, count: 1, fill: 0 }];
  writeSnapshot(path, testHeader(base), runs);
  const { header, trailer, records } = await readBack(path);
  expect(header).toMatchObject({ version: 2, kind: 'full', codec: 'none', identity: base, strategy: 'copy' });
  expect(records.map((r) => [r.block, r.page, r.count, r.zero, r.first])).toEqual([
    [1, 1, 1, 0, 7],
    [0, 0, 8, 0, 5],
    [1, 0, 1, 1, undefined],
  ]);
  expect(trailer).toMatchObject({ records: 3, pages: 10, zeroPages: 1, byteLength: 56 });
  expect(trailer?.indexOffset).toBe(header.byteLength + (trailer?.recordBytes ?? 0));
  expect((await verify(path)).ok).toBe(true);

  // Random access: the index from the end of the file, then one record alone.
  const handle = await open(path, 'r');
  try {
    const source = fileSource(handle, (await handle.stat()).size);
    const index = await readIndex(source);
    expect(index.trailer).toEqual(trailer);
    expect(index.entries.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(index.entries.offset(i)).toBe(records[i]?.offset);
    // Global pages: ram 0–7, io 8–9.
    expect([0, 7, 8, 9, 10].map((p) => index.find(p))).toEqual([1, 1, 2, 0, -1]);
    const record = await readRecordAt(source, index.header, index.entries.offset(0));
    expect([record.block, record.page, record.count, record.data[0], record.data.length]).toEqual([1, 1, 1, 7, 512]);
    await expect(readRecordAt(source, index.header, index.entries.offset(0) + 1)).rejects.toThrow(/expected a record \(tag 'PAGE'\)/);
  } finally {
    await handle.close();
  }
});

it('reads back an incremental snapshot: some pages, each at most once, none missing', async () => {
  const path = dir.file('child.bgsnap');
  writeSnapshot(path, testHeader(child), [{ block: 0, page: 3, count: 2, fill: 6 }]);
  const { header, trailer, records } = await readBack(path);
  expect(header).toMatchObject({ kind: 'incremental', identity: child });
  expect(header.identity?.parent).toBe(base?.id);
  expect(records.length).toBe(1);
  expect(trailer?.pages).toBe(2);
  const report = await verify(path);
  expect(report.ok).toBe(true);
  expect(report.pages).toBe(2);

  const handle = await open(path, 'r');
  try {
    const index = await readIndex(fileSource(handle, (await handle.stat()).size));
    expect([2, 3, 4, 5].map((p) => index.find(p))).toEqual([-1, 0, 0, -1]);
  } finally {
    await handle.close();
  }
});

it('refuses an incremental snapshot that holds a page twice', async () => {
  const path = dir.file('twice.bgsnap');
  writeSnapshot(path, testHeader(child), [{ block: 0, page: 3, count: 2, fill: 6 }, { block: 0, page: 4, count: 1, fill: 6 }]);
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) expect(report.problems[0].expected).toBe('page 4 of block "ram" once');
});

it('refuses a full snapshot that misses a page', async () => {
  const path = dir.file('short.bgsnap');
  writeSnapshot(path, testHeader(base), allPages(1).slice(0, 1));
  const report = await verify(path);
  expect(report.ok).toBe(false);
  if (!report.ok) expect(report.problems[0].expected).toMatch(/every page in a record, page 0 of block "io" too/);
});

it('gives a header without an identity a full snapshot of its own', async () => {
  const path = dir.file('anonymous.bgsnap');
  writeSnapshot(path, testHeader(), allPages(1));
  const { header } = await readBack(path);
  expect(header.kind).toBe('full');
  expect(header.identity?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(header.identity).toEqual({ id: header.identity?.id, root: header.identity?.id, link: 0 });
});

it('refuses to read the index of a file cut short', async () => {
  const path = dir.file('cut.bgsnap');
  writeSnapshot(path, testHeader(base), allPages(1));
  writeFileSync(path, readFileSync(path).subarray(0, -1));
  const handle = await open(path, 'r');
  try {
    await expect(readIndex(fileSource(handle, (await handle.stat()).size))).rejects.toThrow(/trailer/);
  } finally {
    await handle.close();
  }
});
