/**
 * A writer thread driven by messages that reports errors instead of dying:
 * `{ read: [block, offset, length] }` answers `{ ok, bytes | error }`,
 * `{ write: [block, offset, length, value] }` answers `{ ok | error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../../src';
import { writerHook } from '../gate';

type Command = { readonly read: readonly [string, number, number] } | { readonly write: readonly [string, number, number, number] };

const { handle, gate } = workerData as { handle: MemoryHandle; gate?: SharedArrayBuffer };
// With a gate, a test can hold this writer at a step (`holdWriterAt`).
const writer = attachMemory(handle, gate === undefined ? {} : { onStep: writerHook(new Int32Array(gate)) });
parentPort?.postMessage({ type: 'attached', id: writer.id });
parentPort?.on('message', (command: Command) => {
  try {
    if ('read' in command) {
      const bytes = writer.read(...command.read);
      parentPort?.postMessage({ ok: true, bytes });
    } else {
      const [block, offset, length, value] = command.write;
      writer.write(block, offset, new Uint8Array(length).fill(value));
      parentPort?.postMessage({ ok: true, writes: writer.writes });
    }
  } catch (error) {
    const e = error as Error & { reason?: string };
    parentPort?.postMessage({ ok: false, name: e.name, reason: e.reason, message: e.message });
  }
});
