/**
 * A writer thread for the live-restore tests: on `{ go: true }` it runs its
 * script of reads and writes through `attachMemory`, as soon as it can, and
 * answers with what it saw: reads whose bytes differ from the expected image
 * (`mismatches`), and the names of the errors its accesses met.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../../src';

export interface Access {
  readonly kind: 'read' | 'write';
  readonly block: string;
  readonly offset: number;
  readonly length: number;
  readonly value: number;
}

const { handle, image, script } = workerData as { handle: MemoryHandle; image: Record<string, Uint8Array>; script: readonly Access[] };
const writer = attachMemory(handle);
parentPort?.postMessage({ type: 'attached' });
parentPort?.once('message', () => {
  let mismatches = 0;
  const errors: string[] = [];
  const applied: number[] = [];
  script.forEach((a, i) => {
    try {
      if (a.kind === 'write') {
        writer.write(a.block, a.offset, new Uint8Array(a.length).fill(a.value));
        applied.push(i);
      } else {
        const bytes = writer.read(a.block, a.offset, a.length);
        const want = (image[a.block] as Uint8Array).subarray(a.offset, a.offset + a.length);
        if (Buffer.compare(bytes, want) !== 0) mismatches++;
      }
    } catch (error) {
      errors.push((error as Error).name);
    }
  });
  parentPort?.postMessage({ type: 'done', mismatches, errors, applied, faults: writer.faults.count });
});
