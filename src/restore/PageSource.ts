/**
 * The page-source contract: what a live restore needs from a snapshot (one
 * file, a chain, or anything else that holds pages in records). A source is
 * opened in two steps, so that writers can resume after the first: the
 * geometry (a header read), then the record table (a page index read, or a
 * scan of record headers). Records are read by number, several at once, each
 * checked before its pages are handed over.
 */
import type { Observable } from 'rxjs';
import type { RecordTable } from './RecordTable';

/** A snapshot's page geometry, as its header says. */
export interface SourceGeometry {
  readonly pageSize: number;
  readonly blocks: readonly { readonly name: string; readonly size: number }[];
}

/** Pages of one record, checked: `count` pages from global page `first`. */
export interface LoadedRun {
  /** The record (its number in the table) the pages come from. */
  readonly record: number;
  /** Global page (blocks one after another, as the memory lays them out). */
  readonly first: number;
  readonly count: number;
  /** `count × pageSize` bytes, or `null`: the pages are zero. */
  readonly data: Uint8Array | null;
}

export interface PageSource {
  /** Reads the header(s). Emits once and completes; errors with a `FormatError` for a bad header. */
  geometry(): Observable<SourceGeometry>;
  /**
   * After `geometry`: the table of records, in the order a background pass
   * reads them, and which record each page is loaded from. Emits once.
   */
  table(): Observable<RecordTable>;
  /**
   * Reads records `records` (numbers from the table, ascending), each
   * checked against its crc before any of its pages is emitted: one or more
   * emissions with the runs of those records (a record whole in one), then
   * completion. The runs' `data` may be
   * views of buffers the source reuses: valid until the emission returns. Adjacent records may be
   * read in one read. Errors with the `FormatError` `verify` would give.
   */
  read(records: readonly number[]): Observable<readonly LoadedRun[]>;
  /** Lets go of what the source holds open (files). Idempotent. */
  close(): void;
}
