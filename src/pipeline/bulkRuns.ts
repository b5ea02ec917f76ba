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
      // Step 1: skip what is no longer waiting for the bulk pass; claim the rest,
      // so neither a fault nor a later pull saves it again. Writer threads claim
      // pages too, so every claim is an atomic compare-and-exchange.
      if (!claim(states, p)) {
        p++;
        continue;
      }
      // Step 2: extend the run over unclaimed pages, up to the run size and the block's end.
      const limit = Math.min(end, p + maxRunPages);
      let q = p + 1;
      while (q < limit && claim(states, q)) q++;
      yield { block: b, page: p, count: q - p };
      p = q;
    }
  }
}

function claim(states: Uint8Array, page: number): boolean {
  return Atomics.compareExchange(states, page, PageState.Protected, PageState.Claimed) === PageState.Protected;
}
