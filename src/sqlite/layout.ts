import { OptionError } from '../errors';
import { DEFAULT_PAGE_SIZE, checkPageSize, type BlockSpec } from '../memory/geometry';
import { PagedMemory } from '../memory/PagedMemory';
import { SqliteImageError } from './errors';

/** The names of the three blocks that hold a database. */
export interface SqliteBlockNames {
  /** The database file. */
  readonly db: string;
  /** Its rollback journal. */
  readonly journal: string;
  /** The size and existence of both files. */
  readonly meta: string;
}

/** The block names `sqliteLayout` uses unless told otherwise. */
export const DEFAULT_SQLITE_BLOCKS: SqliteBlockNames = { db: 'sqlite-db', journal: 'sqlite-journal', meta: 'sqlite-meta' };

/** How large the blocks of a database are. */
export interface SqliteMemoryOptions {
  /**
   * The most bytes the database file may take; rounded up to whole pages. A
   * write past it fails with `SQLITE_FULL`. Allow for the largest the
   * database will grow, plus free pages (a `DELETE` frees pages without
   * shrinking the file; `VACUUM` gives them back).
   */
  readonly dbBytes: number;
  /**
   * The most bytes the rollback journal may take; rounded up to whole pages.
   * A transaction journals the original of every database page it changes
   * (page size + 8 bytes each) after a header of 512 bytes, so a journal of
   * `dbBytes` plus 1/64 of it plus 64 KiB lets any one transaction (a
   * `VACUUM` too) rewrite the whole database. With smaller transactions, a
   * smaller journal is enough: a transaction that outgrows it fails with
   * `SQLITE_FULL` and is rolled back.
   * @default dbBytes + dbBytes / 64 + 65536
   */
  readonly journalBytes?: number;
  /**
   * The memory's page size. SQLite's page size is set to it (at most 64 KiB)
   * when the database is created, so that a database page is a memory page.
   * @default 4096
   */
  readonly pageSize?: number;
  /** Block names, to place the database beside other blocks. @default DEFAULT_SQLITE_BLOCKS */
  readonly blocks?: Partial<SqliteBlockNames>;
}

/**
 * Where a database lives: the memory's page size and its three blocks.
 * Plain data, so it can be posted to a worker thread.
 */
export interface SqliteLayout {
  readonly pageSize: number;
  readonly db: BlockSpec;
  readonly journal: BlockSpec;
  readonly meta: BlockSpec;
}

/**
 * The block layout for a database: sizes rounded up to whole pages, and a
 * metadata block of one page.
 * @throws OptionError naming the option that is out of range.
 */
export function sqliteLayout(options: SqliteMemoryOptions): SqliteLayout {
  const pageSize = checkPageSize(options?.pageSize ?? DEFAULT_PAGE_SIZE);
  const dbBytes = checkBytes('dbBytes', options?.dbBytes);
  const journalBytes = checkBytes('journalBytes', options.journalBytes ?? dbBytes + Math.ceil(dbBytes / 64) + 65536);
  const names = blockNames(options.blocks);
  const whole = (bytes: number) => Math.ceil(bytes / pageSize) * pageSize;
  return {
    pageSize,
    db: { name: names.db, size: whole(dbBytes) },
    journal: { name: names.journal, size: whole(journalBytes) },
    meta: { name: names.meta, size: pageSize },
  };
}

/**
 * A `PagedMemory` holding the three blocks of a database, and nothing else.
 * @example
 * const memory = sqliteMemory({ dbBytes: 64 << 20, journalBytes: 8 << 20 });
 */
export function sqliteMemory(options: SqliteMemoryOptions | SqliteLayout): PagedMemory {
  const layout = 'dbBytes' in options ? sqliteLayout(options) : options;
  return new PagedMemory({ pageSize: layout.pageSize, blocks: [layout.db, layout.journal, layout.meta] });
}

/** Block names, the defaults filled in; distinct and non-empty. */
export function blockNames(names: Partial<SqliteBlockNames> | undefined): SqliteBlockNames {
  const all = { ...DEFAULT_SQLITE_BLOCKS, ...names };
  const seen = new Set<string>();
  for (const key of ['db', 'journal', 'meta'] as const) {
    const name: unknown = all[key];
    if (typeof name !== 'string' || name.length === 0 || seen.has(name)) {
      throw new OptionError(`blocks.${key}`, 'a non-empty block name no other of the three has', name);
    }
    seen.add(name);
  }
  return all;
}

function checkBytes(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new OptionError(option, 'a positive whole number of bytes', value);
  }
  return value;
}

// The metadata block. Little-endian, in its first 48 bytes (within any page):
//   0   8  magic "BGSQLITE"
//   8   4  version, u32 = 1
//  12   4  reserved, 0
//  16  16  the database file's entry
//  32  16  the journal's entry
// An entry: u32 flags (bit 0: the file exists), u32 reserved (0), u64 size in
// bytes. Each entry is written in one write, so a snapshot holds a whole one.

/** The files a database keeps in memory. */
export type SqliteFileKind = 'db' | 'journal';

/** One file, as the metadata block records it. */
export interface SqliteFileState {
  readonly exists: boolean;
  /** Bytes; 0 when the file does not exist. */
  readonly size: number;
}

/** Both files, as the metadata block records them. */
export type SqliteFiles = Readonly<Record<SqliteFileKind, SqliteFileState>>;

const MAGIC = Buffer.from('BGSQLITE', 'latin1');
const VERSION = 1;
export const META_BYTES = 48;
const ENTRY_BYTES = 16;
const ENTRY_AT: Record<SqliteFileKind, number> = { db: 16, journal: 32 };
const EXISTS = 1;

/** Where a file's entry starts in the metadata block. */
export function entryOffset(kind: SqliteFileKind): number {
  return ENTRY_AT[kind];
}

/** The 16 bytes of a file's entry. */
export function encodeEntry(state: SqliteFileState): Uint8Array {
  const bytes = Buffer.alloc(ENTRY_BYTES);
  bytes.writeUInt32LE(state.exists ? EXISTS : 0, 0);
  bytes.writeBigUInt64LE(BigInt(state.size), 8);
  return bytes;
}

/** The metadata block's header: magic and version, before any entry is written. */
export function encodeMetaHeader(): Uint8Array {
  const bytes = Buffer.alloc(16);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(VERSION, 8);
  return bytes;
}

/**
 * Reads the first `META_BYTES` of a metadata block: the files, or `undefined`
 * for a block never written (all zero).
 * @throws SqliteImageError when it holds something else, or an entry is malformed.
 */
export function decodeMeta(bytes: Uint8Array, block: string): SqliteFiles | undefined {
  if (bytes.length < META_BYTES) throw new SqliteImageError(block, `${bytes.length} bytes, fewer than the ${META_BYTES} of the SQLite metadata`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, META_BYTES);
  if (view.every((b) => b === 0)) return undefined;
  if (!view.subarray(0, 8).equals(MAGIC)) {
    throw new SqliteImageError(block, `expected the SQLite metadata magic "BGSQLITE", found the bytes ${view.subarray(0, 8).toString('hex')}`);
  }
  const version = view.readUInt32LE(8);
  if (version !== VERSION) throw new SqliteImageError(block, `expected SQLite metadata version ${VERSION}, found ${version}`);
  const entry = (kind: SqliteFileKind): SqliteFileState => {
    const at = ENTRY_AT[kind];
    const flags = view.readUInt32LE(at);
    const size = view.readBigUInt64LE(at + 8);
    if ((flags & ~EXISTS) !== 0 || view.readUInt32LE(at + 4) !== 0 || size > BigInt(Number.MAX_SAFE_INTEGER) || ((flags & EXISTS) === 0 && size !== 0n)) {
      throw new SqliteImageError(block, `the ${kind} entry at byte ${at} is malformed (flags ${flags}, size ${size})`);
    }
    return { exists: (flags & EXISTS) !== 0, size: Number(size) };
  };
  return { db: entry('db'), journal: entry('journal') };
}
