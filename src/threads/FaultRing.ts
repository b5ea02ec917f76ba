/**
 * Faults from writer threads to the saver: a bounded multi-producer,
 * single-consumer ring on a SharedArrayBuffer. It never drops an entry: a
 * writer that finds it full waits for space. The saver sleeps on the
 * doorbell with `Atomics.waitAsync`, so its event loop keeps running.
 */

/** What a ring entry reports. */
export const RingEntry = {
  /** A write is blocked on `page`; `arg` is the writer's id. */
  Fault: 1,
  /** A writer copied `page` into pool slot `arg` and unprotects it itself. */
  Copied: 2,
  /** A reserved entry that turned out not to be needed: the consumer skips it. */
  Nothing: 3,
} as const;
export type RingEntryKind = (typeof RingEntry)[keyof typeof RingEntry];

const Head = 0;
const Tail = 1;
const Doorbell = 2;
/** Bumped by the consumer whenever it frees space; full producers wait on it. */
const Space = 3;
const HEADER_WORDS = 4;
/** The longest the consumer sleeps between looks at the ring, in ms: how late a copy report may be taken. */
export const LOOK_MS = 1;
/** Words per entry: kind (0 while unpublished), page, arg, session. */
const ENTRY_WORDS = 4;

/** Bytes for a ring of `capacity` entries (a power of two). */
export function ringBytes(capacity: number): number {
  return (HEADER_WORDS + capacity * ENTRY_WORDS) * 4;
}

export class FaultRing {
  private readonly words: Int32Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    const capacity = (this.words.length - HEADER_WORDS) / ENTRY_WORDS;
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`a fault ring holds a power of two of entries, not ${capacity}`);
    }
    this.mask = capacity - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * Producer side (any thread). Publishes one entry and rings the doorbell.
   * When the ring is full it waits for space, checking `stillWanted` after
   * each wait; it returns `false`, posting nothing, once that says no.
   */
  post(kind: RingEntryKind, page: number, arg: number, session: number, stillWanted: () => boolean): boolean {
    const entry = this.reserve(stillWanted);
    if (entry < 0) return false;
    this.publish(entry, kind, page, arg, session);
    return true;
  }

  /**
   * Producer side: reserves the next entry, waiting while the ring is full
   * and `stillWanted` says yes; returns -1 once it says no. A reserved entry
   * must be published (as `Nothing` if it is not needed): the consumer waits
   * for it. Reserving first lets a writer claim what the entry reports with
   * nothing left to wait for in between.
   */
  reserve(stillWanted: () => boolean): number {
    const w = this.words;
    for (;;) {
      const tail = Atomics.load(w, Tail);
      const space = Atomics.load(w, Space);
      if (((tail - Atomics.load(w, Head)) | 0) > this.mask) {
        Atomics.wait(w, Space, space, 20);
        if (!stillWanted()) return -1;
        continue;
      }
      if (Atomics.compareExchange(w, Tail, tail, (tail + 1) | 0) === tail) return tail;
    }
  }

  /**
   * Producer side: fills a reserved entry and publishes it by storing its kind
   * last; then rings the doorbell, unless `ring` is false: an entry nobody
   * waits on (a writer's own copy) is left for the consumer's next look, which
   * comes within `LOOK_MS`, sparing the writer a cross-thread wake.
   */
  publish(entry: number, kind: RingEntryKind, page: number, arg: number, session: number, ring = true): void {
    const w = this.words;
    const at = HEADER_WORDS + (entry & this.mask) * ENTRY_WORDS;
    w[at + 1] = page;
    w[at + 2] = arg;
    w[at + 3] = session;
    Atomics.store(w, at, kind);
    if (!ring) return;
    Atomics.add(w, Doorbell, 1);
    Atomics.notify(w, Doorbell, 1);
  }

  /**
   * Consumer side (the saver's thread only). Takes every published entry in
   * order, stopping at the first slot reserved but not yet published.
   * Returns how many it took.
   */
  drain(take: (kind: RingEntryKind, page: number, arg: number, session: number) => void): number {
    const w = this.words;
    let head = Atomics.load(w, Head);
    let taken = 0;
    for (;;) {
      const at = HEADER_WORDS + (head & this.mask) * ENTRY_WORDS;
      const kind = Atomics.load(w, at) as RingEntryKind | 0;
      if (kind === 0) break;
      const page = w[at + 1] as number;
      const arg = w[at + 2] as number;
      const session = w[at + 3] as number;
      Atomics.store(w, at, 0);
      head = (head + 1) | 0;
      Atomics.store(w, Head, head);
      taken++;
      if (kind !== RingEntry.Nothing) take(kind, page, arg, session);
    }
    if (taken !== 0) {
      Atomics.add(w, Space, 1);
      Atomics.notify(w, Space);
    }
    return taken;
  }

  /** The doorbell's value now: pass it to `whenPosted` after a drain. */
  doorbell(): number {
    return Atomics.load(this.words, Doorbell);
  }

  /**
   * Calls `then` once an entry may have been posted since the doorbell read
   * `seen`: on the next turn of the event loop if it has moved already, else
   * when it rings, or after `LOOK_MS` at the latest (entries published
   * without a ring are taken then).
   */
  whenPosted(seen: number, then: () => void): void {
    const waited = Atomics.waitAsync(this.words, Doorbell, seen, LOOK_MS);
    if (waited.async) void waited.value.then(then);
    else setImmediate(then);
  }

  /**
   * Consumer side: takes every entry the doorbell announces, then waits for
   * the next (`whenPosted`), until `closed()` says to stop. Starts on the
   * next microtask, so that the caller can wire what `take` calls first.
   */
  consume(take: (kind: RingEntryKind, page: number, arg: number, session: number) => void, closed: () => boolean): void {
    const pump = (): void => {
      if (closed()) return;
      const seen = this.doorbell();
      this.drain(take);
      if (closed()) return;
      this.whenPosted(seen, pump);
    };
    queueMicrotask(pump);
  }

  /** Wakes a consumer waiting in `whenPosted`, so that it can stop. */
  ring(): void {
    Atomics.add(this.words, Doorbell, 1);
    Atomics.notify(this.words, Doorbell);
  }
}
