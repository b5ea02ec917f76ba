import type { PageRun, SnapshotHeader, Sink, SinkCallback } from '../../src';

/**
 * A sink that keeps the image of a whole chain: a full snapshot replaces it,
 * an incremental one is laid over it, and only when it ends (a failed or
 * cancelled one leaves the image as it was). Every snapshot it takes must
 * continue the chain it holds: a full one, or the child of the last one
 * that ended here.
 */
export class ChainSink implements Sink {
  readonly capacity = 4;
  private readonly images = new Map<string, Uint8Array>();
  private staged: { block: string; at: number; data: Uint8Array }[] = [];
  private header: SnapshotHeader | undefined;
  /** The id of the last snapshot that ended here. */
  last: string | undefined;
  /** Pages the last snapshot that ended here held. */
  lastPages = 0;
  private pages = 0;

  start(header: SnapshotHeader): void {
    const identity = header.identity;
    if (identity === undefined) throw new Error('a snapshot without an identity');
    if (identity.parent !== undefined && identity.parent !== this.last) {
      throw new Error(`an incremental snapshot of parent ${identity.parent}, after ${String(this.last)}`);
    }
    this.header = header;
    this.staged = [];
    this.pages = 0;
  }

  write(run: PageRun, done: SinkCallback): void {
    this.stage(run);
    done();
  }

  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    for (const run of runs) this.stage(run);
    done();
  }

  end(done: SinkCallback): void {
    const header = this.header as SnapshotHeader;
    if (header.identity?.parent === undefined) {
      this.images.clear();
      for (const b of header.blocks) this.images.set(b.name, new Uint8Array(b.size));
    }
    for (const s of this.staged) (this.images.get(s.block) as Uint8Array).set(s.data, s.at);
    this.last = header.identity?.id;
    this.lastPages = this.pages;
    this.staged = [];
    done();
  }

  abort(): void {
    this.staged = [];
  }

  /** The chain's image of block `name`, as of the last snapshot that ended here. */
  image(name: string): Uint8Array {
    const image = this.images.get(name);
    if (image === undefined) throw new RangeError(`No image of block ${JSON.stringify(name)}`);
    return image;
  }

  private stage(run: PageRun): void {
    const header = this.header as SnapshotHeader;
    const block = header.blocks[run.block];
    if (block === undefined) throw new RangeError(`no block ${run.block}`);
    this.staged.push({ block: block.name, at: run.page * header.pageSize, data: run.data.slice() });
    this.pages += run.count;
  }
}
