import { ForeignBufferError } from '../errors';
import type { SharedState } from '../threads/SharedState';
import { Control, Slot, isCopiedSlot } from '../threads/layout';
import type { PageBufferPool } from './contract';

/**
 * A page-buffer pool in a memory's shared pool area, for snapshots of a
 * memory shared with writer threads. The saver lends slots like `PagePool`;
 * writer threads also claim slots, atomically, for copies of their own, which
 * the saver adopts (`adopt`) and releases after their write. Both kinds count
 * against one bound, `size`.
 */
export class SharedPagePool implements PageBufferPool {
  readonly pageSize: number;
  private peakBorrowed = 0;

  /**
   * Resets the slots and opens the first `size` of them, their bytes touched
   * (once per memory) so that no writer's copy pays the first touch: call
   * before t0, with no session open.
   */
  constructor(
    private readonly shared: SharedState,
    readonly size: number,
  ) {
    this.pageSize = shared.pageSize;
    shared.slots.fill(Slot.Free);
    shared.warm(size);
    Atomics.store(shared.control, Control.PoolBorrowed, 0);
    Atomics.store(shared.control, Control.PoolHint, 0);
  }

  get borrowed(): number {
    return Atomics.load(this.shared.control, Control.PoolBorrowed);
  }

  get available(): number {
    return Math.max(0, this.size - this.borrowed);
  }

  get peak(): number {
    return this.peakBorrowed;
  }

  acquire(): Uint8Array | undefined {
    const slot = this.shared.claimSlot(Slot.Lent);
    if (slot < 0) return undefined;
    this.notePeak();
    return this.shared.slotBytes(slot);
  }

  /** The buffer of a slot a writer filled with its own copy; `release` it after its write. */
  adopt(slot: number): Uint8Array {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.size || !isCopiedSlot(Atomics.load(this.shared.slots, slot))) {
      throw new ForeignBufferError(`slot ${slot} holds no writer's copy`);
    }
    this.notePeak();
    return this.shared.slotBytes(slot);
  }

  release(buffer: Uint8Array): void {
    const slot = buffer.byteOffset / this.pageSize;
    if (buffer.buffer !== this.shared.poolData || !Number.isInteger(slot) || slot >= this.size || buffer.length !== this.pageSize) {
      throw new ForeignBufferError('it was not allocated by this pool');
    }
    const state = Atomics.load(this.shared.slots, slot);
    if (state === Slot.Free || !this.shared.freeSlot(slot, state)) throw new ForeignBufferError(`slot ${slot} is not on loan`);
  }

  private notePeak(): void {
    const borrowed = this.borrowed;
    if (borrowed > this.peakBorrowed) this.peakBorrowed = borrowed;
  }
}
