import { OutOfBlockError, SnapshotInProgressError } from '../errors';
import {
  PageState,
  type BlockInfo,
  type FaultHandler,
  type ProtectionSession,
  type SnapshotMemory,
} from './contract';
import { DEFAULT_PAGE_SIZE, blockIndexOf, checkPageSize, layoutBlocks, type BlockSpec } from './geometry';

export interface PagedMemoryOptions {
  /**
   * Bytes per page: a power of two from 512 B to 2 MiB.
   * @default 4096
   */
  readonly pageSize?: number;
  /** The named blocks, each a positive multiple of the page size. */
  readonly blocks: readonly BlockSpec[];
}

/** A block of a `PagedMemory`: its layout and its bytes. */
export interface MemoryBlock extends BlockInfo {
  /** The block's bytes, on a SharedArrayBuffer. */
  readonly bytes: Uint8Array;
}

/** A write that waits: for protected pages to be unprotected, or behind earlier waiting writes. */
interface PendingWrite {
  /** Global pages it touches, `first` to `last`. */
  readonly first: number;
  readonly last: number;
  readonly target: Uint8Array;
  readonly at: number;
  readonly data: Uint8Array;
  readonly resolve: () => void;
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Named blocks of paged memory on SharedArrayBuffers, with a per-page
 * protection map (one byte a page, also shared) and an in-process write
 * barrier.
 *
 * @example
 * const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 64 << 20 }] });
 * await memory.write('ram', 0, bytes);
 */
export class PagedMemory implements SnapshotMemory {
  readonly pageSize: number;
  readonly blocks: readonly MemoryBlock[];
  readonly pageCount: number;
  /** Page states, indexed by global page (see `PageState`). */
  readonly states: Uint8Array;

  private readonly pageShift: number;
  private readonly byName = new Map<string, MemoryBlock>();
  /**
   * For each page that a waiting write touches, those writes in arrival
   * order. A write is applied when every page it touches is writable and it
   * heads each of their lines, so writes to a page land in arrival order.
   */
  private readonly waiters = new Map<number, PendingWrite[]>();
  private session: Session | null = null;

  constructor(options: PagedMemoryOptions) {
    this.pageSize = checkPageSize(options?.pageSize ?? DEFAULT_PAGE_SIZE);
    this.pageShift = Math.log2(this.pageSize);
    this.blocks = layoutBlocks(options?.blocks, this.pageSize).map((b) => ({
      ...b,
      bytes: new Uint8Array(new SharedArrayBuffer(b.size)),
    }));
    for (const b of this.blocks) this.byName.set(b.name, b);
    const last = this.blocks[this.blocks.length - 1] as MemoryBlock;
    this.pageCount = last.firstPage + last.pages;
    this.states = new Uint8Array(new SharedArrayBuffer(this.pageCount));
  }

  /** The block named `name`. @throws OutOfBlockError when there is none. */
  block(name: string): MemoryBlock {
    const b = this.byName.get(name);
    if (b === undefined) throw new OutOfBlockError(name, 0, 0, -1);
    return b;
  }

  /** A copy of `length` bytes from `offset` in block `block`. Reads are never blocked. */
  read(block: string, offset: number, length: number): Uint8Array {
    const b = this.checked(block, offset, length);
    return b.bytes.slice(offset, offset + length);
  }

  /**
   * The write barrier. With none of the touched pages protected, the bytes are
   * applied before `write` returns. Otherwise the write faults once per
   * protected page and is applied, all at once, when every one of them has been
   * unprotected; the promise settles then. Writes to a page land in the order
   * they were made: a write that touches a page an earlier write still waits
   * on waits behind it. `data` may be reused on return.
   * @throws OutOfBlockError, synchronously, when the range leaves the block.
   */
  write(block: string, offset: number, data: Uint8Array): Promise<void> {
    const b = this.checked(block, offset, data.length);
    if (data.length === 0) return DONE;
    const states = this.states;
    const first = b.firstPage + (offset >>> this.pageShift);
    const last = b.firstPage + ((offset + data.length - 1) >>> this.pageShift);

    // Fast path: one plain load per page touched, while no write waits anywhere.
    let blocked = false;
    if (this.waiters.size === 0) {
      for (let p = first; p <= last; p++) if (states[p] !== PageState.Writable) blocked = true;
    } else {
      for (let p = first; p <= last; p++) if (states[p] !== PageState.Writable || this.waiters.has(p)) blocked = true;
    }
    if (!blocked) {
      b.bytes.set(data, offset);
      return DONE;
    }

    // Slow path: join the line of every page touched, then raise a fault per
    // protected page. Register first, because serving a fault may unprotect
    // pages synchronously.
    return new Promise<void>((resolve) => {
      const pendingWrite: PendingWrite = { first, last, target: b.bytes, at: offset, data: data.slice(), resolve };
      for (let p = first; p <= last; p++) {
        const line = this.waiters.get(p);
        if (line === undefined) this.waiters.set(p, [pendingWrite]);
        else line.push(pendingWrite);
      }
      const session = this.session;
      for (let p = first; p <= last; p++) {
        if (states[p] !== PageState.Writable) session?.onFault(p);
      }
      // Behind earlier writes on writable pages only: it goes when they do, or now if they went.
      this.applyReady([pendingWrite]);
    });
  }

  /**
   * Applies, in order, every write of `candidates` (and of the lines they
   * free up) whose pages are all writable and whose lines it heads.
   */
  private applyReady(candidates: PendingWrite[]): void {
    const states = this.states;
    for (let w = candidates.pop(); w !== undefined; w = candidates.pop()) {
      let ready = true;
      for (let p = w.first; p <= w.last && ready; p++) {
        ready = states[p] === PageState.Writable && this.waiters.get(p)?.[0] === w;
      }
      if (!ready) continue;
      w.target.set(w.data, w.at);
      w.resolve();
      // Step out of every line; whoever heads one now may be ready.
      for (let p = w.first; p <= w.last; p++) {
        const line = this.waiters.get(p) as PendingWrite[];
        line.shift();
        const next = line[0];
        if (next === undefined) this.waiters.delete(p);
        else candidates.push(next);
      }
    }
  }

  /** Whether page `page` of block `block` is write-protected. */
  isProtected(block: string, page: number): boolean {
    const b = this.block(block);
    if (!Number.isInteger(page) || page < 0 || page >= b.pages) {
      throw new OutOfBlockError(block, page * this.pageSize, this.pageSize, b.size);
    }
    return this.states[b.firstPage + page] !== PageState.Writable;
  }

  /** Whether a snapshot holds this memory now. */
  get snapshotting(): boolean {
    return this.session !== null;
  }

  protect(onFault: FaultHandler): ProtectionSession {
    if (this.session !== null) throw new SnapshotInProgressError();
    const session = new Session(this, onFault);
    this.session = session;
    this.states.fill(PageState.Protected);
    return session;
  }

  /** @internal Makes pages writable and applies writes that no longer wait. */
  unprotectPages(first: number, count: number): void {
    const end = first + count;
    this.states.fill(PageState.Writable, first, end);
    if (this.waiters.size === 0) return;
    const candidates: PendingWrite[] = [];
    for (let p = first; p < end; p++) {
      const head = this.waiters.get(p)?.[0];
      if (head !== undefined) candidates.push(head);
    }
    this.applyReady(candidates.reverse());
  }

  /** @internal */
  endSession(session: Session): void {
    if (this.session !== session) return;
    this.unprotectPages(0, this.pageCount);
    this.session = null;
  }

  /** @internal */
  viewPages(first: number, count: number): Uint8Array {
    const b = this.blocks[blockIndexOf(this.blocks, first)] as MemoryBlock;
    const at = (first - b.firstPage) << this.pageShift;
    return b.bytes.subarray(at, at + count * this.pageSize);
  }

  private checked(block: string, offset: number, length: number): MemoryBlock {
    const b = this.byName.get(block);
    if (b === undefined) throw new OutOfBlockError(block, offset, length, -1);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > b.size) {
      throw new OutOfBlockError(block, offset, length, b.size);
    }
    return b;
  }
}

/** The protection session `PagedMemory.protect` hands out. */
class Session implements ProtectionSession {
  readonly states: Uint8Array;
  private closed = false;

  constructor(
    private readonly memory: PagedMemory,
    readonly onFault: FaultHandler,
  ) {
    this.states = memory.states;
  }

  view(first: number, count: number): Uint8Array {
    return this.memory.viewPages(first, count);
  }

  copy(page: number, into: Uint8Array): void {
    into.set(this.memory.viewPages(page, 1));
  }

  unprotect(first: number, count: number): void {
    if (!this.closed) this.memory.unprotectPages(first, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.memory.endSession(this);
  }
}
