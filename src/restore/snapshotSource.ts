import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { defer, from, Observable } from 'rxjs';
import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import { ByteReader } from '../format/ByteReader';
import type { ByteSource } from '../format/ByteSource';
import { fileSource as handleSource } from '../format/ByteSource';
import { chainProblem } from '../format/chain';
import type { SnapshotFileHeader } from '../format/decodeHeader';
import { RECORD_TAG, Record, TRAILER_TAG, TrailerV1, VERSION_1, readU64 } from '../format/layout';
import { hex, hex32 } from '../format/problems';
import { readIndex } from '../format/randomAccess';
import { PageTracker } from '../format/PageTracker';
import { readSnapshot } from '../format/reader';
import { checkRecordFields, readRecord } from '../format/record';
import type { LoadedRun, PageSource, SourceGeometry } from './PageSource';
import { RecordTable } from './RecordTable';

/** Bytes read for a header: enough for most, small next to any snapshot. */
const HEADER_READ_BYTES = 4096;
/**
 * Reads up to this many bytes are made with a synchronous positional read:
 * a fault's record (256 KiB by default) is read in tens of microseconds from
 * the page cache, where an asynchronous read waits for a thread of the pool,
 * which the background pass's large reads keep busy.
 */
const SYNC_READ_BYTES = 512 * 1024;
/** Milliseconds the scan of record headers runs before it yields to the event loop (faults wait meanwhile). */
const SCAN_SLICE_MS = 1;

interface OpenFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly size: number;
  readonly header: SnapshotFileHeader;
}

/**
 * Snapshot files as a `PageSource`: one file, or a chain base first (checked
 * as `restore` checks it; a page comes from the newest link that holds it).
 * The record table comes from each file's page index (version 2: one read of
 * the trailer and the index), or, for a version 1 file, from one scan of its
 * record headers: one small positional read per record, in slices between
 * event-loop turns. Reads coalesce adjacent records of one file into one
 * read; each record is checked by the format's own record reader (fields,
 * crc32, zero map, codec) before its pages are handed over.
 */
export function snapshotSource(paths: readonly string[]): PageSource {
  let files: OpenFile[] = [];
  let closed = false;
  // Records by table number: their file and offset.
  const fileOf: number[] = [];
  const offsets: number[] = [];
  let table: RecordTable | undefined;
  // Read buffers, reused: a fresh large buffer costs its first touch (~10 ms per 4 MiB here).
  const free: Buffer[] = [];
  const acquire = (bytes: number): Buffer => {
    const i = free.findIndex((b) => b.length >= bytes);
    if (i >= 0) return (free.splice(i, 1)[0] as Buffer).subarray(0, bytes);
    return Buffer.allocUnsafeSlow(Math.max(bytes, 64 * 1024)).subarray(0, bytes);
  };
  const release = (buffers: readonly Buffer[]): void => {
    for (const b of buffers) free.push(Buffer.from(b.buffer, b.byteOffset, b.buffer.byteLength - b.byteOffset));
    // Keep the largest few.
    free.sort((a, b) => b.length - a.length).splice(8);
  };

  const openAll = async (): Promise<SourceGeometry> => {
    if (paths.length === 0) throw new FormatError(0, 'at least one snapshot file', 'none');
    for (const path of paths) {
      const handle = await open(path, 'r');
      if (closed) {
        await handle.close();
        break;
      }
      try {
        const { size } = await handle.stat();
        const head = await readSnapshot(handle, path, size, { chunkBytes: HEADER_READ_BYTES });
        files.push({ path, handle, size, header: head.header });
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    const first = (files[0] as OpenFile).header;
    // One chain, base first, with the base's geometry (ChainError otherwise).
    const problem = chainProblem(files.map((f) => ({ path: f.path, header: f.header })));
    if (problem !== undefined) throw problem;
    return { pageSize: first.pageSize, blocks: first.blocks.map(({ name, size }) => ({ name, size })) };
  };

  const scanAll = async (): Promise<RecordTable> => {
    const first = (files[0] as OpenFile).header;
    const blocks = first.blocks;
    const last = blocks[blocks.length - 1] as BlockInfo;
    const t = new RecordTable(last.firstPage + last.pages);
    const fixed = Buffer.alloc(Math.max(Record.fixedSize, TrailerV1.size));
    for (let f = 0; f < files.length; f++) {
      const file = files[f] as OpenFile;
      // Each page once per file, and every page in a full one, as `restore` and `verify` check it:
      // a quick look in the table as records are added; on a problem, the format's own
      // `PageTracker` goes over the file's records again and names it.
      const fileStart = t.length;
      const seen: [number, number, number, number][] = [];
      let repeated = false;
      const mark = (offset: number, block: number, page: number, count: number): void => {
        seen.push([offset, block, page, count]);
        if (!repeated && t.holdsFrom((blocks[block] as BlockInfo).firstPage + page, count, fileStart)) repeated = true;
      };
      const check = (trailerOffset: number): void => {
        if (!repeated && (file.header.kind !== 'full' || t.firstMissing() < 0)) return;
        const tracker = new PageTracker(file.header.blocks, file.header.kind);
        for (const [offset, block, page, count] of seen) {
          const repeat = tracker.mark({ offset, block, page, count });
          if (repeat !== undefined) throw repeat;
        }
        const missing = tracker.missing(trailerOffset);
        if (missing !== undefined) throw missing;
      };
      if (file.header.version !== VERSION_1) {
        // Version 2: the page index, in stream order; a record runs to the next one (the last, to the index).
        const index = await readIndex(handleSource(file.handle, file.size));
        const entries = index.entries;
        const end = index.trailer.indexOffset ?? file.size;
        for (let i = 0; i < entries.length; i++) {
          const at = entries.offset(i);
          const next = i + 1 < entries.length ? entries.offset(i + 1) : end;
          mark(at, entries.block(i), entries.firstPage(i), entries.count(i));
          const r = t.add((blocks[entries.block(i)] as BlockInfo).firstPage + entries.firstPage(i), entries.count(i), next - at);
          fileOf[r] = f;
          offsets[r] = at;
        }
        check(index.trailer.offset);
        continue;
      }
      const fd = file.handle.fd;
      let at = file.header.byteLength;
      let records = 0;
      let pages = 0;
      let slice = performance.now();
      for (let n = 0; ; n++) {
        if ((n & 63) === 63 && performance.now() - slice >= SCAN_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
        if (closed) throw new FormatError(at, 'an open file', 'a closed source');
        const got = readSync(fd, fixed, 0, Record.fixedSize, at);
        if (got < 4) throw new FormatError(at, "a record (tag 'PAGE') or the trailer (tag 'TRLR')", 'the end of the file');
        const tag = fixed.readUInt32LE(0);
        if (tag === TRAILER_TAG) {
          checkTrailer(fd, fixed, at, file, records, pages);
          check(at);
          break;
        }
        if (tag !== RECORD_TAG) throw new FormatError(at, "a record (tag 'PAGE') or the trailer (tag 'TRLR')", `the bytes ${hex(fixed.subarray(0, 4))}`);
        if (got < Record.fixedSize) throw new FormatError(at, `the fixed part of a record: ${Record.fixedSize} bytes, to byte ${at + Record.fixedSize}`, `the end of the file at byte ${file.size}`);
        const { blockIndex: block, page, count, length } = checkRecordFields(fixed, at, file.header);
        if (at + length > file.size) throw new FormatError(at, `a record: ${length} bytes, to byte ${at + length}`, `the end of the file at byte ${file.size}`);
        mark(at, block, page, count);
        const r = t.add((blocks[block] as BlockInfo).firstPage + page, count, length);
        fileOf[r] = f;
        offsets[r] = at;
        records++;
        pages += count;
        at += length;
      }
    }
    table = t;
    return t;
  };

  const readRuns = async (records: readonly number[], buffers: Buffer[], emit: (runs: readonly LoadedRun[]) => boolean): Promise<void> => {
    const t = table as RecordTable;
    // Step 1: adjacent records of one file, one read each, all at once.
    const groups: number[][] = [];
    for (const r of records) {
      const g = groups[groups.length - 1];
      const prev = g?.[g.length - 1];
      if (g !== undefined && prev !== undefined && fileOf[prev] === fileOf[r] && (offsets[prev] as number) + t.byteLength(prev) === offsets[r]) g.push(r);
      else groups.push([r]);
    }
    const read = await Promise.all(
      groups.map(async (g) => {
        const file = files[fileOf[g[0] as number] as number] as OpenFile;
        const start = offsets[g[0] as number] as number;
        const lastR = g[g.length - 1] as number;
        const bytes = acquire((offsets[lastR] as number) + t.byteLength(lastR) - start);
        buffers.push(bytes);
        const small = bytes.length <= SYNC_READ_BYTES;
        for (let done = 0; done < bytes.length; ) {
          const bytesRead = small ? readSync(file.handle.fd, bytes, done, bytes.length - done, start + done) : (await file.handle.read(bytes, done, bytes.length - done, start + done)).bytesRead;
          if (bytesRead === 0) throw new FormatError(start + done, `a record: to byte ${start + bytes.length}`, `the end of the file at byte ${start + done}`);
          done += bytesRead;
        }
        return { g, file, start, bytes };
      }),
    );
    // Step 2: each record checked by the format's reader, cut into runs and handed over, one
    // record per turn of the event loop: checking 4 MiB at once would hold a fault up for milliseconds.
    // The record reader's buffer: one per read (reads run at once), reused from one record to the next.
    const scratch = acquire(Math.max(...records.map((r) => t.byteLength(r))));
    buffers.push(scratch);
    let first = true;
    for (const { g, file, start, bytes } of read) {
      const source = bufferSource(bytes, start, file.size);
      for (const r of g) {
        if (!first) await new Promise((resolve) => setImmediate(resolve));
        first = false;
        const at = offsets[r] as number;
        const record = await readRecord(new ByteReader(source, scratch.subarray(0, t.byteLength(r)), at), at, file.header);
        const blockFirst = (file.header.blocks[record.block] as BlockInfo).firstPage;
        const runs: LoadedRun[] = record.spans().map((span) => ({ record: r, first: blockFirst + span.page, count: span.count, data: span.data }));
        if (!emit(runs)) return;
      }
    }
  };

  return {
    geometry: () => defer(() => from(openAll())),
    table: () => defer(() => from(scanAll())),
    // The runs are views of reused buffers: valid until the emission returns.
    read: (records): Observable<readonly LoadedRun[]> =>
      new Observable<readonly LoadedRun[]>((subscriber) => {
        const buffers: Buffer[] = [];
        readRuns(records, buffers, (runs) => {
          if (!subscriber.closed) subscriber.next(runs);
          return !subscriber.closed;
        }).then(
          () => {
            release(buffers);
            subscriber.complete();
          },
          (error: unknown) => {
            release(buffers);
            subscriber.error(error);
          },
        );
      }),
    close: () => {
      if (closed) return;
      closed = true;
      const open = files;
      files = [];
      // A handle closes once the reads in flight on it are done.
      for (const f of open) void f.handle.close().catch(() => undefined);
    },
  };
}

/** The trailer's crc and counts against the records scanned (its stream checksum needs every record: left to `verify`). */
function checkTrailer(fd: number, into: Buffer, at: number, file: OpenFile, records: number, pages: number): void {
  const Trailer = TrailerV1;
  const got = readSync(fd, into, 0, Trailer.size, at);
  if (got < Trailer.size) throw new FormatError(at, `the trailer: ${Trailer.size} bytes, to byte ${at + Trailer.size}`, `the end of the file at byte ${at + got}`);
  const stored = into.readUInt32LE(Trailer.crc);
  const computed = crc32(into.subarray(0, Trailer.crc));
  if (stored !== computed) throw new FormatError(at, `a trailer whose crc32 (stored at byte ${at + Trailer.crc}) is 0x${hex32(stored)}`, `crc32 0x${hex32(computed)}`);
  if (readU64(into, Trailer.records) !== records) throw new FormatError(at + Trailer.records, `a record count of ${records}, as read`, String(readU64(into, Trailer.records)));
  if (readU64(into, Trailer.pages) !== pages) throw new FormatError(at + Trailer.pages, `a page count of ${pages}, as read`, String(readU64(into, Trailer.pages)));
  if (at + Trailer.size !== file.size) throw new FormatError(at + Trailer.size, 'the end of the file after the trailer', `more bytes (the file goes on past byte ${at + Trailer.size})`);
}

/** `bytes`, the file's bytes from `start`, as a `ByteSource` of a file of `size` bytes (reads outside them find nothing). */
function bufferSource(bytes: Buffer, start: number, size: number): ByteSource {
  return {
    size,
    read: (into, offset, length, position) => {
      const from = position - start;
      if (from < 0 || from >= bytes.length) return Promise.resolve(0);
      const n = Math.min(length, bytes.length - from);
      into.set(bytes.subarray(from, from + n), offset);
      return Promise.resolve(n);
    },
  };
}
