import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CancelledError, FileExistsError, OptionError } from '../errors';
import { pageCountProblem } from '../format/decodeHeader';
import { PageTracker, unwrittenRuns } from '../format/PageTracker';
import { chainProblem } from '../format/chain';
import type { SnapshotFileHeader } from '../format/decodeHeader';
import { locationName, openLocation, type OpenSource, type SnapshotLocation, type SnapshotSource } from '../format/ByteSource';
import { readSnapshotSource, type SnapshotTrailer } from '../format/reader';
import { PagedMemory } from '../memory/PagedMemory';
import { linkIntoPlace, pathExists, syncDirectory, writeFully } from '../storage/commitFile';
import { SqliteImageError } from './errors';
import { META_BYTES, blockNames, decodeMeta, type SqliteBlockNames, type SqliteFileKind, type SqliteFiles } from './layout';

/** Block bytes by block name: an image taken without a snapshot file (`MemorySink.image`, copies of blocks). */
export type SqliteBlockImage = Readonly<Record<string, Uint8Array>>;

/** How `exportSqliteFiles` names and places the files. */
export interface ExportSqliteOptions {
  /** Base name of the files: `<name>.db` and `<name>.db-journal`. @default 'db' */
  readonly name?: string;
  /** The blocks that hold the database. @default DEFAULT_SQLITE_BLOCKS */
  readonly blocks?: Partial<SqliteBlockNames>;
  /** Replace files of those names. @default false */
  readonly overwrite?: boolean;
  /** Stops the export before the files get their names, removing what it wrote; `reason` is the signal that stopped it. */
  readonly signal?: AbortSignal;
}

/** A file `exportSqliteFiles` wrote. */
export interface ExportedFile {
  readonly path: string;
  readonly bytes: number;
}

/** What `exportSqliteFiles` wrote. */
export interface SqliteExport {
  readonly db: ExportedFile;
  /** The rollback journal, when one was live in the image; SQLite rolls it back on open when it is hot. */
  readonly journal: ExportedFile | undefined;
}

/**
 * Turns an image of a database's blocks into the files SQLite keeps on disk:
 * `<name>.db`, and `<name>.db-journal` when the metadata block says a journal
 * existed with bytes in it. The stock `sqlite3` opens them as after a power
 * failure at t0: it rolls back a hot journal, which gives the database as of
 * the last transaction committed before t0.
 *
 * `source` is a snapshot file's path (read once, every record checked against
 * its crc32, every page required exactly once), a chain's paths (base
 * first: the chain rules checked from the headers, then the links read
 * newest first, each page from the newest link that holds it, with a bitmap
 * of one bit a page), a `PagedMemory` (its bytes are
 * copied synchronously, so in-process writers cannot change the image
 * midway; take a snapshot of a memory that other threads write), or block
 * bytes by name.
 *
 * The files are written under temporary names in `dir` (created if
 * missing), synced, then given their names: the journal first, then the
 * database, so that no crash leaves a database next to a journal not its own.
 * With `overwrite`, the old database and journal are removed first. On any
 * failure, or when `signal` aborts, the temporary files are removed, and so is
 * `dir` if this call created it (and it is empty).
 * @throws SqliteImageError when a block is missing or the metadata block is not the adapter's.
 * @throws FormatError when the snapshot file is malformed; nothing is written then.
 * @throws ChainError when the paths are not one chain; nothing is written then.
 * @throws FileExistsError when a file of that name exists and `overwrite` is not set.
 * @throws OptionError when `name` or a block name is unusable.
 * @throws CancelledError when `signal` aborted before the files got their names.
 */
export async function exportSqliteFiles(
  source: SnapshotLocation | readonly SnapshotLocation[] | PagedMemory | SqliteBlockImage,
  dir: string, options: ExportSqliteOptions = {}): Promise<SqliteExport> {
  const name = options.name ?? 'db';
  if (name.length === 0 || name === '.' || name === '..' || name !== basename(name) || /[\\/\0]/.test(name)) {
    throw new OptionError('name', 'a file name without a directory part', name);
  }
  const blocks = blockNames(options.blocks);
  const overwrite = options.overwrite ?? false;
  const signal = options.signal;
  const checkCancel = (): void => {
    if (signal?.aborted) throw new CancelledError(signal.reason as NodeJS.Signals, `nothing was written to ${JSON.stringify(dir)}`);
  };
  checkCancel();
  const db = new OutputFile(join(dir, `${name}.db`));
  const journal = new OutputFile(`${db.path}-journal`);
  // An image in memory is copied before the first await; a snapshot's blocks are checked before anything is created.
  const input =
    typeof source === 'string' || isSnapshotSource(source)
      ? await openSnapshotImage([source], blocks)
      : Array.isArray(source)
        ? await openSnapshotImage(source as readonly SnapshotLocation[], blocks)
        : imageOf(source as PagedMemory | SqliteBlockImage, blocks);
  /** The first folder this call created on the way to `dir`, if any. */
  let created: string | undefined;
  try {
    checkCancel();
    created = await mkdir(dir, { recursive: true });
    if (!overwrite) {
      for (const file of [db, journal]) if (await pathExists(file.path)) throw new FileExistsError(file.path);
    }
    try {
      await db.create();
      await journal.create();
      const files = 'writeInto' in input ? await input.writeInto(db, journal, checkCancel) : await writeImage(input, db, journal, checkCancel);
      const live = files.journal.exists && files.journal.size > 0;
      await db.finish(files.db.size);
      if (live) await journal.finish(files.journal.size);
      else await journal.discard();
      checkCancel();
      await commit(db, live ? journal : undefined, overwrite);
      return { db: { path: db.path, bytes: files.db.size }, journal: live ? { path: journal.path, bytes: files.journal.size } : undefined };
    } catch (error) {
      await Promise.all([db.discard(), journal.discard()]);
      throw error;
    }
  } catch (error) {
    // The error that stopped the export is the one reported; the clean-up's own can only follow it.
    if (created !== undefined) await removeCreated(dir, created);
    throw error;
  } finally {
    if ('close' in input) await input.close();
  }
}

/** The image's three blocks, the files' bytes copied out of a memory at once. */
interface Image {
  readonly files: SqliteFiles;
  readonly db: Uint8Array;
  readonly journal: Uint8Array;
}

function imageOf(source: PagedMemory | SqliteBlockImage, names: SqliteBlockNames): Image {
  const bytesOf = (name: string): Uint8Array => {
    if (source instanceof PagedMemory) {
      const block = source.blocks.find((b) => b.name === name);
      if (block === undefined) throw new SqliteImageError(name, `no such block in the memory (its blocks: ${source.blocks.map((b) => b.name).join(', ')})`);
      return block.bytes;
    }
    const bytes = Object.prototype.hasOwnProperty.call(source, name) ? source[name] : undefined;
    if (!(bytes instanceof Uint8Array)) throw new SqliteImageError(name, `no such block in the image (its blocks: ${Object.keys(source).join(', ')})`);
    return bytes;
  };
  const meta = bytesOf(names.meta);
  const db = bytesOf(names.db);
  const journal = bytesOf(names.journal);
  const files = checkFiles(decodeMeta(meta.subarray(0, META_BYTES), names.meta), names, { db: db.length, journal: journal.length });
  const copy = source instanceof PagedMemory;
  const used = (bytes: Uint8Array, size: number) => (copy ? bytes.slice(0, size) : bytes.subarray(0, size));
  return { files, db: used(db, files.db.size), journal: used(journal, files.journal.size) };
}

async function writeImage(image: Image, db: OutputFile, journal: OutputFile, checkCancel: () => void): Promise<SqliteFiles> {
  checkCancel();
  await db.write(image.db, 0);
  checkCancel();
  await journal.write(image.journal, 0);
  return image.files;
}

/** A snapshot file, open, its header read and the database's blocks found in it. */
interface SnapshotImage {
  /**
   * Reads the records once, writing the database's and journal's pages into
   * their files as they come (zero pages left as holes) and keeping the
   * metadata block; the caller cuts the files to the sizes returned.
   * `checkCancel` is called before each record and throws to stop.
   */
  writeInto(db: OutputFile, journal: OutputFile, checkCancel: () => void): Promise<SqliteFiles>;
  close(): Promise<void>;
}

/** A `SnapshotSource` (an object, say), rather than a memory or an image. */
function isSnapshotSource(source: unknown): source is SnapshotSource {
  return typeof source === 'object' && source !== null && typeof (source as SnapshotSource).open === 'function' && typeof (source as SnapshotSource).name === 'string';
}

async function openSnapshotImage(locations: readonly SnapshotLocation[], names: SqliteBlockNames): Promise<SnapshotImage> {
  if (locations.length === 0) throw new OptionError('source', 'at least one snapshot file, base first', locations);
  const paths = locations.map(locationName);
  const links: { readonly path: string; readonly source: OpenSource; readonly header: SnapshotFileHeader }[] = [];
  const closeAll = () => Promise.all(links.map((l) => l.source.close())).then(() => undefined);
  try {
    // Step 1: every header, then the chain rules.
    for (const location of locations) {
      const path = locationName(location);
      const source = await openLocation(location);
      try {
        // The header alone: each link gets a reader of its own when it is read through.
        const head = await readSnapshotSource(source, path, { chunkBytes: 4096 });
        const tooMany = pageCountProblem(head.decoded, source.size);
        if (tooMany !== undefined) throw tooMany;
        links.push({ path, source, header: head.header });
      } catch (error) {
        await source.close();
        throw error;
      }
    }
    const broken = chainProblem(links);
    if (broken !== undefined) throw broken;
    const { blocks, pageSize } = (links[0] as (typeof links)[number]).header;
    const shown = paths.length === 1 ? `the snapshot ${JSON.stringify(paths[0])}` : `the chain's base ${JSON.stringify(paths[0])}`;
    const blockOf = (name: string) => {
      const index = blocks.findIndex((b) => b.name === name);
      const block = blocks[index];
      if (block === undefined) throw new SqliteImageError(name, `no such block in ${shown} (its blocks: ${blocks.map((b) => b.name).join(', ')})`);
      return { index, size: block.size };
    };
    const dbBlock = blockOf(names.db);
    const journalBlock = blockOf(names.journal);
    const metaBlock = blockOf(names.meta);
    return {
      close: closeAll,
      async writeInto(db, journal, checkCancel) {
        const meta = new Uint8Array(metaBlock.size);
        const targets = new Map<number, OutputFile | Uint8Array>([
          [dbBlock.index, db],
          [journalBlock.index, journal],
          [metaBlock.index, meta],
        ]);
        // Newest link first; a page a newer link wrote is skipped. A zero page leaves its hole (or zeros) in place.
        const written = new PageTracker(blocks);
        for (let i = links.length - 1; i >= 0; i--) {
          const link = links[i] as (typeof links)[number];
          const file = await readSnapshotSource(link.source, link.path);
          const own = new PageTracker(blocks, file.header.kind);
          for await (const record of file.records()) {
            checkCancel();
            const repeat = own.mark(record);
            if (repeat !== undefined) throw repeat;
            const target = targets.get(record.block);
            const first = (blocks[record.block] as { firstPage: number }).firstPage;
            if (target !== undefined) {
              for (const span of record.spans()) {
                if (span.data === null) continue;
                for (const [p, q] of unwrittenRuns(written, first + span.page, span.count)) {
                  const data = span.data.subarray(p * pageSize, q * pageSize);
                  if (target instanceof Uint8Array) target.set(data, (span.page + p) * pageSize);
                  else await target.write(data, (span.page + p) * pageSize);
                }
              }
            }
            written.mark(record);
          }
          const missing = own.missing((file.trailer as SnapshotTrailer).offset);
          if (missing !== undefined) throw missing;
        }
        return checkFiles(decodeMeta(meta.subarray(0, META_BYTES), names.meta), names, { db: dbBlock.size, journal: journalBlock.size });
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The files of a decoded metadata block, checked against their blocks. */
function checkFiles(files: SqliteFiles | undefined, names: SqliteBlockNames, blockBytes: Record<SqliteFileKind, number>): SqliteFiles {
  if (files === undefined) throw new SqliteImageError(names.meta, 'all zero: no database was ever opened in these blocks');
  if (!files.db.exists) throw new SqliteImageError(names.meta, 'no database file existed in the image');
  for (const kind of ['db', 'journal'] as const) {
    if (files[kind].size > blockBytes[kind]) {
      throw new SqliteImageError(names.meta, `the ${kind} file's size, ${files[kind].size} bytes, does not fit its block ${JSON.stringify(names[kind])} of ${blockBytes[kind]}`);
    }
  }
  return files;
}

/** Gives the files their names: the journal, if any, before the database. */
async function commit(db: OutputFile, journal: OutputFile | undefined, overwrite: boolean): Promise<void> {
  if (overwrite) {
    // No moment with the old database beside the new journal, or the new database beside the old one.
    await rm(db.path, { force: true });
    await rm(journal?.path ?? `${db.path}-journal`, { force: true });
    if (journal !== undefined) await rename(journal.temp, journal.path);
    await rename(db.temp, db.path);
  } else {
    if (journal !== undefined) await journal.linkInPlace();
    try {
      await db.linkInPlace();
    } catch (error) {
      if (journal !== undefined) await rm(journal.path, { force: true });
      throw error;
    }
  }
  await syncDirectory(dirname(db.path));
}

/** A file written under a temporary name in its folder, then given its own. */
class OutputFile {
  readonly temp: string;
  private handle: FileHandle | undefined;

  constructor(readonly path: string) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  }

  async create(): Promise<void> {
    this.handle = await open(this.temp, 'wx');
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    await writeFully(this.handle as FileHandle, data, position);
  }

  /** Cuts the file to `size`, syncs and closes it. */
  async finish(size: number): Promise<void> {
    const handle = this.handle as FileHandle;
    await handle.truncate(size);
    await handle.sync();
    this.handle = undefined;
    await handle.close();
  }

  /** Takes the final name if it is free (a hard link refuses atomically), then drops the temporary one. */
  linkInPlace(): Promise<void> {
    return linkIntoPlace(this.temp, this.path, (path) => new FileExistsError(path));
  }

  /** Closes and removes the temporary file, if any. */
  async discard(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}

/**
 * Removes `dir` and its parents up to `created`, the first folder `mkdir`
 * made on the way, each only if empty: files another process put there stay.
 */
async function removeCreated(dir: string, created: string): Promise<void> {
  const top = resolve(created);
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === top || dirname(current) === current) return;
  }
}

