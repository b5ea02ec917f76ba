/**
 * A "vCPU" for demos/workers.ts. For each guest it is given, it attaches to
 * the shared memory and writes 8 random bytes at random places, as fast as
 * it can, until the flag in `stop` is set; then it reports what faults cost it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from 'bgsnap';

let x = (workerData as { seed: number }).seed;
const data = new Uint8Array(8);

parentPort?.on('message', ({ handle, stop }: { handle: MemoryHandle; stop: SharedArrayBuffer }) => {
  const writer = attachMemory(handle); // This thread's writer: ids 0, 1, … in attach order.
  const halt = new Int32Array(stop);
  const slots = (handle.blocks[0]?.size ?? 0) / 8;
  parentPort?.postMessage('running');
  while (Atomics.load(halt, 0) === 0) {
    for (let i = 0; i < 1024; i++) {
      x ^= x << 13; // xorshift32
      x ^= x >>> 17;
      x ^= x << 5;
      data[0] = x;
      data[7] = x >>> 8;
      // Synchronous: on a protected page this thread copies the page itself (copy) or waits for it (queue).
      writer.write('ram', ((x >>> 0) % slots) * 8, data);
    }
  }
  writer.detach();
  parentPort?.postMessage({ id: writer.id, writes: writer.writes, faults: writer.faults });
});
