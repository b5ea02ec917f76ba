import { PageState, type BlockInfo } from '../memory/contract';

/** Contiguous unsaved pages of one block, claimed for one bulk write. */
export interface BulkRun {
  /** Index of the block. */
  readonly block: number;
  /** Global index of the first page. */
  readonly page: number;
  readonly count: number;
}

/**
 * The bulk pass: one walk over every page, block by block. It is pulled one
 * run per credit, never pushed, so faults that arrive between pulls are served
 * first. Pages that a fault already claimed, queued or saved are skipped; the
 * pages of each run are claimed as it is pulled.
 */
export function* bulkRuns(
  blocks: readonly BlockInfo[],
  states: Uint8Array,
  maxRunPages: number,
): Generator<BulkRun, void, void> {
  for (let b = 0; b < blocks.length; b++) {
    const { firstPage, pages } = blocks[b] as BlockInfo;
    const end = firstPage + pages;
    let p = firstPage;
    while (p < end) {
      // Step 1: skip what is no longer waiting for the bulk pass.
      if (states[p] !== PageState.Protected) {
        p++;
        continue;
      }
      // Step 2: extend the run over unclaimed pages, up to the run size and the block's end.
      const limit = Math.min(end, p + maxRunPages);
      let q = p + 1;
      while (q < limit && states[q] === PageState.Protected) q++;
      // Step 3: claim the run, so neither a fault nor a later pull saves it again.
      states.fill(PageState.Claimed, p, q);
      yield { block: b, page: p, count: q - p };
      p = q;
    }
  }
}
