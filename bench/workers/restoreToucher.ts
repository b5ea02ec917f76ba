/**
 * A writer thread for bench/restore: `{ first: page }` writes one word at
 * `page` and answers with the wall time (ms since the epoch) the write
 * completed; `{ touch: { pages, everyUs, seed } }` reads a word of a random
 * page every `everyUs` until `stop` is set, then answers with its faults.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../src';

const { handle, stop } = workerData as { handle: MemoryHandle; stop: SharedArrayBuffer };
const flags = new Int32Array(stop);
const writer = attachMemory(handle);
const PAGE = handle.pageSize;
parentPort?.postMessage({ type: 'attached' });
parentPort?.on('message', (command: { first?: number; touch?: { pages: number; everyUs: number; seed: number } }) => {
  if (command.first !== undefined) {
    writer.write('ram', command.first * PAGE, Uint8Array.of(1, 2, 3, 4));
    parentPort?.postMessage({ at: performance.timeOrigin + performance.now() });
    return;
  }
  const { pages, everyUs, seed } = command.touch as { pages: number; everyUs: number; seed: number };
  let a = seed >>> 0;
  let next = performance.now();
  while (Atomics.load(flags, 0) === 0) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    writer.read('ram', (a % pages) * PAGE, 4);
    next += everyUs / 1000;
    // Sleep, not spin, until the next read: a spinning toucher would take a core from the loader.
    const left = next - performance.now();
    if (left > 0) Atomics.wait(flags, 0, 0, left);
  }
  parentPort?.postMessage({ faults: writer.faults });
});
