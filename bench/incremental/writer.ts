/**
 * The writer thread of bench/incremental.ts: on each message, writes 8
 * bytes into each of the pages it is sent (a write per page, at a random
 * offset in it), through the barrier, and replies with the time per write.
 * `measure` also times a pass over pages that were clean (their first
 * write since the last committed snapshot) against a second pass over the
 * same pages, now written, and against plain stores that bypass the barrier.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../src';

export type WriterCommand =
  | { readonly type: 'write'; readonly pages: Uint32Array; readonly seed: number }
  | { readonly type: 'measure'; readonly pages: Uint32Array };

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

parentPort?.on('message', (command: WriterCommand) => {
  if (command.type === 'write') {
    writeAll(command.pages, command.seed);
    parentPort?.postMessage({ type: 'wrote', writes: command.pages.length } satisfies WriterReply);
    return;
  }
  const pages = command.pages;
  const firstNs = nsPer(() => writeAll(pages, 1), pages.length);
  const againNs = nsPer(() => writeAll(pages, 2), pages.length);
  const plainNs = nsPer(() => {
    for (let i = 0; i < pages.length; i++) bytes.set(data, (pages[i] as number) * pageSize + ((i * 64) % (pageSize - 8)));
  }, pages.length);
  parentPort?.postMessage({ type: 'measured', firstNs, againNs, plainNs } satisfies WriterReply);
});
parentPort?.postMessage({ type: 'ready' } satisfies WriterReply);
