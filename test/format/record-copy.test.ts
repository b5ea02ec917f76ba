// A record's views point into the reader's buffer and are valid until the
// iteration moves on; `record.copy()` keeps a record with bytes of its own.
import { afterAll, expect, it } from 'vitest';
import { openSnapshot, type SnapshotRecord } from '../../src/format/reader';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { runToEnd, tempDir } from '../storage/support';

const dir = tempDir('record-copy');
afterAll(() => dir.remove());

it('keeps copied records intact after the iteration has moved on', async () => {
  const path = dir.file('runs.snap');
  // 64-page runs, each with a byte of its own on every page; every fourth page zero.
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 1024 * 4096 }] });
  const bytes = memory.block('ram').bytes;
  for (let p = 0; p < 1024; p++) if (p % 4 !== 3) bytes[p * 4096] = (p >> 6) + 1;
  // Writes of whole runs from the first one, so every record is a full run.
  const outcome = await runToEnd(snapshot(memory, new FileSink(path), { minWriteBytes: 256 * 1024 }));
  expect(outcome.kind).toBe('done');

  const file = await openSnapshot(path);
  const kept: SnapshotRecord[] = [];
  for await (const record of file.records()) kept.push(record.copy());
  expect(kept.length).toBe(16);
  for (const record of kept) {
    expect(record.count).toBe(64);
    expect(record.zeroPages).toBe(16);
    expect(record.data.length).toBe(48 * 4096);
    for (const span of record.spans()) {
      for (let i = 0; i < span.count; i++) {
        const page = span.page + i;
        if (span.data === null) expect(page % 4).toBe(3);
        else expect(span.data[i * 4096]).toBe((page >> 6) + 1);
      }
    }
    expect(record.isZero(3)).toBe(true);
    expect(record.isZero(0)).toBe(false);
    // A copy copies.
    expect(record.copy().data === record.data).toBe(false);
  }
});
