/// <reference types="wa-sqlite" preserve="true" />
import { OptionError } from '../errors';
import type { BlockSpec } from '../memory/geometry';
import {
  SQLITE_CANTOPEN,
  SQLITE_ERROR,
  SQLITE_FCNTL_PRAGMA,
  SQLITE_FULL,
  SQLITE_IOERR,
  SQLITE_IOERR_DELETE,
  SQLITE_IOERR_FSTAT,
  SQLITE_IOERR_READ,
  SQLITE_IOERR_SHORT_READ,
  SQLITE_IOERR_TRUNCATE,
  SQLITE_IOERR_WRITE,
  SQLITE_NOTFOUND,
  SQLITE_OK,
  SQLITE_OPEN_CREATE,
  SQLITE_OPEN_DELETEONCLOSE,
  SQLITE_OPEN_MAIN_DB,
  SQLITE_OPEN_MAIN_JOURNAL,
  SQLITE_OPEN_WAL,
} from './constants';
import { SqliteImageError } from './errors';
import {
  META_BYTES,
  decodeMeta,
  encodeEntry,
  encodeMetaHeader,
  entryOffset,
  type SqliteFileKind,
  type SqliteFileState,
  type SqliteLayout,
} from './layout';
import type { SyncWriter } from './SyncWriter';

/** How a `BlockVfs` is named. */
export interface BlockVfsOptions {
  /** The name SQLite knows the VFS by; unique within one SQLite module. */
  readonly name: string;
  /**
   * The database's file name: the one name that opens the database block
   * (its journal is this name + `-journal`). At most 48 bytes of UTF-8.
   * @default 'bgsnap.db'
   */
  readonly fileName?: string;
}

/** The journal modes that keep a rollback journal in a file: crash-consistent in any image. */
const JOURNAL_MODES = new Set(['delete', 'persist', 'truncate']);

/** A temporary file (statement journal, temp database): in the heap, never in an image. */
interface TempFile {
  readonly name: string;
  data: Uint8Array;
  size: number;
}

type OpenFile = { readonly kind: SqliteFileKind } | { readonly kind: 'temp'; readonly file: TempFile; readonly deleteOnClose: boolean };

/** Zeros for filling gaps, reused. */
const ZEROS = new Uint8Array(64 * 1024);

/**
 * A wa-sqlite VFS (synchronous build) that keeps one database in memory
 * blocks: the database file, its rollback journal, and a metadata block
 * with each file's size and existence. Every write, data and metadata,
 * goes through the `SyncWriter`, in the order SQLite makes them, so a
 * snapshot of the blocks is the set of files as they stood at its t0: what
 * a disk holds after a power failure then.
 *
 * - A write past the end of a block writes nothing and returns `SQLITE_FULL`.
 * - A file grows data first, then its size in the metadata block; bytes past
 *   a file's size read as zeros (a gap written over is zeroed first).
 * - Only the journal modes `DELETE` (the default), `PERSIST` and `TRUNCATE`
 *   are allowed: `PRAGMA journal_mode` with any other value fails, and a WAL
 *   file cannot be opened.
 * - Temporary files (statement journals, temporary tables) live in the
 *   heap: they are not part of an image and need not be.
 * - One connection per memory: the VFS takes no locks. It refuses a second
 *   open of its database while one is open, but cannot see a connection
 *   through another VFS on the same blocks (`openSqlite` makes a VFS per
 *   connection): open each memory once.
 *
 * It uses nothing but the writer, so it runs in a worker thread as well.
 */
export class BlockVfs implements SQLiteVFS {
  readonly name: string;
  readonly mxPathName = 64;
  readonly fileName: string;
  readonly journalName: string;
  /**
   * Turns a message into a C string SQLite frees (`sqlite3_malloc`), or 0.
   * Set by the opener, so that a refused PRAGMA says why.
   */
  allocMessage: ((text: string) => number) | undefined;

  private readonly blocks: Readonly<Record<SqliteFileKind, BlockSpec>>;
  private readonly meta: BlockSpec;
  private readonly files: Record<SqliteFileKind, SqliteFileState>;
  private readonly open = new Map<number, OpenFile>();
  private readonly temp = new Map<string, TempFile>();
  private nextTemp = 0;
  private error: unknown;

  /**
   * Reads the metadata block through `writer`, and writes its header when
   * the block was never written.
   * @throws SqliteImageError when the metadata block holds something else, or a size that does not fit its block.
   * @throws OptionError when `fileName` is empty or too long.
   */
  constructor(
    private readonly writer: SyncWriter,
    layout: SqliteLayout,
    options: BlockVfsOptions,
  ) {
    this.name = options.name;
    this.fileName = options.fileName ?? 'bgsnap.db';
    if (this.fileName.length === 0 || Buffer.byteLength(this.fileName) > 48 || this.fileName.includes('\0')) {
      throw new OptionError('fileName', 'a file name of 1 to 48 bytes', this.fileName);
    }
    this.journalName = `${this.fileName}-journal`;
    this.blocks = { db: layout.db, journal: layout.journal };
    this.meta = layout.meta;
    const files = decodeMeta(writer.read(layout.meta.name, 0, META_BYTES), layout.meta.name);
    if (files === undefined) writer.write(layout.meta.name, 0, encodeMetaHeader());
    this.files = { db: files?.db ?? { exists: false, size: 0 }, journal: files?.journal ?? { exists: false, size: 0 } };
    for (const kind of ['db', 'journal'] as const) {
      const { size } = this.files[kind];
      const block = this.blocks[kind];
      if (size > block.size) {
        throw new SqliteImageError(layout.meta.name, `the ${kind} file's size, ${size} bytes, does not fit its block ${JSON.stringify(block.name)} of ${block.size}`);
      }
    }
  }

  /** The files as the metadata block records them now. */
  get state(): Readonly<Record<SqliteFileKind, SqliteFileState>> {
    return { db: this.files.db, journal: this.files.journal };
  }

  /** The error behind the last failed call, if a writer threw or a request was refused; cleared on reading. */
  takeError(): unknown {
    const error = this.error;
    this.error = undefined;
    return error;
  }

  xOpen(name: string | null, fileId: number, flags: number, pOutFlags: DataView): number {
    return this.guard(SQLITE_CANTOPEN, () => {
      const kind = name === null ? undefined : this.kindOf(name);
      if (kind === undefined) {
        if ((flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) !== 0) {
          return this.refuse(SQLITE_CANTOPEN, `this VFS holds one database, ${JSON.stringify(this.fileName)}, with a rollback journal; it cannot open ${JSON.stringify(name)}`);
        }
        const tempName = name ?? `temp-${this.nextTemp++}`;
        let file = this.temp.get(tempName);
        if (file === undefined) {
          if ((flags & SQLITE_OPEN_CREATE) === 0) return SQLITE_CANTOPEN;
          file = { name: tempName, data: new Uint8Array(0), size: 0 };
          this.temp.set(tempName, file);
        }
        this.open.set(fileId, { kind: 'temp', file, deleteOnClose: (flags & SQLITE_OPEN_DELETEONCLOSE) !== 0 });
      } else {
        if (kind === 'db' && [...this.open.values()].some((f) => f.kind === 'db')) {
          return this.refuse(SQLITE_CANTOPEN, `${JSON.stringify(this.fileName)} is open already: one connection at a time`);
        }
        if (!this.files[kind].exists) {
          if ((flags & SQLITE_OPEN_CREATE) === 0) return SQLITE_CANTOPEN;
          this.setFile(kind, { exists: true, size: 0 });
        }
        this.open.set(fileId, { kind });
      }
      pOutFlags.setInt32(0, flags, true);
      return SQLITE_OK;
    });
  }

  xClose(fileId: number): number {
    const file = this.open.get(fileId);
    this.open.delete(fileId);
    if (file?.kind === 'temp' && file.deleteOnClose) this.temp.delete(file.file.name);
    return SQLITE_OK;
  }

  xRead(fileId: number, pData: Uint8Array, iOffset: number): number {
    return this.guard(SQLITE_IOERR_READ, () => {
      const file = this.fileOf(fileId);
      const size = file.kind === 'temp' ? file.file.size : this.files[file.kind].size;
      const n = Math.max(0, Math.min(pData.length, size - iOffset));
      if (n > 0) {
        pData.set(file.kind === 'temp' ? file.file.data.subarray(iOffset, iOffset + n) : this.writer.read(this.blocks[file.kind].name, iOffset, n));
      }
      if (n === pData.length) return SQLITE_OK;
      pData.fill(0, n);
      return SQLITE_IOERR_SHORT_READ;
    });
  }

  xWrite(fileId: number, pData: Uint8Array, iOffset: number): number {
    return this.guard(SQLITE_IOERR_WRITE, () => {
      const file = this.fileOf(fileId);
      const end = iOffset + pData.length;
      if (file.kind === 'temp') {
        tempResize(file.file, Math.max(end, file.file.size));
        file.file.data.set(pData, iOffset);
        return SQLITE_OK;
      }
      const block = this.blocks[file.kind];
      // All or nothing: a write that does not fit writes no byte.
      if (end > block.size) return SQLITE_FULL;
      const { size } = this.files[file.kind];
      if (iOffset > size) this.zero(block.name, size, iOffset);
      this.writer.write(block.name, iOffset, pData);
      // Data first, then the size: an image never has a size covering bytes not yet written.
      if (end > size) this.setFile(file.kind, { exists: true, size: end });
      return SQLITE_OK;
    });
  }

  xTruncate(fileId: number, iSize: number): number {
    return this.guard(SQLITE_IOERR_TRUNCATE, () => {
      const file = this.fileOf(fileId);
      if (file.kind === 'temp') {
        tempResize(file.file, iSize);
        return SQLITE_OK;
      }
      const block = this.blocks[file.kind];
      if (iSize > block.size) return SQLITE_FULL;
      const { size } = this.files[file.kind];
      if (iSize > size) this.zero(block.name, size, iSize);
      if (iSize !== size) this.setFile(file.kind, { exists: true, size: iSize });
      return SQLITE_OK;
    });
  }

  /** Writes reach memory in order as they are made: there is nothing to flush. */
  xSync(_fileId: number, _flags: number): number {
    return SQLITE_OK;
  }

  xFileSize(fileId: number, pSize64: DataView): number {
    return this.guard(SQLITE_IOERR_FSTAT, () => {
      const file = this.fileOf(fileId);
      const size = file.kind === 'temp' ? file.file.size : this.files[file.kind].size;
      pSize64.setBigInt64(0, BigInt(size), true);
      return SQLITE_OK;
    });
  }

  xLock(_fileId: number, _flags: number): number {
    return SQLITE_OK;
  }

  xUnlock(_fileId: number, _flags: number): number {
    return SQLITE_OK;
  }

  xCheckReservedLock(_fileId: number, pResOut: DataView): number {
    pResOut.setInt32(0, 0, true);
    return SQLITE_OK;
  }

  /** Refuses `PRAGMA journal_mode` to anything but `DELETE`, `PERSIST` or `TRUNCATE`. */
  xFileControl(_fileId: number, op: number, pArg: DataView): number {
    return this.guard(SQLITE_IOERR, () => {
      if (op !== SQLITE_FCNTL_PRAGMA) return SQLITE_NOTFOUND;
      // pArg points at char*[3]: an error message to set, the pragma's name, its value (or NULL).
      const heap = new Uint8Array(pArg.buffer);
      const pragma = cString(heap, pArg.getUint32(4, true)).toLowerCase();
      const valueAt = pArg.getUint32(8, true);
      if (pragma !== 'journal_mode' || valueAt === 0) return SQLITE_NOTFOUND;
      const mode = cString(heap, valueAt).toLowerCase();
      if (JOURNAL_MODES.has(mode)) return SQLITE_NOTFOUND;
      const message = `journal_mode ${mode.toUpperCase()} is not supported in bgsnap memory: use DELETE, PERSIST or TRUNCATE, whose journal lives in a file a snapshot holds`;
      this.error = new OptionError('journal_mode', 'DELETE, PERSIST or TRUNCATE', mode);
      const text = this.allocMessage?.(message) ?? 0;
      if (text !== 0) pArg.setUint32(0, text, true);
      return SQLITE_ERROR;
    });
  }

  xSectorSize(_fileId: number): number {
    return 512;
  }

  xDeviceCharacteristics(_fileId: number): number {
    return 0;
  }

  xDelete(name: string, _syncDir: number): number {
    return this.guard(SQLITE_IOERR_DELETE, () => {
      const kind = this.kindOf(name);
      if (kind !== undefined) {
        if (this.files[kind].exists) this.setFile(kind, { exists: false, size: 0 });
      } else {
        this.temp.delete(name);
      }
      return SQLITE_OK;
    });
  }

  xAccess(name: string, _flags: number, pResOut: DataView): number {
    const kind = this.kindOf(name);
    const exists = kind !== undefined ? this.files[kind].exists : this.temp.has(name);
    pResOut.setInt32(0, exists ? 1 : 0, true);
    return SQLITE_OK;
  }

  private kindOf(name: string): SqliteFileKind | undefined {
    return name === this.fileName ? 'db' : name === this.journalName ? 'journal' : undefined;
  }

  private fileOf(fileId: number): OpenFile {
    const file = this.open.get(fileId);
    if (file === undefined) throw new Error(`SQLite file ${fileId} is not open in VFS ${JSON.stringify(this.name)}`);
    return file;
  }

  /** Records a file's size and existence in the metadata block, in one write. */
  private setFile(kind: SqliteFileKind, state: SqliteFileState): void {
    this.writer.write(this.meta.name, entryOffset(kind), encodeEntry(state));
    this.files[kind] = state;
  }

  /** Zeroes `[from, to)` of a block. */
  private zero(block: string, from: number, to: number): void {
    for (let at = from; at < to; at += ZEROS.length) this.writer.write(block, at, ZEROS.subarray(0, Math.min(ZEROS.length, to - at)));
  }

  private refuse(code: number, message: string): number {
    this.error = new Error(message);
    return code;
  }

  /** Runs a VFS call; a throw must not cross into SQLite, so it becomes `code`. */
  private guard(code: number, call: () => number): number {
    try {
      return call();
    } catch (error) {
      this.error = error;
      return code;
    }
  }
}

function tempResize(file: TempFile, size: number): void {
  if (size > file.data.length) {
    const data = new Uint8Array(Math.max(size, 2 * file.data.length));
    data.set(file.data.subarray(0, file.size));
    file.data = data;
  } else if (size > file.size) {
    file.data.fill(0, file.size, size);
  }
  file.size = size;
}

/** The NUL-terminated UTF-8 string at `at` in the wasm heap. */
function cString(heap: Uint8Array, at: number): string {
  const end = heap.indexOf(0, at);
  return Buffer.from(heap.buffer, heap.byteOffset + at, (end < 0 ? heap.length : end) - at).toString('utf8');
}
