/** The writes of one test writer thread, regenerated from a seed. */
export interface LogShape {
  readonly seed: number;
  readonly writers: number;
  readonly pageSize: number;
  /** Pages of block `shared`: every writer writes its lane of random pages. */
  readonly sharedPages: number;
  /** Pages of block `own` per writer: multi-page writes inside its own part. */
  readonly ownPages: number;
}

export interface LoggedWrite {
  readonly block: 'shared' | 'own';
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * The memory's blocks for a shape: `shared` last, so that the bulk pass
 * reaches the pages every writer writes at the end and writers race for them.
 */
export function logBlocks(shape: LogShape): { name: string; size: number }[] {
  return [
    { name: 'own', size: shape.ownPages * shape.writers * shape.pageSize },
    { name: 'shared', size: shape.sharedPages * shape.pageSize },
  ];
}

/**
 * The writes of writer `id`, in order: three in four are 8 to 64 bytes in its
 * lane of a random page of `shared`; one in four spans up to three pages of
 * its part of `own`.
 */
export function writeLog(shape: LogShape, id: number): { next(): LoggedWrite } {
  let s = (shape.seed * 0x9e3779b1 + (id + 1) * 0x85ebca6b) >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const lane = Math.floor(shape.pageSize / shape.writers) & ~7;
  const buffer = new Uint8Array(3 * shape.pageSize);
  return {
    next(): LoggedWrite {
      const r = rand();
      let block: 'shared' | 'own';
      let offset: number;
      let length: number;
      if (r % 4 !== 0) {
        block = 'shared';
        length = 8 + (rand() % 57);
        offset = (rand() % shape.sharedPages) * shape.pageSize + id * lane + (rand() % (lane - length + 1));
      } else {
        block = 'own';
        const part = shape.ownPages * shape.pageSize;
        length = 1 + (rand() % Math.min(part, 3 * shape.pageSize));
        offset = id * part + (rand() % (part - length + 1));
      }
      const data = buffer.subarray(0, length);
      const fill = rand();
      for (let i = 0; i < length; i += 4) {
        const v = (fill + i * 2654435761) >>> 0;
        data[i] = v;
        if (i + 1 < length) data[i + 1] = v >>> 8;
        if (i + 2 < length) data[i + 2] = v >>> 16;
        if (i + 3 < length) data[i + 3] = v >>> 24;
      }
      return { block, offset, data };
    },
  };
}

/** Replays the first `counts[id]` writes of every writer onto zeroed blocks. */
export function replay(shape: LogShape, counts: readonly number[]): Map<string, Uint8Array> {
  const blocks = new Map(logBlocks(shape).map((b) => [b.name, new Uint8Array(b.size)] as const));
  counts.forEach((count, id) => {
    const log = writeLog(shape, id);
    for (let k = 0; k < count; k++) {
      const w = log.next();
      (blocks.get(w.block) as Uint8Array).set(w.data, w.offset);
    }
  });
  return blocks;
}

/** The logs replayed onto zeroed blocks, advanced cut by cut (counts only grow). */
export class LogReplay {
  readonly blocks: Map<string, Uint8Array>;
  private readonly logs: { next(): LoggedWrite }[];
  private readonly counts: number[];

  constructor(private readonly shape: LogShape) {
    this.blocks = new Map(logBlocks(shape).map((b) => [b.name, new Uint8Array(b.size)] as const));
    this.logs = Array.from({ length: shape.writers }, (_, id) => writeLog(shape, id));
    this.counts = new Array<number>(shape.writers).fill(0);
  }

  /** Replays each writer's log up to `counts[id]` writes. */
  advance(counts: readonly number[]): this {
    counts.forEach((count, id) => {
      const log = this.logs[id];
      if (log === undefined) throw new Error(`no writer ${id} in this shape`);
      const done = this.counts[id] as number;
      if (count < done) throw new Error(`writer ${id}: count ${count} is below ${done}, already replayed`);
      for (let k = done; k < count; k++) {
        const w = log.next();
        (this.blocks.get(w.block) as Uint8Array).set(w.data, w.offset);
      }
      this.counts[id] = count;
    });
    return this;
  }
}
