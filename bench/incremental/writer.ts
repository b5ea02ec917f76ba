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
  | { readonly type: 'measure'; readonly clean: Uint32Array; readonly written: Uint32Array; readonly plain: Uint32Array; readonly order: number };

export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'wrote'; readonly writes: number }
  /** Nanoseconds per write: the first write to a clean page, a write to a written page, and a plain store. */
  | { readonly type: 'measured'; readonly firstNs: number; readonly againNs: number; readonly plainNs: number };

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
  const result = { firstNs: 0, againNs: 0, plainNs: 0 };
  const passes = [
    () => (result.firstNs = nsPer(() => writeAll(command.clean, 1), command.clean.length)),
    () => (result.againNs = nsPer(() => writeAll(command.written, 2), command.written.length)),
    () => (result.plainNs = nsPer(() => plainAll(command.plain), command.plain.length)),
  ];
  for (let k = 0; k < 3; k++) (passes[(command.order + k) % 3] as () => void)();
  parentPort?.postMessage({ type: 'measured', ...result } satisfies WriterReply);
});
parentPort?.postMessage({ type: 'ready' } satisfies WriterReply);
