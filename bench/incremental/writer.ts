/**
 * The writer thread of bench/incremental.ts: on each message, writes 8
 * bytes into each of the pages it is sent (a write per page), through the
 * barrier, and replies. `measure` times the first write to a clean page (its
 * first since the last committed snapshot) against a write to a page already
 * written, a plain store, and a store per write to a dirty map.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, PageState, type MemoryHandle } from '../../src';

export type WriterCommand =
  | { readonly type: 'write'; readonly pages: Uint32Array; readonly seed: number }
  /**
   * Rounds over one small set of pages (it stays in the caches): before each
   * round the pages are made clean (as a committed snapshot leaves them), then
   * timed: the first write to each, a write to each now written, a plain
   * store, a plain store after a load of the page's state (the barrier's
   * floor), and that with a store per write to a dirty map (tracking without
   * a slow path). Medians over the rounds.
   */
  | { readonly type: 'measure'; readonly pages: Uint32Array; readonly rounds: number };

export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'wrote'; readonly writes: number }
  /** Nanoseconds per write, medians over the rounds. */
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

function median(values: number[]): number {
  values.sort((x, y) => x - y);
  return values[values.length >> 1] as number;
}

parentPort?.on('message', (command: WriterCommand) => {
  if (command.type === 'write') {
    writeAll(command.pages, command.seed);
    parentPort?.postMessage({ type: 'wrote', writes: command.pages.length } satisfies WriterReply);
    return;
  }
  const { pages, rounds } = command;
  const n = pages.length;
  const times = { first: [] as number[], again: [] as number[], plain: [] as number[], load: [] as number[], store: [] as number[] };
  const others = [
    () => times.again.push(nsPer(() => writeAll(pages, 2), n)),
    () => times.plain.push(nsPer(() => plainAll(pages), n)),
    () => times.load.push(nsPer(() => loadedAll(pages), n)),
    () => times.store.push(nsPer(() => storedAll(pages), n)),
  ];
  for (let r = 0; r < rounds; r++) {
    // Step 1: clean, as a committed snapshot leaves them (no snapshot runs: nobody else moves them).
    for (let i = 0; i < n; i++) Atomics.store(states, pages[i] as number, PageState.Clean);
    // Step 2: the first write to each, then the other loops in a rotating order.
    times.first.push(nsPer(() => writeAll(pages, 1), n));
    for (let k = 0; k < others.length; k++) (others[(r + k) % others.length] as () => void)();
  }
  if (busy < 0) console.log(busy);
  parentPort?.postMessage({
    type: 'measured',
    firstNs: median(times.first),
    againNs: median(times.again),
    plainNs: median(times.plain),
    loadNs: median(times.load),
    storeNs: median(times.store),
  } satisfies WriterReply);
});
parentPort?.postMessage({ type: 'ready' } satisfies WriterReply);
