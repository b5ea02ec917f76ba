import { expect } from 'vitest';
import type { SchedulerLike } from 'rxjs';
import { GeometryMemory, type ReleaseCallback, type WriteRecord } from '../../../src';

/** A write that hit a protected page: when it was made and when its page let it through. */
export interface BlockedWrite {
  readonly page: number;
  readonly at: number;
  /** NaN while it waits. */
  releasedAt: number;
}

/**
 * A `GeometryMemory` that notes, from the writers' side, every write that
 * blocked and when it was released, on `clock` (set it before the writers
 * start). What the pipeline reports about itself plays no part.
 */
export class WatchedMemory extends GeometryMemory {
  readonly blocked: BlockedWrite[] = [];
  clock: SchedulerLike | undefined;

  override touch(page: number, onReleased: ReleaseCallback): boolean {
    const clock = this.clock as SchedulerLike;
    const write: BlockedWrite = { page, at: clock.now(), releasedAt: NaN };
    const through = super.touch(page, () => {
      write.releasedAt = clock.now();
      onReleased();
    });
    if (!through) this.blocked.push(write);
    return through;
  }
}

/** A completed write as the storage saw it. */
export type StoredWrite = Pick<WriteRecord, 'block' | 'page' | 'count' | 'via' | 'doneAt'>;

/**
 * Every blocked writer was released, and never before its page was safe: a
 * page saved from memory (bulk or fault) only once the write that saved it
 * had completed; a page saved by a copy at its fault, after at most the copy's time `copyMs` (it was copied
 * first). Judged from the storage's own log and the writers' own record.
 * Returns how many blocked writes each rule checked.
 */
export function expectReleasedAfterSave(memory: WatchedMemory, log: readonly StoredWrite[], copyMs = 0): { fromMemory: number; copied: number } {
  const savedBy = new Map<number, StoredWrite>();
  for (const w of log) {
    const first = (memory.blocks[w.block]?.firstPage ?? NaN) + w.page;
    for (let p = first; p < first + w.count; p++) savedBy.set(p, w);
  }
  const checked = { fromMemory: 0, copied: 0 };
  const early: string[] = [];
  for (const write of memory.blocked) {
    const saved = savedBy.get(write.page);
    if (saved === undefined || Number.isNaN(write.releasedAt)) {
      early.push(`page ${write.page}: blocked at ${write.at}, released at ${write.releasedAt}, saved by ${saved?.via ?? 'nothing'}`);
    } else if (saved.via === 'copy') {
      checked.copied++;
      if (write.releasedAt < write.at || write.releasedAt - write.at > copyMs * (1 + 1e-9)) early.push(`page ${write.page}: copied, but its writer waited from ${write.at} to ${write.releasedAt}`);
    } else {
      checked.fromMemory++;
      if (write.releasedAt < saved.doneAt) {
        early.push(`page ${write.page}: released at ${write.releasedAt}, before its ${saved.via} write completed at ${saved.doneAt}`);
      }
    }
  }
  expect(early).toEqual([]);
  return checked;
}
