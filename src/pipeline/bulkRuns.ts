import { PageState, type BlockInfo } from '../memory/contract';
import { blockIndexOf } from '../memory/geometry';

/** Contiguous unsaved pages of one block, claimed for one bulk record. */
export interface BulkRun {
  /** Index of the block. */
  readonly block: number;
  /** Global index of the first page. */
  readonly page: number;
  readonly count: number;
}

/**
 * The bulk pass: one walk over every protected page, block by block. It is pulled one
 * run at a time, never pushed, so faults that arrive between pulls are served
 * first. Pages that a fault already claimed, queued or saved are skipped; the
 * pages of each run are claimed as it is pulled, up to `maxRunPages` and the
 * room the pull leaves (a write's free space), never across a block.
 */
export class BulkPass {
  private block = 0;
  private page: number;
  private done: boolean;

  constructor(
    private readonly blocks: readonly BlockInfo[],
    private readonly states: Uint8Array,
    private readonly maxRunPages: number,
  ) {
    this.page = blocks[0]?.firstPage ?? 0;
    this.done = blocks.length === 0;
  }

  /** Whether the walk has passed the last page. */
  get exhausted(): boolean {
    return this.done;
  }

  /** Claims and returns the next run of at most `room` pages (at least one), or `undefined` once every page is passed. */
  next(room: number): BulkRun | undefined {
    const states = this.states;
    while (!this.done) {
      const { firstPage, pages } = this.blocks[this.block] as BlockInfo;
      const end = firstPage + pages;
      let p = this.page;
      // Step 1: skip what is no longer waiting for the bulk pass (saved, claimed, queued,
      // or never protected: an incremental snapshot's clean pages), a native search at a
      // time; claim the rest, so neither a fault nor a later pull saves it again. Writer
      // threads claim pages too, so every claim is an atomic compare-and-exchange.
      for (;;) {
        p = states.indexOf(PageState.Protected, p);
        if (p === -1 || p >= end || claim(states, p)) break;
        p++;
      }
      if (p === -1) {
        this.done = true;
        return undefined;
      }
      if (p >= end) {
        // The next protected page is in a later block: straight to it.
        this.block = blockIndexOf(this.blocks, p);
        this.page = p;
        continue;
      }
      // Step 2: extend the run over unclaimed pages, up to the run size, the room and the block's end.
      const limit = Math.min(end, p + Math.max(1, Math.min(this.maxRunPages, room)));
      let q = p + 1;
      while (q < limit && claim(states, q)) q++;
      const block = this.block;
      this.page = q;
      if (q === end) this.nextBlock();
      return { block, page: p, count: q - p };
    }
    return undefined;
  }

  private nextBlock(): void {
    this.block++;
    if (this.block >= this.blocks.length) this.done = true;
    else this.page = (this.blocks[this.block] as BlockInfo).firstPage;
  }
}

function claim(states: Uint8Array, page: number): boolean {
  return Atomics.compareExchange(states, page, PageState.Protected, PageState.Claimed) === PageState.Protected;
}
