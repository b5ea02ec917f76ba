import { checkCapacity } from './checkCapacity';
import { ImageStore } from './ImageStore';
import type { PageRun, SnapshotHeader, Sink, SinkCallback, WriteSizeHint } from './Sink';

export interface MemorySinkOptions {
  /**
   * Writes accepted in flight. Writes complete synchronously, so this only
   * bounds how many runs one credit loop hands over.
   * @default 4
   */
  readonly capacity?: number;
}

/** Sink state, as a discriminated string. */
export type SinkState = 'idle' | 'open' | 'ended' | 'aborted';

/**
 * Keeps the image in memory, one `Uint8Array` per block. Writes complete
 * synchronously. A sink can take several snapshots in turn; it reuses its
 * image buffers when the geometry is unchanged.
 */
export class MemorySink implements Sink {
  readonly capacity: number;
  /**
   * Writes of up to 2 MiB: a write is one synchronous copy, and into fresh
   * memory (first touch) 2 MiB costs about 1–4 ms here (docs/LIMITS.md), so
   * a turn of the pipeline (`turnMs`, 4 ms, then the write that passes it)
   * stays under 10 ms; larger writes cost the pipeline less per page.
   */
  readonly writeSize: WriteSizeHint = { max: 2 * 1024 * 1024 };
  private readonly images = new ImageStore();
  private current: SinkState = 'idle';
  private header: SnapshotHeader | undefined;
  private runs = 0;

  constructor(options: MemorySinkOptions = {}) {
    this.capacity = checkCapacity(options.capacity ?? 4);
  }

  get state(): SinkState {
    return this.current;
  }

  /** The last snapshot's header. */
  get snapshotHeader(): SnapshotHeader | undefined {
    return this.header;
  }

  /** Writes received in the last snapshot. */
  get writes(): number {
    return this.runs;
  }

  /** The image of block `block`: memory as it was at t0 once the snapshot is done. */
  image(block: string): Uint8Array {
    return this.images.image(block);
  }

  start(header: SnapshotHeader): void {
    this.images.reset(header.blocks, header.pageSize);
    this.header = header;
    this.runs = 0;
    this.current = 'open';
  }

  write(run: PageRun, done: SinkCallback): void {
    this.images.store(run);
    this.runs++;
    done();
  }

  /** Stores the runs in order; one write, completed synchronously. */
  writeRuns(runs: readonly PageRun[], done: SinkCallback): void {
    for (const run of runs) this.images.store(run);
    this.runs++;
    done();
  }

  end(done: SinkCallback): void {
    this.current = 'ended';
    done();
  }

  abort(): void {
    this.current = 'aborted';
  }
}
