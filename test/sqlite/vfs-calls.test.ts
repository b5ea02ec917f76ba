// BlockVfs called directly, as SQLite calls it: file semantics over fixed
// blocks, with the metadata written through the writer.
import { describe, expect, it } from 'vitest';
import { BlockVfs } from '../../src/sqlite/BlockVfs';
import {
  SQLITE_CANTOPEN,
  SQLITE_FULL,
  SQLITE_IOERR_SHORT_READ,
  SQLITE_IOERR_WRITE,
  SQLITE_OK,
  SQLITE_OPEN_CREATE,
  SQLITE_OPEN_MAIN_DB,
  SQLITE_OPEN_MAIN_JOURNAL,
  SQLITE_OPEN_READWRITE,
  SQLITE_OPEN_WAL,
} from '../../src/sqlite/constants';
import { decodeMeta, sqliteLayout, sqliteMemory } from '../../src/sqlite/layout';
import { blockWriter } from './support';

const CREATE = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE;

function setup() {
  const layout = sqliteLayout({ dbBytes: 4 * 1024, journalBytes: 2 * 1024, pageSize: 1024 });
  const memory = sqliteMemory(layout);
  const writer = blockWriter(memory);
  const vfs = new BlockVfs(writer, layout, { name: 'calls', fileName: 'a.db' });
  const out = new DataView(new ArrayBuffer(8));
  const open = (name: string | null, id: number, flags: number) => vfs.xOpen(name, id, flags, out);
  const size = (id: number) => (vfs.xFileSize(id, out), Number(out.getBigInt64(0, true)));
  const exists = (name: string) => (vfs.xAccess(name, 0, out), out.getInt32(0, true));
  const meta = () => decodeMeta(memory.read(layout.meta.name, 0, 48), layout.meta.name);
  return { layout, memory, writer, vfs, open, size, exists, meta };
}

describe('BlockVfs', () => {
  it('writes its metadata header into a blank block, and nothing else', () => {
    const { writer, meta } = setup();
    expect(writer.writes).toBe(1);
    expect(meta()).toEqual({ db: { exists: false, size: 0 }, journal: { exists: false, size: 0 } });
  });

  it('creates, grows and deletes files, recording each change in the metadata block', () => {
    const { vfs, open, size, exists, meta } = setup();
    expect(open('a.db', 1, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB)).toBe(SQLITE_CANTOPEN);
    expect(open('a.db', 1, CREATE | SQLITE_OPEN_MAIN_DB)).toBe(SQLITE_OK);
    expect(meta()?.db).toEqual({ exists: true, size: 0 });
    expect(vfs.xWrite(1, new Uint8Array(100).fill(7), 0)).toBe(SQLITE_OK);
    expect(size(1)).toBe(100);

    expect(exists('a.db-journal')).toBe(0);
    expect(open('a.db-journal', 2, CREATE | SQLITE_OPEN_MAIN_JOURNAL)).toBe(SQLITE_OK);
    expect(vfs.xWrite(2, new Uint8Array(512).fill(1), 0)).toBe(SQLITE_OK);
    expect(meta()).toEqual({ db: { exists: true, size: 100 }, journal: { exists: true, size: 512 } });
    expect(vfs.xClose(2)).toBe(SQLITE_OK);
    expect(vfs.xDelete('a.db-journal', 0)).toBe(SQLITE_OK);
    expect(exists('a.db-journal')).toBe(0);
    expect(meta()?.journal).toEqual({ exists: false, size: 0 });
  });

  it('refuses a write past its block whole, writing nothing', () => {
    const { vfs, open, size, memory, layout, writer } = setup();
    open('a.db', 1, CREATE | SQLITE_OPEN_MAIN_DB);
    vfs.xWrite(1, new Uint8Array(4000).fill(3), 0);
    const before = memory.block(layout.db.name).bytes.slice();
    const writes = writer.writes;
    expect(vfs.xWrite(1, new Uint8Array(200).fill(9), 4000)).toBe(SQLITE_FULL);
    expect(vfs.xTruncate(1, 4097)).toBe(SQLITE_FULL);
    expect(writer.writes).toBe(writes);
    expect(memory.block(layout.db.name).bytes).toEqual(before);
    expect(size(1)).toBe(4000);
    // Up to the last byte of the block is fine.
    expect(vfs.xWrite(1, new Uint8Array(96).fill(9), 4000)).toBe(SQLITE_OK);
    expect(size(1)).toBe(4096);
  });

  it('reads zeros past the end of a file, even over stale bytes of the block', () => {
    const { vfs, open, memory, layout } = setup();
    open('a.db', 1, CREATE | SQLITE_OPEN_MAIN_DB);
    vfs.xWrite(1, new Uint8Array(1000).fill(5), 0);
    expect(vfs.xTruncate(1, 100)).toBe(SQLITE_OK);
    const read = new Uint8Array(200).fill(0xee);
    expect(vfs.xRead(1, read, 0)).toBe(SQLITE_IOERR_SHORT_READ);
    expect(read).toEqual(new Uint8Array(200).fill(5, 0, 100));
    // A write past the end zeroes the gap first, as a file system does.
    expect(vfs.xWrite(1, new Uint8Array([8]), 500)).toBe(SQLITE_OK);
    const again = new Uint8Array(501);
    expect(vfs.xRead(1, again, 0)).toBe(SQLITE_OK);
    expect(again).toEqual(new Uint8Array(501).fill(5, 0, 100).fill(8, 500));
    // Truncating up extends with zeros.
    expect(vfs.xTruncate(1, 800)).toBe(SQLITE_OK);
    expect(memory.read(layout.db.name, 501, 299)).toEqual(new Uint8Array(299));
  });

  it('keeps temporary files in the heap and refuses files it does not hold', () => {
    const { vfs, open, writer } = setup();
    const writes = writer.writes;
    expect(open(null, 5, CREATE | 0x8)).toBe(SQLITE_OK);
    expect(vfs.xWrite(5, new Uint8Array([1, 2, 3]), 10)).toBe(SQLITE_OK);
    const read = new Uint8Array(13);
    expect(vfs.xRead(5, read, 0)).toBe(SQLITE_OK);
    expect(read).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]));
    expect(vfs.xClose(5)).toBe(SQLITE_OK);
    expect(writer.writes).toBe(writes);

    expect(open('a.db-wal', 6, CREATE | SQLITE_OPEN_WAL)).toBe(SQLITE_CANTOPEN);
    expect(open('b.db', 6, CREATE | SQLITE_OPEN_MAIN_DB)).toBe(SQLITE_CANTOPEN);
    expect(vfs.takeError()).toMatchObject({ message: expect.stringMatching(/cannot open "b.db"/) });
  });

  it('turns a writer that throws into an I/O error, keeping the error', () => {
    const { vfs, open, writer } = setup();
    open('a.db', 1, CREATE | SQLITE_OPEN_MAIN_DB);
    const broken = new Error('writer gone');
    writer.onWrite = () => {
      throw broken;
    };
    expect(vfs.xWrite(1, new Uint8Array(10), 0)).toBe(SQLITE_IOERR_WRITE);
    expect(vfs.takeError()).toBe(broken);
    expect(vfs.takeError()).toBeUndefined();
  });
});
