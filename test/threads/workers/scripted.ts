/**
 * A writer thread driven by messages, for tests that need it in a given
 * state: `{ write: [block, offset, length, value] }` writes and answers
 * `wrote`; `{ exit: true }` leaves without detaching; `{ detach: true }` detaches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../../src';

type Command =
  | { readonly write: readonly [string, number, number, number] }
  | { readonly writes: readonly (readonly [string, number, number, number])[] }
  | { readonly exit: true }
  | { readonly detach: true };

const writer = attachMemory((workerData as { handle: MemoryHandle }).handle);
parentPort?.postMessage({ type: 'attached', id: writer.id });
parentPort?.on('message', (command: Command) => {
  if ('write' in command) {
    const [block, offset, length, value] = command.write;
    writer.write(block, offset, new Uint8Array(length).fill(value));
    parentPort?.postMessage({ type: 'wrote', writes: writer.writes, faults: writer.faults });
  } else if ('writes' in command) {
    for (const [block, offset, length, value] of command.writes) writer.write(block, offset, new Uint8Array(length).fill(value));
    parentPort?.postMessage({ type: 'wrote', writes: writer.writes, faults: writer.faults });
  } else if ('detach' in command) {
    writer.detach();
    parentPort?.postMessage({ type: 'detached' });
  } else {
    process.exit(0);
  }
});
