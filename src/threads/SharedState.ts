import { PageState } from '../memory/contract';
import { FaultRing } from './FaultRing';
import type { MemoryHandle } from './handle';
import { Control, MAX_WRITERS, Slot, Writer, WriterStatus, writerWord } from './layout';

/** The OS's memory page: the unit the kernel maps fresh memory in. */
const OS_PAGE = 4096;

/**
 * The shared parts of a memory as one thread sees them: page states, the
 * control block, the fault ring and the pool slots. Used on both sides; the
 * saver's and the writers' protocols are built on these few operations.
 */
export class SharedState {
  readonly states: Uint8Array;
  readonly control: Int32Array;
  readonly ring: FaultRing;
  readonly slots: Int32Array;
  readonly poolData: SharedArrayBuffer;
  readonly pageSize: number;
  /** Slots from 0 whose bytes this thread has touched (`warm`). */
  private warmSlots = 0;
  /**
   * The saver's record of writers declared gone while inside a write: their
   * `Seq` then (odd). Such a write may still complete (a thread stalled, not
   * dead) and land anywhere; it is watched until `Seq` moves.
   */
  readonly goneInFlight = new Map<number, number>();

  constructor(handle: MemoryHandle) {
    this.states = new Uint8Array(handle.states);
    this.control = new Int32Array(handle.control);
    this.ring = new FaultRing(handle.ring);
    this.slots = new Int32Array(handle.poolSlots);
    this.poolData = handle.poolData;
    this.pageSize = handle.pageSize;
  }

  /** Writers attached so far (including detached and gone ones). */
  get writerCount(): number {
    return Math.min(Atomics.load(this.control, Control.Attached), MAX_WRITERS);
  }

  /** Field `field` of writer `id`, read atomically. */
  writer(id: number, field: number): number {
    return Atomics.load(this.control, writerWord(id, field));
  }

  /** Writer `id`'s whole `Seq`: twice its completed writes, plus one inside a write. */
  seq(id: number): number {
    for (;;) {
      const high = this.writer(id, Writer.SeqHigh);
      const low = this.writer(id, Writer.Seq) >>> 0;
      if (this.writer(id, Writer.SeqHigh) === high) return high * 2 ** 32 + low;
    }
  }

  /** The completed writes writer `id` acknowledged with its last epoch. */
  ackWrites(id: number): number {
    return this.writer(id, Writer.AckWritesHigh) * 2 ** 32 + (this.writer(id, Writer.AckWrites) >>> 0);
  }

  /** Wakes writers blocked on any page from `first` up to `end`. */
  wakeWaiters(first: number, end: number): void {
    const c = this.control;
    // A full fence: the caller's plain stores of the page states are visible before the
    // loads below, so a writer either sees its page writable or is seen waiting on it.
    Atomics.add(c, Control.Fence, 1);
    for (let id = 0, n = this.writerCount; id < n; id++) {
      const page = Atomics.load(c, writerWord(id, Writer.WaitPage));
      if (page >= first && page < end) this.wake(id);
    }
  }

  /** Wakes every writer that may be blocked. */
  wakeAll(): void {
    for (let id = 0, n = this.writerCount; id < n; id++) {
      if (this.writer(id, Writer.Status) === WriterStatus.Attached) this.wake(id);
    }
  }

  wake(id: number): void {
    const at = writerWord(id, Writer.Wake);
    Atomics.add(this.control, at, 1);
    Atomics.notify(this.control, at);
  }

  /**
   * Claims one free pool slot among the session's first `PoolSize`, marking
   * it `state`, or returns -1. Atomic against every other claimer.
   */
  claimSlot(state: number): number {
    const c = this.control;
    const size = Atomics.load(c, Control.PoolSize);
    if (size === 0 || Atomics.load(c, Control.PoolBorrowed) >= size) return -1;
    const start = Atomics.load(c, Control.PoolHint) % size;
    for (let i = 0; i < size; i++) {
      const slot = (start + i) % size;
      if (Atomics.compareExchange(this.slots, slot, Slot.Free, state) === Slot.Free) {
        Atomics.add(c, Control.PoolBorrowed, 1);
        Atomics.store(c, Control.PoolHint, slot + 1);
        return slot;
      }
    }
    return -1;
  }

  /**
   * Returns slot `slot`, if it is still in state `state`, to the pool; a slot
   * reset since (a new snapshot's pool) is left alone. Returns whether it did.
   * The next claim starts at the slot freed last: its bytes are the likeliest
   * to be in a cache.
   */
  freeSlot(slot: number, state: number): boolean {
    if (Atomics.compareExchange(this.slots, slot, state, Slot.Free) !== state) return false;
    Atomics.sub(this.control, Control.PoolBorrowed, 1);
    Atomics.store(this.control, Control.PoolHint, slot);
    return true;
  }

  /**
   * Touches the bytes of the first `slots` pool slots, once per memory page
   * of the OS, so that the kernel has mapped them before a writer copies into
   * one: a fresh page's first write costs the writer a page fault (~10 µs),
   * a copy 0.3 µs. Slots touched before are skipped.
   */
  warm(slots: number): void {
    if (slots <= this.warmSlots) return;
    const bytes = new Uint8Array(this.poolData, this.warmSlots * this.pageSize, (slots - this.warmSlots) * this.pageSize);
    for (let i = 0; i < bytes.length; i += OS_PAGE) bytes[i] = 0;
    this.warmSlots = slots;
  }

  /** The bytes of pool slot `slot`. */
  slotBytes(slot: number): Uint8Array {
    return new Uint8Array(this.poolData, slot * this.pageSize, this.pageSize);
  }

  /** Claims page `page` if nobody has: protected and unclaimed becomes claimed. */
  claimPage(page: number): boolean {
    return Atomics.compareExchange(this.states, page, PageState.Protected, PageState.Claimed) === PageState.Protected;
  }
}
