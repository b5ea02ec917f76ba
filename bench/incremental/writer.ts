/**
 * The writer thread of bench/incremental.ts: on each message, writes 8
 * bytes into each of the pages it is sent (a write per page), through the
 * barrier, and replies. `measure` times, over three sets of distinct cold
 * pages, the first write to a clean page (its first since the last
 * committed snapshot), a write to a page already written, and a plain store
 * that bypasses the barrier.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../src';

export type WriterCommand =
  | { readonly type: 'write'; readonly pages: Uint32Array; readonly seed: number }
  /**
   * Three sets of distinct pages, all cold: `clean` (not written since the
   * last committed snapshot), `written` (written by this command first, then
   * pushed out of the caches), `plain` (written with plain stores).
   */
  | {
      readonly type: 'measure';
      readonly clean: Uint32Array;
      readonly written: Uint32Array;
      readonly plain: Uint32Array;
      /** For the alternative: a plain store with one load of the page's state (the barrier's floor)… */
      readonly loaded: Uint32Array;
      /** …and with that load plus a store to a dirty map per write (tracking by a store per write). */
      readonly stored: Uint32Array;
      readonly order: number;
    };

export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'wrote'; readonly writes: number }
  /** Nanoseconds per write: the first write to a clean page, a write to a written page, and a plain store. */
  | {
      readonly type: 'measured';
      readonly firstNs: number;
      readonly againNs: number;
      readonly plainNs: number;
      readonly loadNs: number;
      readonly storeNs: number;
    };

const handle = (workerData as { handle: MemoryHandle }).handle;
const writer = attachMemory(handle);
const block = handle.blocks[0];
if (block === undefined) throw new Error('the memory has no block');
const bytes = new Uint8Array(block.buffer);
const data = new Uint8Array(8);
const pageSize = handle.pageSize;

function writeAll(pages: Uint32Array, seed: number): void {
  for (let i = 0; i < pages.length; i++) {
    data[0] = (seed + i) & 0xff;
    writer.write(block!.name, (pages[i] as number) * pageSize + ((i * 64) % (pageSize - 8)), data);
  }
}

function nsPer(fn: () => void, n: number): number {
  const start = performance.now();
  fn();
  return ((performance.now() - start) * 1e6) / n;
}

/** 64 MiB swept between setting up and timing, so that every timed page starts cold. */
const sweep = new Uint8Array(64 << 20);
function evict(): void {
  for (let at = 0; at < sweep.length; at += 64) sweep[at] = (sweep[at] as number) + 1;
}

function plainAll(pages: Uint32Array): void {
  for (let i = 0; i < pages.length; i++) bytes.set(data, (pages[i] as number) * pageSize + ((i * 64) % (pageSize - 8)));
}

const states = new Uint8Array(handle.states);
/** The dirty map the alternative would keep: one byte a page, shared. */
const dirty = new Uint8Array(new SharedArrayBuffer(states.length));
let busy = 0;

/** A plain store after one load of the page's state: what the barrier costs at least. */
function loadedAll(pages: Uint32Array): void {
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i] as number;
    busy += states[page] as number;
    bytes.set(data, page * pageSize + ((i * 64) % (pageSize - 8)));
  }
}

/** The same with a store per write to the dirty map: tracking without a first-write slow path. */
function storedAll(pages: Uint32Array): void {
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i] as number;
    busy += states[page] as number;
    dirty[page] = 1;
    bytes.set(data, page * pageSize + ((i * 64) % (pageSize - 8)));
  }
}

parentPort?.on('message', (command: WriterCommand) => {
  if (command.type === 'write') {
    writeAll(command.pages, command.seed);
    parentPort?.postMessage({ type: 'wrote', writes: command.pages.length } satisfies WriterReply);
    return;
  }
  // Step 1: the written set is written now (no longer clean), then the caches are swept.
  writeAll(command.written, 3);
  evict();
  // Step 2: the three passes, in the order asked (it rotates over rounds).
  const result = { firstNs: 0, againNs: 0, plainNs: 0, loadNs: 0, storeNs: 0 };
  const passes = [
    () => (result.firstNs = nsPer(() => writeAll(command.clean, 1), command.clean.length)),
    () => (result.againNs = nsPer(() => writeAll(command.written, 2), command.written.length)),
    () => (result.plainNs = nsPer(() => plainAll(command.plain), command.plain.length)),
    () => (result.loadNs = nsPer(() => loadedAll(command.loaded), command.loaded.length)),
    () => (result.storeNs = nsPer(() => storedAll(command.stored), command.stored.length)),
  ];
  for (let k = 0; k < passes.length; k++) (passes[(command.order + k) % passes.length] as () => void)();
  if (busy < 0) console.log(busy);
  parentPort?.postMessage({ type: 'measured', ...result } satisfies WriterReply);
});
parentPort?.postMessage({ type: 'ready' } satisfies WriterReply);
