import { threadId } from 'node:worker_threads';
import { LoadAbortedError, OptionError, OutOfBlockError, PageNotLoadedError, SaverThreadWriteError, TooManyWritersError, WriterDetachedError } from '../errors';
import { PageState, blocksWrites } from '../memory/contract';
import { StallRecorder, type StallSummary } from '../metrics/StallRecorder';
import { RingEntry } from './FaultRing';
import { checkHandle, type MemoryHandle, type SharedBlock } from './handle';
import { Control, LoadWord, MAX_WRITERS, Writer, WriterStatus, copiedSlot, epochOf, isPaused, writerWord } from './layout';
import type { WriterStepHook, WriterTestOptions } from './steps';
import { SharedState } from './SharedState';

/** A writer thread's view of a shared `PagedMemory`. */
export interface MemoryWriter {
  /** 0, 1, … in attach order; the index of this writer in a snapshot's `cut`. */
  readonly id: number;
  /** Writes this writer has completed. */
  readonly writes: number;
  /** What faults cost this writer so far. */
  readonly faults: WriterFaults;
  /**
   * Writes `data` at `offset` of block `block`, synchronously. A write to a
   * page a snapshot protects faults: under `copy`, with a pool slot free, the
   * writer copies the page itself and goes on; otherwise the thread blocks
   * (`Atomics.wait`) until the saver has written the page. A write to a page
   * a live restore has not loaded yet blocks until it is loaded (ahead of
   * the background pass). `data` may be reused on return.
   * @throws OptionError when `data` is not a `Uint8Array` (a `Buffer` is one; view another
   * typed array's bytes with `new Uint8Array(a.buffer, a.byteOffset, a.byteLength)`).
   * @throws OutOfBlockError when the range leaves the block; WriterDetachedError after `detach()`;
   * SaverThreadWriteError for a protected or absent page on the thread that runs the snapshot or the load;
   * LoadAbortedError for a page a live restore ended (cancelled or failed) without loading.
   */
  write(block: string, offset: number, data: Uint8Array): void;
  /**
   * A copy of `length` bytes from `offset` of block `block`. Never blocked by
   * a snapshot; a page a live restore has not loaded yet blocks the read until
   * it is loaded (ahead of the background pass).
   * @throws OutOfBlockError when the range leaves the block; PageNotLoadedError for a page
   * not loaded on the thread that runs the load; LoadAbortedError for a page a live restore
   * ended without loading.
   */
  read(block: string, offset: number, length: number): Uint8Array;
  /** Leaves the memory: safe points stop waiting for this writer. Idempotent. */
  detach(): void;
}

export interface WriterFaults {
  /** Faults: one per write and protected page it touched. */
  readonly count: number;
  /** Of those, pages this writer copied into the pool itself. */
  readonly selfCopied: number;
  /** Time blocked per fault (a self-copy counts its copy). */
  readonly stall: StallSummary;
  /** Time paused at safe points, the longest. */
  readonly longestPauseMs: number;
}

interface Block extends SharedBlock {
  readonly bytes: Uint8Array;
}

/**
 * Attaches the calling thread to a memory shared with `memory.share()`.
 *
 * @example
 * // worker.ts
 * const writer = attachMemory(workerData.handle);
 * writer.write('ram', 4096, bytes);
 */
export function attachMemory(handle: MemoryHandle, testOptions?: WriterTestOptions): MemoryWriter {
  return new ThreadWriter(checkHandle(handle), testOptions);
}

/** What `write` accepts as data, said the same way by every writer. */
export const WRITE_DATA = 'a Uint8Array (a Buffer is one; view another typed array as new Uint8Array(a.buffer, a.byteOffset, a.byteLength))';

class ThreadWriter implements MemoryWriter {
  readonly id: number;
  private readonly shared: SharedState;
  private readonly control: Int32Array;
  private readonly states: Uint8Array;
  private readonly blocks: readonly Block[];
  private readonly byName = new Map<string, Block>();
  private readonly pageShift: number;
  private readonly seqAt: number;
  /** Twice the completed writes: this writer's `Seq` outside `write`, whole (the word holds its low 32 bits). */
  private seq = 0;
  /** The next multiple of 2^32 `seq` reaches, when `SeqHigh` goes up. */
  private seqCarry = 2 ** 32;
  /** The last safe-point word this writer has seen (-1: none yet, so the first write looks). */
  private epoch = -1;
  private detached = false;
  private lastName = '';
  private lastBlock: Block | undefined;
  private faultCount = 0;
  private selfCopied = 0;
  private longestPauseMs = 0;
  private readonly stalls = new StallRecorder();
  private readonly onStep: WriterStepHook | undefined;
  private readonly emulateStoreBuffer: boolean;

  constructor(handle: MemoryHandle, testOptions: WriterTestOptions = {}) {
    this.onStep = testOptions.onStep;
    this.emulateStoreBuffer = testOptions.emulateStoreBuffer === true && this.onStep !== undefined;
    this.shared = new SharedState(handle);
    this.control = this.shared.control;
    this.states = this.shared.states;
    this.pageShift = Math.log2(handle.pageSize);
    this.blocks = handle.blocks.map((b) => ({ ...b, bytes: new Uint8Array(b.buffer) }));
    for (const b of this.blocks) this.byName.set(b.name, b);
    // Step 1: take the next id and set up its slot; the status goes last.
    const id = Atomics.add(this.control, Control.Attached, 1);
    if (id >= MAX_WRITERS) throw new TooManyWritersError(MAX_WRITERS);
    this.id = id;
    this.seqAt = writerWord(id, Writer.Seq);
    Atomics.store(this.control, this.seqAt, 0);
    Atomics.store(this.control, writerWord(id, Writer.AckEpoch), 0);
    Atomics.store(this.control, writerWord(id, Writer.WaitPage), -1);
    // Step 2: attached; the first write synchronises with the saver (a safe point may be under way).
    Atomics.store(this.control, writerWord(id, Writer.Status), WriterStatus.Attached);
  }

  get writes(): number {
    return Math.floor(this.seq / 2);
  }

  get faults(): WriterFaults {
    return {
      count: this.faultCount,
      selfCopied: this.selfCopied,
      stall: this.stalls.summary(),
      longestPauseMs: this.longestPauseMs,
    };
  }

  write(block: string, offset: number, data: Uint8Array): void {
    if (this.detached) throw new WriterDetachedError(this.id, 'detached');
    if (!(data instanceof Uint8Array)) throw new OptionError('data', WRITE_DATA, data);
    const b = block === this.lastName && this.lastBlock !== undefined ? this.lastBlock : this.lookup(block, offset, data.length);
    const length = data.length;
    if (!(offset >= 0 && offset + length <= b.size && Number.isInteger(offset))) {
      throw new OutOfBlockError(block, offset, length, b.size);
    }
    if (this.onStep !== undefined) return this.writeStepped(b, offset, data, this.onStep);
    const c = this.control;
    const seq = this.seq + 1;
    // Step 1: inside a write (plain store; every 2^31 writes its high word follows, while the
    // odd value says "inside", so no reader takes a torn pair for a count), then look for a
    // safe point (plain load).
    c[this.seqAt] = seq;
    if (seq + 1 >= this.seqCarry) this.carry();
    if (c[Control.Epoch] !== this.epoch) this.safePoint();
    // Step 2: every page writable (one plain load per page), then the bytes.
    if (length !== 0) {
      this.passPages(b, offset, length);
      b.bytes.set(data, offset);
    }
    // Step 3: outside again, one write more.
    this.seq = seq + 1;
    c[this.seqAt] = seq + 1;
  }

  /** `write`'s steps with the test hook called between them. */
  private writeStepped(b: Block, offset: number, data: Uint8Array, onStep: WriterStepHook): void {
    const c = this.control;
    const seq = this.seq + 1;
    const enter = (): void => {
      c[this.seqAt] = seq;
      if (seq + 1 >= this.seqCarry) this.carry();
    };
    if (!this.emulateStoreBuffer) enter();
    onStep('entered');
    if (c[Control.Epoch] !== this.epoch) this.safePoint();
    onStep('epoch');
    if (data.length !== 0) this.passPagesStepped(b, offset, data.length, onStep);
    onStep('pages');
    // A store buffer drains in order: "inside" becomes visible before the bytes do.
    if (this.emulateStoreBuffer) enter();
    if (data.length !== 0) b.bytes.set(data, offset);
    onStep('applied');
    this.seq = seq + 1;
    c[this.seqAt] = seq + 1;
  }

  /** Returns once every page under `length` bytes from `offset` is writable: one plain load per page. */
  private passPages(b: Block, offset: number, length: number): void {
    const first = b.firstPage + (offset >>> this.pageShift);
    const last = b.firstPage + ((offset + length - 1) >>> this.pageShift);
    const states = this.states;
    for (let p = first; p <= last; p++) {
      const state = states[p];
      if (state === PageState.Writable) continue;
      // A clean page: its first write since the last committed snapshot marks it written, as
      // an unprotected page (the compare-and-exchange fails on a page a snapshot protected).
      if (state === PageState.Clean && Atomics.compareExchange(states, p, PageState.Clean, PageState.Writable) === PageState.Clean) continue;
      this.waitWritable(b, first, p, last);
      return;
    }
  }

  /** `passPages` with the test hook called between two pages of a write. */
  private passPagesStepped(b: Block, offset: number, length: number, onStep: WriterStepHook): void {
    const first = b.firstPage + (offset >>> this.pageShift);
    const last = b.firstPage + ((offset + length - 1) >>> this.pageShift);
    const states = this.states;
    for (let p = first; p <= last; p++) {
      const state = states[p];
      const pass = state === PageState.Writable || (state === PageState.Clean && Atomics.compareExchange(states, p, PageState.Clean, PageState.Writable) === PageState.Clean);
      if (!pass) {
        this.waitWritable(b, first, p, last);
        return;
      }
      if (p < last) onStep('page');
    }
  }

  read(block: string, offset: number, length: number): Uint8Array {
    const b = this.lookup(block, offset, length);
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= b.size)) {
      throw new OutOfBlockError(block, offset, length, b.size);
    }
    if (length !== 0) {
      // One plain load per page: anything but absent is readable.
      const states = this.states;
      const first = b.firstPage + (offset >>> this.pageShift);
      const last = b.firstPage + ((offset + length - 1) >>> this.pageShift);
      for (let p = first; p <= last; p++) if (states[p] === PageState.Absent) this.waitLoaded(b, p, last);
    }
    return b.bytes.slice(offset, offset + length);
  }

  /** A read's slow path: blocks until every page from `page` to `last` is loaded. */
  private waitLoaded(block: Block, page: number, last: number): void {
    const states = this.shared.states;
    for (let p = page; p <= last; p++) {
      if (Atomics.load(states, p) !== PageState.Absent) continue;
      if (Atomics.load(this.control, Control.SaverThread) === threadId + 1) {
        throw new PageNotLoadedError(block.name, (p - block.firstPage) * this.shared.pageSize);
      }
      const start = performance.now();
      this.faultCount++;
      this.blockOn(p, block);
      this.stalls.record(performance.now() - start);
    }
  }

  detach(): void {
    if (this.detached) return;
    this.detached = true;
    Atomics.store(this.control, writerWord(this.id, Writer.Status), WriterStatus.Detached);
  }

  private lookup(block: string, offset: number, length: number): Block {
    const b = this.byName.get(block);
    if (b === undefined) throw new OutOfBlockError(block, offset, length, -1);
    this.lastName = block;
    this.lastBlock = b;
    return b;
  }

  /**
   * The safe-point word changed since this writer last looked: acknowledge
   * its epoch with the writes completed so far (this write has set no byte
   * yet), and while the word asks for a pause, sleep until it changes: the
   * release, or a redo's new epoch, which is acknowledged in turn.
   */
  private safePoint(): void {
    const c = this.control;
    let pausedAt = 0;
    // Epochs acknowledged by this call: an epoch seen again (they wrap) is acknowledged anew.
    let acked = -1;
    for (;;) {
      const word = Atomics.load(c, Control.Epoch);
      if (Atomics.load(c, writerWord(this.id, Writer.Status)) === WriterStatus.Gone) this.leaveGone();
      const epoch = epochOf(word);
      if (epoch !== acked) {
        // The count first, the epoch last: the saver reads them the other way round.
        const writes = this.writes;
        Atomics.store(c, writerWord(this.id, Writer.AckWrites), writes % 2 ** 32);
        Atomics.store(c, writerWord(this.id, Writer.AckWritesHigh), Math.floor(writes / 2 ** 32));
        Atomics.store(c, writerWord(this.id, Writer.AckEpoch), epoch);
        Atomics.notify(c, writerWord(this.id, Writer.AckEpoch));
        acked = epoch;
        this.onStep?.('acked');
      }
      if (!isPaused(word)) {
        this.epoch = word;
        break;
      }
      if (pausedAt === 0) pausedAt = performance.now();
      Atomics.wait(c, Control.Epoch, word, 100);
    }
    if (pausedAt !== 0) this.longestPauseMs = Math.max(this.longestPauseMs, performance.now() - pausedAt);
  }

  /** `Seq` is about to pass a multiple of 2^32 (at the end of this write): its high word goes up now. */
  private carry(): void {
    this.seqCarry += 2 ** 32;
    Atomics.store(this.control, writerWord(this.id, Writer.SeqHigh), this.seqCarry / 2 ** 32 - 1);
  }

  /** Waits until every page from `page` to `last` is writable: copying it, or blocked on it. */
  private waitWritable(block: Block, first: number, page: number, last: number): void {
    // A protected page under a safe-point word this write has not seen: the word's epoch is
    // acknowledged first (no byte of this write is set yet), so the saver counts this write
    // as after t0, whatever order its loads and stores reached the other cores in. The pages
    // before this one were found writable before t0 perhaps: all are looked at again.
    let from = page;
    if (Atomics.load(this.control, Control.Epoch) !== this.epoch) {
      this.safePoint();
      from = first;
    }
    const states = this.shared.states;
    for (let p = from; p <= last; p++) {
      let state = Atomics.load(states, p);
      if (state === PageState.Writable) continue;
      // A clean page (made clean while this write waited on an earlier one): marked written.
      if (state === PageState.Clean) {
        state = Atomics.compareExchange(states, p, PageState.Clean, PageState.Writable);
        if (state === PageState.Clean || state === PageState.Writable) continue;
      }
      if (Atomics.load(this.control, Control.SaverThread) === threadId + 1) {
        this.abandonWrite();
        throw new SaverThreadWriteError(block.name, (p - block.firstPage) * this.shared.pageSize);
      }
      // Declared gone (a safe point timed out on it while it stalled): no fault, no copy.
      if (Atomics.load(this.control, writerWord(this.id, Writer.Status)) === WriterStatus.Gone) this.leaveGone();
      const start = performance.now();
      this.faultCount++;
      if (state !== PageState.Protected || !this.copyOwnPage(block, p)) {
        try {
          this.blockOn(p, block);
        } catch (error) {
          this.abandonWrite();
          throw error;
        }
      }
      this.stalls.record(performance.now() - start);
      state = Atomics.load(states, p);
      if (state !== PageState.Writable) p--; // clean now (looked at again), or protected again by a new snapshot
    }
    // Declared gone while it waited (a safe point timed out on it): its bytes may not land.
    if (Atomics.load(this.control, writerWord(this.id, Writer.Status)) === WriterStatus.Gone) this.leaveGone();
  }

  /** This writer was declared gone: it leaves its write unapplied and may not write again. */
  private leaveGone(): never {
    this.abandonWrite();
    this.detached = true;
    throw new WriterDetachedError(this.id, 'gone');
  }

  /**
   * Leaves the write under way unapplied: `Seq` back to the completed count,
   * its high word first if this write carried it (so no reader sees the new
   * high word with the old low one).
   */
  private abandonWrite(): void {
    // It carried if the threshold it passed (the one before `seqCarry`) lies beyond the count.
    if (this.seqCarry - 2 ** 32 > this.seq) {
      this.seqCarry -= 2 ** 32;
      Atomics.store(this.control, writerWord(this.id, Writer.SeqHigh), this.seqCarry / 2 ** 32 - 1);
    }
    this.control[this.seqAt] = this.seq;
  }

  /**
   * Under `copy`: claims a pool slot, a ring entry and the page, copies the
   * page into the slot, reports it, and unprotects the page. Returns `false`,
   * having given back what it took, when a claim fails or the session ends.
   * Between claiming the page and reporting it there is only the copy:
   * nothing to wait for. A thread terminated in that window (termination
   * lands at a function's entry), or between reserving its ring entry and
   * publishing it, leaves the page unsaved or the ring stopped at that
   * entry: the snapshot then waits until it is unsubscribed.
   */
  private copyOwnPage(block: Block, page: number): boolean {
    const shared = this.shared;
    const c = this.control;
    // Step 1: a slot, marked with the session (a slot reset since by a new snapshot's pool
    // is never given back by this writer: the mark differs), then a ring entry (a full ring is
    // waited out here, before the page is ours; a session that ends meanwhile made the page
    // writable, so the copy is not needed).
    const session = Atomics.load(c, Control.Session);
    if (session === 0) return false;
    const owned = copiedSlot(session);
    const slot = shared.claimSlot(owned);
    if (slot < 0) return false;
    this.onStep?.('slot');
    const entry = shared.ring.reserve(() => Atomics.load(c, Control.Session) === session);
    if (entry < 0) {
      shared.freeSlot(slot, owned);
      return false;
    }
    this.onStep?.('entry');
    // Step 2: the page; one claimed by someone else gives all back.
    if (!shared.claimPage(page)) {
      shared.ring.publish(entry, RingEntry.Nothing, 0, 0, 0);
      shared.freeSlot(slot, owned);
      return false;
    }
    // A page is only protected inside a session: a claim that fell in a later one than the
    // slot's (this writer was held up across a whole session, and declared gone) goes back
    // to it, reported as a fault of that session, since its bulk pass may have gone by.
    const now = Atomics.load(c, Control.Session);
    if (now !== session) {
      Atomics.compareExchange(shared.states, page, PageState.Claimed, PageState.Protected);
      shared.ring.publish(entry, now === 0 ? RingEntry.Nothing : RingEntry.Fault, page, this.id, now);
      shared.freeSlot(slot, owned);
      return false;
    }
    this.onStep?.('claimed');
    // Step 3: copy the page as it stood at t0 (it is still protected), and report it before
    // unprotecting, so a writable page always has its copy on record.
    const at = (page - block.firstPage) * shared.pageSize;
    shared.slotBytes(slot).set(block.bytes.subarray(at, at + shared.pageSize));
    this.onStep?.('copied');
    // No doorbell: nothing waits on this report, and a wake would cost this writer a
    // cross-thread post; the saver takes it at its next look.
    shared.ring.publish(entry, RingEntry.Copied, page, slot, session, false);
    this.onStep?.('reported');
    // Step 4: unprotect it, unless the session ended and the page is no longer ours, and wake
    // writers blocked on it.
    Atomics.compareExchange(shared.states, page, PageState.Claimed, PageState.Writable);
    shared.wakeWaiters(page, page + 1);
    this.selfCopied++;
    return true;
  }

  /**
   * Reports a fault on `page` and sleeps until the page is writable (or, for
   * a read, loaded).
   * @throws LoadAbortedError when the page is absent and the live restore has ended.
   */
  private blockOn(page: number, block: Block): void {
    const c = this.control;
    const shared = this.shared;
    const waitAt = writerWord(this.id, Writer.WaitPage);
    const wakeAt = writerWord(this.id, Writer.Wake);
    // Step 1: say what we wait for before looking again, so an unprotect in between wakes us.
    Atomics.store(c, waitAt, page);
    try {
      if (blocksWrites(Atomics.load(shared.states, page))) {
        // Step 2: the fault reaches the saver (or the loader); a full ring waits for space unless the page frees up.
        const session = Atomics.load(c, Control.Session);
        if (session !== 0) {
          // Waited for only while its session lasts: a load that ends leaves its pages absent, and
          // nobody drains the ring after it.
          shared.ring.post(RingEntry.Fault, page, this.id, session, () => Atomics.load(c, Control.Session) === session && blocksWrites(Atomics.load(shared.states, page)));
        }
        // Step 3: sleep until it is unprotected or loaded; the timeout only bounds a lost wake-up.
        // An absent page once the load has ended never comes: the load stores its end before it wakes.
        for (;;) {
          const wake = Atomics.load(c, wakeAt);
          const state = Atomics.load(shared.states, page);
          if (!blocksWrites(state)) break;
          if (state === PageState.Absent) {
            const load = Atomics.load(c, Control.Loading);
            if (load !== LoadWord.Loading) {
              throw new LoadAbortedError(load === LoadWord.Failed ? 'failed' : 'cancelled', block.name, (page - block.firstPage) * shared.pageSize);
            }
          }
          this.onStep?.('sleeping');
          Atomics.wait(c, wakeAt, wake, 50);
        }
      }
    } finally {
      Atomics.store(c, waitAt, -1);
    }
  }
}
