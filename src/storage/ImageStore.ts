import type { BlockInfo } from '../memory/contract';
import type { PageRun } from './Sink';

/** Per-block images that page runs are copied into; shared by the in-memory sinks. */
export class ImageStore {
  private images = new Map<string, Uint8Array>();
  private layout: readonly BlockInfo[] = [];
  private pageSize = 0;

  /** Sizes the images for a snapshot, reusing buffers whose size still fits. */
  reset(blocks: readonly BlockInfo[], pageSize: number): void {
    const next = new Map<string, Uint8Array>();
    for (const b of blocks) {
      const old = this.images.get(b.name);
      next.set(b.name, old !== undefined && old.length === b.size ? old : new Uint8Array(b.size));
    }
    this.images = next;
    this.layout = blocks;
    this.pageSize = pageSize;
  }

  /** Copies a run's bytes into its block's image. */
  store(run: PageRun): void {
    if (run.data.length === 0) return;
    const block = this.layout[run.block];
    if (block === undefined) throw new RangeError(`Run names block index ${run.block}; the snapshot has ${this.layout.length}`);
    (this.images.get(block.name) as Uint8Array).set(run.data, run.page * this.pageSize);
  }

  image(block: string): Uint8Array {
    const image = this.images.get(block);
    if (image === undefined) throw new RangeError(`No image for block ${JSON.stringify(block)}`);
    return image;
  }
}
