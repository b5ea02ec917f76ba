import { FormatError } from '../errors';
import type { BlockInfo } from '../memory/contract';
import type { SnapshotRecord } from './reader';

/** Checks that records hold every page of a snapshot exactly once: one byte per page. */
export class PageTracker {
  private readonly seen: Uint8Array;
  /** Distinct pages seen. */
  pages = 0;

  constructor(private readonly blocks: readonly BlockInfo[]) {
    const last = blocks[blocks.length - 1];
    this.seen = new Uint8Array(last === undefined ? 0 : last.firstPage + last.pages);
  }

  /** Marks the record's pages; a problem naming the record for the first page it repeats. */
  mark(record: SnapshotRecord): FormatError | undefined {
    const block = this.blocks[record.block] as BlockInfo;
    const first = block.firstPage + record.page;
    let repeated = -1;
    for (let p = first; p < first + record.count; p++) {
      if (this.seen[p] === 1) {
        if (repeated < 0) repeated = p - block.firstPage;
        continue;
      }
      this.seen[p] = 1;
      this.pages++;
    }
    if (repeated < 0) return undefined;
    return new FormatError(
      record.offset,
      `page ${repeated} of block ${JSON.stringify(block.name)} once`,
      'it again in this record; an earlier record holds it',
    );
  }

  /** A problem at `offset` naming the first page no record held, or `undefined` when none is missing. */
  missing(offset: number): FormatError | undefined {
    const total = this.seen.length - this.pages;
    if (total === 0) return undefined;
    const p = this.seen.indexOf(0);
    const block = this.blocks.find((b) => p >= b.firstPage && p < b.firstPage + b.pages) as BlockInfo;
    return new FormatError(
      offset,
      `every page in a record, page ${p - block.firstPage} of block ${JSON.stringify(block.name)} too`,
      `no record holding it (${total} of ${this.seen.length} pages missing)`,
    );
  }
}
