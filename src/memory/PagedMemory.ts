import { threadId } from 'node:worker_threads';
import { LoadAbortedError, OptionError, OutOfBlockError, PageNotLoadedError, RestoreInProgressError, SnapshotInProgressError } from '../errors';
import type { PageBufferPool } from '../pool/contract';
import { SharedPagePool } from '../pool/SharedPagePool';
import { RingEntry, ringBytes, type RingEntryKind } from '../threads/FaultRing';
import type { MemoryHandle } from '../threads/handle';
import { CONTROL_WORDS, Control, LoadWord, SESSIONS } from '../threads/layout';
import { confirmCut, safePoint, type SafePoint } from '../threads/safePoint';
import { SharedState } from '../threads/SharedState';
import type { SaverStepHook } from '../threads/steps';
import { WRITE_DATA } from '../threads/attachMemory';
import type { SnapshotIdentity } from '../storage/Sink';
import {
  PageState,
  blocksWrites,
  isProtected,
  type BlockInfo,
  type FaultHandler,
  type LoadSession,
  type ProtectOptions,
  type ProtectionSession,
  type SnapshotMemory,
} from './contract';
import { fillStates } from './fillStates';
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

/** How `share()` sizes what it adds for writer threads. */
export interface ShareOptions {
  /**
   * Bytes of the page-buffer pool shared with writer threads: the largest
   * `poolPages × pageSize` a snapshot of this memory can use. Untouched slots
   * cost address space only.
   * @default 16 MiB
   */
  readonly poolBytes?: number;
  /**
   * Entries of the fault ring from writers to the saver: a power of two. A
   * full ring makes a faulting writer wait; it never drops a fault.
   * @default 4096
   */
  readonly ringEntries?: number;
  /**
   * How long t0 waits for a writer thread inside a write before declaring it
   * gone (a thread terminated mid-write never finishes its write).
   * @default 1000
   */
  readonly safePointTimeoutMs?: number;
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
  readonly reject: (error: Error) => void;
}

/** A `readAsync` that waits for pages a live restore has not loaded yet. */
interface PendingRead {
  readonly last: number;
  readonly block: MemoryBlock;
  readonly offset: number;
  readonly length: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** How a live restore ended with pages absent. */
interface LoadEnd {
  readonly reason: 'cancelled' | 'failed';
  readonly cause?: unknown;
}

const DONE: Promise<void> = Promise.resolve();

/** The largest block: 4 GiB. */
const MAX_BLOCK_BYTES = 2 ** 32;

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
  /** The open live restore, exclusive with `session`. */
  private load: Loader | null = null;
  /** Set when a live restore ended with pages absent: they fail every access. */
  private loadEnd: LoadEnd | undefined;
  /** `readAsync` calls waiting, by the first absent page each waits on. */
  private readonly readers = new Map<number, PendingRead[]>();
  /** Set by `share()`: what writer threads attach to. */
  private shared: {
    readonly handle: MemoryHandle;
    readonly state: SharedState;
    readonly timeoutMs: number;
    readonly options: Required<ShareOptions>;
  } | null = null;
  private sessions = 0;
  private onSafePointStep: SaverStepHook | undefined;
  /** `restore` writes past the barrier (`holdForRestore`). */
  private restoring = false;
  /** The last committed snapshot: what an incremental one holds the changes since. */
  private committed: SnapshotIdentity | undefined;
  /** One bit per page: the pages the open session protected at t0 (reused from one session to the next). */
  private inSession: Uint8Array | undefined;

  constructor(options: PagedMemoryOptions) {
    this.pageSize = checkPageSize(options?.pageSize ?? DEFAULT_PAGE_SIZE);
    this.pageShift = Math.log2(this.pageSize);
    this.blocks = layoutBlocks(options?.blocks, this.pageSize).map((b, i) => {
      // Offsets go through 32-bit shifts in the write barriers.
      if (b.size > MAX_BLOCK_BYTES) throw new OptionError(`blocks[${i}].size`, `at most ${MAX_BLOCK_BYTES} bytes (4 GiB) for a PagedMemory`, b.size);
      return { ...b, bytes: new Uint8Array(new SharedArrayBuffer(b.size)) };
    });
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

  /**
   * A copy of `length` bytes from `offset` in block `block`. Reads are never
   * blocked: a page a live restore has not loaded yet throws instead.
   * @throws OutOfBlockError when the range leaves the block.
   * @throws PageNotLoadedError for a page a live restore has not loaded yet (`readAsync` waits for it).
   * @throws LoadAbortedError for a page a cancelled or failed live restore left unloaded.
   */
  read(block: string, offset: number, length: number): Uint8Array {
    const b = this.checked(block, offset, length);
    if (length !== 0) {
      const absent = this.firstAbsent(b, offset, length);
      if (absent >= 0) throw this.load !== null ? new PageNotLoadedError(b.name, this.offsetIn(b, absent)) : this.aborted(b, absent);
    }
    return b.bytes.slice(offset, offset + length);
  }

  /**
   * `read` that waits for pages a live restore has not loaded yet (they are
   * loaded ahead of its background pass). Without a live restore it resolves
   * at once, as `read`.
   * @throws OutOfBlockError, synchronously, when the range leaves the block.
   * Rejects with a LoadAbortedError when the live restore ends without loading a page it waits on.
   */
  readAsync(block: string, offset: number, length: number): Promise<Uint8Array> {
    const b = this.checked(block, offset, length);
    const absent = length === 0 ? -1 : this.firstAbsent(b, offset, length);
    if (absent < 0) return Promise.resolve(b.bytes.slice(offset, offset + length));
    const load = this.load;
    if (load === null) return Promise.reject(this.aborted(b, absent));
    return new Promise<Uint8Array>((resolve, reject) => {
      const last = b.firstPage + ((offset + length - 1) >>> this.pageShift);
      this.waitRead(absent, { last, block: b, offset, length, resolve, reject });
      // Register first: serving a fault may load pages synchronously.
      for (let p = absent; p <= last; p++) if (this.states[p] === PageState.Absent) load.onFault(p);
    });
  }

  /** The first absent page under `length` bytes from `offset` of `b`, or -1: one plain load per page. */
  private firstAbsent(b: MemoryBlock, offset: number, length: number): number {
    return this.firstAbsentPage(b.firstPage + (offset >>> this.pageShift), b.firstPage + ((offset + length - 1) >>> this.pageShift));
  }

  private waitRead(page: number, read: PendingRead): void {
    const line = this.readers.get(page);
    if (line === undefined) this.readers.set(page, [read]);
    else line.push(read);
  }

  /** Where global page `page` of block `b` starts in it. */
  private offsetIn(b: BlockInfo, page: number): number {
    return (page - b.firstPage) * this.pageSize;
  }

  /** The error for absent page `page` of `b` once the live restore has ended. */
  private aborted(b: BlockInfo, page: number): LoadAbortedError {
    const end = this.loadEnd ?? { reason: 'cancelled' };
    return new LoadAbortedError(end.reason, b.name, this.offsetIn(b, page), end.cause);
  }

  /**
   * The write barrier. With none of the touched pages protected, the bytes are
   * applied before `write` returns. Otherwise the write faults once per
   * protected page and is applied, all at once, when every one of them has been
   * unprotected; the promise settles then. Writes to a page land in the order
   * they were made: a write that touches a page an earlier write still waits
   * on waits behind it. A page a live restore has not loaded yet is waited
   * for the same way (it faults to the load). `data` may be reused on return.
   * @throws OptionError, synchronously, when `data` is not a `Uint8Array` (a `Buffer` is one).
   * @throws OutOfBlockError, synchronously, when the range leaves the block.
   * The promise rejects with LoadAbortedError when the live restore ends without loading a page it waits on.
   */
  write(block: string, offset: number, data: Uint8Array): Promise<void> {
    if (!(data instanceof Uint8Array)) throw new OptionError('data', WRITE_DATA, data);
    const b = this.checked(block, offset, data.length);
    if (data.length === 0) return DONE;
    const states = this.states;
    const first = b.firstPage + (offset >>> this.pageShift);
    const last = b.firstPage + ((offset + data.length - 1) >>> this.pageShift);

    // Fast path: one plain load per page touched, while no write waits anywhere. A clean
    // page becomes written (its first write since the last committed snapshot).
    let blocked = false;
    for (let p = first; p <= last; p++) {
      const state = states[p];
      if (state === PageState.Clean) states[p] = PageState.Writable;
      else if (state !== PageState.Writable) blocked = true;
    }
    if (!blocked && this.waiters.size !== 0) {
      for (let p = first; p <= last; p++) if (this.waiters.has(p)) blocked = true;
    }
    if (!blocked) {
      b.bytes.set(data, offset);
      return DONE;
    }

    // A page a cancelled or failed live restore left unloaded never comes.
    if (this.load === null && this.loadEnd !== undefined) {
      const absent = this.firstAbsent(b, offset, data.length);
      if (absent >= 0) return Promise.reject(this.aborted(b, absent));
    }

    // Slow path: join the line of every page touched, then raise a fault per
    // protected or absent page. Register first, because serving a fault may
    // unprotect or load pages synchronously.
    return new Promise<void>((resolve, reject) => {
      const pendingWrite: PendingWrite = { first, last, target: b.bytes, at: offset, data: data.slice(), resolve, reject };
      for (let p = first; p <= last; p++) {
        const line = this.waiters.get(p);
        if (line === undefined) this.waiters.set(p, [pendingWrite]);
        else line.push(pendingWrite);
      }
      const onFault = this.session?.onFault ?? this.load?.onFault;
      for (let p = first; p <= last; p++) {
        if (blocksWrites(states[p] as number)) onFault?.(p);
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
        ready = !blocksWrites(states[p] as number) && this.waiters.get(p)?.[0] === w;
      }
      if (!ready) continue;
      states.fill(PageState.Writable, w.first, w.last + 1);
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
    return isProtected(this.states[b.firstPage + page] as number);
  }

  /** Whether a snapshot holds this memory now. */
  get snapshotting(): boolean {
    return this.session !== null;
  }

  /**
   * Shares the memory with writer threads: returns a handle to pass to a
   * worker (`workerData`, `postMessage`), where `attachMemory(handle)` gives a
   * synchronous writer. The first call sets up the shared control block, the
   * fault ring and the pool; later calls return the same handle (options
   * given again must be the same).
   * @throws SnapshotInProgressError when first called while a snapshot runs.
   * @throws OptionError naming an option out of range, or one that differs from the first call's.
   */
  share(options: ShareOptions = {}): MemoryHandle {
    if (this.shared !== null) {
      for (const key of ['poolBytes', 'ringEntries', 'safePointTimeoutMs'] as const) {
        const given = options[key];
        if (given !== undefined && given !== this.shared.options[key]) {
          throw new OptionError(key, `${this.shared.options[key]}, as when the memory was first shared (share() options apply to the first call)`, given);
        }
      }
      return this.shared.handle;
    }
    if (this.session !== null) throw new SnapshotInProgressError();
    if (this.load !== null) throw new RestoreInProgressError();
    if (this.restoring) throw new RestoreInProgressError('eager');
    const poolBytes = options.poolBytes ?? 16 * 2 ** 20;
    if (!Number.isSafeInteger(poolBytes) || poolBytes < 0) throw new OptionError('poolBytes', 'an integer number of bytes from 0 up', poolBytes);
    const ringEntries = options.ringEntries ?? 4096;
    if (!Number.isSafeInteger(ringEntries) || ringEntries < 1 || (ringEntries & (ringEntries - 1)) !== 0 || ringEntries > 2 ** 24) {
      throw new OptionError('ringEntries', 'a power of two from 1 to 2^24', ringEntries);
    }
    const timeoutMs = options.safePointTimeoutMs ?? 1000;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new OptionError('safePointTimeoutMs', 'a positive number of milliseconds', timeoutMs);
    const poolPages = Math.floor(poolBytes / this.pageSize);
    const handle: MemoryHandle = {
      kind: 'bgsnap.memory',
      version: 1,
      pageSize: this.pageSize,
      blocks: this.blocks.map(({ name, size, pages, firstPage, bytes }) => ({
        name,
        size,
        pages,
        firstPage,
        buffer: bytes.buffer as SharedArrayBuffer,
      })),
      states: this.states.buffer as SharedArrayBuffer,
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      ring: new SharedArrayBuffer(ringBytes(ringEntries)),
      poolSlots: new SharedArrayBuffer(poolPages * 4),
      poolData: new SharedArrayBuffer(poolPages * this.pageSize),
    };
    this.shared = { handle, state: new SharedState(handle), timeoutMs, options: { poolBytes, ringEntries, safePointTimeoutMs: timeoutMs } };
    // A live restore that ended before the share left pages absent: writer threads say why, as the memory does.
    if (this.loadEnd !== undefined) {
      Atomics.store(this.shared.state.control, Control.Loading, this.loadEnd.reason === 'failed' ? LoadWord.Failed : LoadWord.Cancelled);
    }
    return handle;
  }

  /** Writer threads attached so far, detached ones included: the length of a snapshot's `cut`. */
  get writerThreads(): number {
    return this.shared?.state.writerCount ?? 0;
  }

  /** Slots of the pool shared with writer threads (`share({ poolBytes })`), or undefined before `share()`. */
  get poolCapacity(): number | undefined {
    return this.shared?.state.slots.length;
  }

  createPool(pages: number): PageBufferPool | undefined {
    const shared = this.shared;
    if (shared === null) return undefined;
    // The pool area is the running snapshot's: a second one must not reset it.
    if (this.session !== null) throw new SnapshotInProgressError();
    const capacity = shared.state.slots.length;
    if (!Number.isSafeInteger(pages) || pages < 0 || pages > capacity) {
      throw new OptionError('poolPages', `an integer from 0 to ${capacity} (the pool this memory shares with writer threads; see share({ poolBytes }))`, pages);
    }
    return new SharedPagePool(shared.state, pages);
  }

  protect(onFault: FaultHandler, options: ProtectOptions = {}): ProtectionSession {
    if (this.session !== null) throw new SnapshotInProgressError();
    if (this.load !== null) throw new RestoreInProgressError();
    if (this.restoring) throw new RestoreInProgressError('eager');
    // Pages a live restore left unloaded have no bytes to save.
    const absent = this.loadEnd === undefined ? -1 : this.states.indexOf(PageState.Absent);
    if (absent >= 0) {
      const b = this.blocks[blockIndexOf(this.blocks, absent)] as MemoryBlock;
      throw this.aborted(b, absent);
    }
    const parent = options.incremental === true ? this.committed : undefined;
    const session = new Session(this, onFault, options.onCopied, parent);
    this.session = session;
    const shared = this.shared;
    if (shared === null) {
      this.protectPages(session);
      return session;
    }
    // With writer threads, t0 is a safe point; then faults arrive through the ring.
    this.sessions = (this.sessions % SESSIONS) + 1;
    const id = this.sessions;
    const poolSize = options.pool instanceof SharedPagePool ? options.pool.size : 0;
    const c = shared.state.control;
    session.safePoint = safePoint(
      shared.state,
      () => {
        Atomics.store(c, Control.SaverThread, threadId + 1);
        Atomics.store(c, Control.Session, id);
        this.protectPages(session);
        Atomics.store(c, Control.PoolSize, poolSize);
      },
      shared.timeoutMs,
      this.onSafePointStep,
    );
    session.listen(shared.state, id, options.pool, shared.timeoutMs);
    return session;
  }

  /**
   * t0's protect step, with every writer held: every page, or for an
   * incremental snapshot every page written since the last committed t0.
   * A redone safe point calls it again: it adds the pages written since.
   */
  private protectPages(session: Session): void {
    const states = this.states;
    if (session.parent === undefined) {
      states.fill(PageState.Protected);
      session.pages = this.pageCount;
      return;
    }
    // Step 1: the session's bitmap, cleared on the first call; it says which pages a failure gives back.
    const bits = (this.inSession ??= new Uint8Array(Math.ceil(this.pageCount / 8)));
    if (session.pages === 0) bits.fill(0);
    // Step 2: every written page is protected; a native search skips the clean ones
    // (and those an earlier call protected, counted already).
    for (let p = states.indexOf(PageState.Writable); p !== -1; p = states.indexOf(PageState.Writable, p + 1)) {
      states[p] = PageState.Protected;
      bits[p >>> 3] = (bits[p >>> 3] as number) | (1 << (p & 7));
      session.pages++;
    }
  }

  /**
   * @internal `restore` holds the memory while it writes past the barrier:
   * snapshots, shares and live restores are refused until it lets go.
   * @throws SnapshotInProgressError or RestoreInProgressError when either holds the memory.
   */
  holdForRestore(): () => void {
    if (this.session !== null) throw new SnapshotInProgressError();
    if (this.load !== null) throw new RestoreInProgressError();
    if (this.restoring) throw new RestoreInProgressError('eager');
    this.restoring = true;
    return () => {
      this.restoring = false;
    };
  }

  /**
   * Forgets the committed snapshot and marks every page written, so that the
   * next snapshot is a full one: for whoever changes the bytes past the
   * barrier (`restore`).
   * @throws SnapshotInProgressError while a snapshot runs.
   */
  forgetSnapshots(): void {
    if (this.session !== null) throw new SnapshotInProgressError();
    if (this.load !== null) throw new RestoreInProgressError();
    this.committed = undefined;
    this.loadEnd = undefined;
    this.states.fill(PageState.Writable);
    if (this.shared !== null) Atomics.store(this.shared.state.control, Control.Loading, LoadWord.None);
  }

  /** Whether a live restore is loading this memory now. */
  get loading(): boolean {
    return this.load !== null;
  }

  /**
   * Starts a live restore (`restoreLive` calls it): marks every page absent,
   * synchronously, and routes the faults of reads and writes that wait on an
   * absent page (in process, and from writer threads through the fault ring)
   * to `onFault` until the session is closed. Forgets the committed snapshot:
   * once loaded, every page counts as written.
   * @throws SnapshotInProgressError while a snapshot runs; RestoreInProgressError while another load runs.
   */
  beginLoad(onFault: FaultHandler): LoadSession {
    if (this.session !== null) throw new SnapshotInProgressError();
    if (this.load !== null) throw new RestoreInProgressError();
    if (this.restoring) throw new RestoreInProgressError('eager');
    const load = new Loader(this, onFault);
    this.load = load;
    this.committed = undefined;
    this.loadEnd = undefined;
    const shared = this.shared;
    if (shared !== null) {
      this.sessions = (this.sessions % SESSIONS) + 1;
      const c = shared.state.control;
      // No safe point: writers may not run before the load's `started`, which comes after this.
      Atomics.store(c, Control.Loading, LoadWord.Loading);
      Atomics.store(c, Control.SaverThread, threadId + 1);
      Atomics.store(c, Control.PoolSize, 0);
      Atomics.store(c, Control.Session, this.sessions);
      fillStates(this.states, PageState.Absent);
      Atomics.add(c, Control.Fence, 1);
      load.listen(shared.state, this.sessions);
    } else {
      fillStates(this.states, PageState.Absent);
    }
    return load;
  }

  /** @internal Pages loaded: writable (written), and the reads and writes waiting on them go on. */
  loadedPages(first: number, count: number): void {
    const end = first + count;
    fillStates(this.states, PageState.Writable, first, end);
    this.shared?.state.wakeWaiters(first, end);
    if (this.waiters.size !== 0) {
      const candidates: PendingWrite[] = [];
      for (let p = first; p < end; p++) {
        const head = this.waiters.get(p)?.[0];
        if (head !== undefined) candidates.push(head);
      }
      this.applyReady(candidates.reverse());
    }
    if (this.readers.size === 0) return;
    for (let p = first; p < end; p++) {
      const line = this.readers.get(p);
      if (line === undefined) continue;
      this.readers.delete(p);
      // Each read waits on its next absent page, or has its bytes now.
      for (const r of line) {
        let next = -1;
        for (let q = end; q <= r.last && next < 0; q++) if (this.states[q] === PageState.Absent) next = q;
        if (next >= 0) this.waitRead(next, r);
        else r.resolve(r.block.bytes.slice(r.offset, r.offset + r.length));
      }
    }
  }

  /** @internal Ends a live restore; pages left absent fail their waiting reads and writes, now and later. */
  endLoad(load: Loader, end: LoadEnd | undefined): void {
    if (this.load !== load) return;
    this.load = null;
    const absent = this.states.indexOf(PageState.Absent) >= 0;
    this.loadEnd = absent ? (end ?? { reason: 'cancelled' }) : undefined;
    const shared = this.shared;
    if (shared !== null) {
      const c = shared.state.control;
      const word = !absent ? LoadWord.None : this.loadEnd?.reason === 'failed' ? LoadWord.Failed : LoadWord.Cancelled;
      Atomics.store(c, Control.Loading, word);
      Atomics.store(c, Control.Session, 0);
      Atomics.store(c, Control.SaverThread, 0);
      shared.state.wakeAll();
      shared.state.ring.ring();
    }
    if (!absent) return;
    // Reads waiting on an absent page fail.
    for (const [page, line] of this.readers) {
      for (const r of line) r.reject(this.aborted(r.block, page));
    }
    this.readers.clear();
    // Writes touching an absent page fail and leave their lines; the writes behind them may go.
    const failed = new Set<PendingWrite>();
    for (const line of this.waiters.values()) {
      for (const w of line) if (!failed.has(w) && this.firstAbsentPage(w.first, w.last) >= 0) failed.add(w);
    }
    for (const w of failed) {
      for (let p = w.first; p <= w.last; p++) {
        const line = this.waiters.get(p) as PendingWrite[];
        line.splice(line.indexOf(w), 1);
        if (line.length === 0) this.waiters.delete(p);
      }
      const page = this.firstAbsentPage(w.first, w.last);
      w.reject(this.aborted(this.blocks[blockIndexOf(this.blocks, page)] as MemoryBlock, page));
    }
    const candidates: PendingWrite[] = [];
    for (const line of this.waiters.values()) if (line[0] !== undefined) candidates.push(line[0]);
    this.applyReady(candidates);
  }

  /** The first absent page from global page `first` to `last`, or -1. */
  private firstAbsentPage(first: number, last: number): number {
    for (let p = first; p <= last; p++) if (this.states[p] === PageState.Absent) return p;
    return -1;
  }

  /** The last committed snapshot of this memory: an incremental snapshot taken now holds the changes since its t0. */
  get lastCommitted(): SnapshotIdentity | undefined {
    return this.committed;
  }

  /**
   * @internal For tests that force an interleaving: `hook` is called on the
   * saver's thread after each step of every safe point (see `SaverStep`).
   */
  setSafePointHook(hook: SaverStepHook | undefined): void {
    this.onSafePointStep = hook;
  }

  /** @internal A page a writer thread copied: writable now; apply in-process writes waiting on it. */
  copiedPage(page: number): void {
    Atomics.store(this.states, page, PageState.Writable);
    this.shared?.state.wakeWaiters(page, page + 1);
    const head = this.waiters.get(page)?.[0];
    if (head !== undefined) this.applyReady([head]);
  }

  /** @internal Makes saved pages writable (clean: their bytes are in the snapshot) and applies writes that no longer wait. */
  unprotectPages(first: number, count: number): void {
    const end = first + count;
    this.states.fill(PageState.Clean, first, end);
    this.shared?.state.wakeWaiters(first, end);
    if (this.waiters.size === 0) return;
    const candidates: PendingWrite[] = [];
    for (let p = first; p < end; p++) {
      const head = this.waiters.get(p)?.[0];
      if (head !== undefined) candidates.push(head);
    }
    this.applyReady(candidates.reverse());
  }

  /**
   * @internal Ends the session. Committed, its saved pages stay clean and it
   * is what the next incremental snapshot builds on. Otherwise every page it
   * protected is marked written again, so the next snapshot holds it (the
   * writes before this one's t0 are not lost).
   */
  endSession(session: Session, committed: SnapshotIdentity | undefined): void {
    if (this.session !== session) return;
    const states = this.states;
    // Step 1: pages still protected (a failure, or a cancel) are released, as written.
    const released: number[] = [];
    for (let p = nextProtected(states, 0); p !== -1; p = nextProtected(states, p + 1)) released.push(p);
    // Step 2: a failed session gives its saved pages back to the next snapshot.
    if (committed !== undefined) this.committed = committed;
    else if (session.parent === undefined) states.fill(PageState.Writable);
    else {
      const bits = this.inSession as Uint8Array;
      for (let i = 0; i < bits.length; i++) {
        const byte = bits[i] as number;
        if (byte === 0) continue;
        for (let b = 0; b < 8; b++) if ((byte >> b) & 1) states[i * 8 + b] = PageState.Writable;
      }
    }
    for (const p of released) states[p] = PageState.Writable;
    this.shared?.state.wakeWaiters(0, this.pageCount);
    if (this.waiters.size !== 0) {
      const candidates: PendingWrite[] = [];
      for (const line of this.waiters.values()) if (line[0] !== undefined) candidates.push(line[0]);
      this.applyReady(candidates);
    }
    const shared = this.shared;
    if (shared !== null) {
      const c = shared.state.control;
      Atomics.store(c, Control.PoolSize, 0);
      Atomics.store(c, Control.Session, 0);
      Atomics.store(c, Control.SaverThread, 0);
      shared.state.wakeAll();
      shared.state.ring.ring();
    }
    this.session = null;
  }

  /** @internal */
  viewPages(first: number, count: number): Uint8Array {
    const b = this.blocks[blockIndexOf(this.blocks, first)] as MemoryBlock;
    const at = (first - b.firstPage) * this.pageSize;
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
  /** Set when writer threads share the memory. */
  safePoint: SafePoint | undefined;
  private shared: SharedState | undefined;
  private timeoutMs = 0;
  private closed = false;

  /** Pages protected at t0: set by the protect step. */
  pages = 0;
  private committed: SnapshotIdentity | undefined;

  constructor(
    private readonly memory: PagedMemory,
    readonly onFault: FaultHandler,
    private readonly onCopied: ((page: number, buffer: Uint8Array) => void) | undefined,
    readonly parent: SnapshotIdentity | undefined,
  ) {
    this.states = memory.states;
  }

  commit(identity: SnapshotIdentity): void {
    if (!this.closed) this.committed = identity;
  }

  get cut(): readonly number[] {
    return this.safePoint?.cut ?? [];
  }

  get t0PauseMs(): number {
    return this.safePoint?.pauseMs ?? 0;
  }

  get t0Redos(): number {
    return this.safePoint?.redos ?? 0;
  }

  confirmCut(): Error | undefined {
    return this.shared === undefined || this.safePoint === undefined ? undefined : confirmCut(this.shared, this.safePoint, this.timeoutMs);
  }

  /**
   * Takes the writer threads' faults from the ring until the session closes:
   * every entry the doorbell announces, then sleep on it again. Entries of an
   * earlier session are dropped (its pool was reset since).
   */
  listen(shared: SharedState, id: number, pool: PageBufferPool | undefined, timeoutMs: number): void {
    this.shared = shared;
    this.timeoutMs = timeoutMs;
    const ring = shared.ring;
    const take = (kind: RingEntryKind, page: number, arg: number, session: number): void => {
      if (session !== id || this.closed) return;
      if (kind === RingEntry.Fault) return this.onFault(page);
      // A writer's own copy: the page is writable from now on.
      this.memory.copiedPage(page);
      const buffer = pool instanceof SharedPagePool ? pool.adopt(arg) : undefined;
      if (buffer !== undefined && this.onCopied !== undefined) this.onCopied(page, buffer);
      else if (buffer !== undefined) pool?.release(buffer);
    };
    // From the next microtask: the snapshot wires its fault handling after `protect` returns.
    ring.consume(take, () => this.closed);
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
    this.memory.endSession(this, this.committed);
  }
}

/** The first page from `from` in a protected state, or -1. */
function nextProtected(states: Uint8Array, from: number): number {
  for (let p = from; p < states.length; p++) if (isProtected(states[p] as number)) return p;
  return -1;
}

/** The load session `PagedMemory.beginLoad` hands out. */
class Loader implements LoadSession {
  readonly states: Uint8Array;
  private closed = false;

  constructor(
    private readonly memory: PagedMemory,
    readonly onFault: FaultHandler,
  ) {
    this.states = memory.states;
  }

  /** Takes the writer threads' faults from the ring until the session closes, as a snapshot's session does. */
  listen(shared: SharedState, id: number): void {
    const ring = shared.ring;
    const take = (kind: RingEntryKind, page: number, _arg: number, session: number): void => {
      if (session === id && !this.closed && kind === RingEntry.Fault) this.onFault(page);
    };
    ring.consume(take, () => this.closed);
  }

  view(first: number, count: number): Uint8Array {
    return this.memory.viewPages(first, count);
  }

  loaded(first: number, count: number): void {
    if (!this.closed) this.memory.loadedPages(first, count);
  }

  close(error?: LoadEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.memory.endLoad(this, error);
  }
}
