/**
 * A writer thread for interleaving tests: writes its log (`writeLog`) until
 * told to stop, with a step hook that a `gate` can hold at a named step. With
 * `burst`, it sleeps `pauseUs` after every `burst` writes, like a bursty host.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, WriterDetachedError, type MemoryHandle } from '../../../src';
import { Gate, writerHook } from '../gate';
import { writeLog, type LogShape } from './writeLog';

interface Data {
  readonly handle: MemoryHandle;
  readonly shape: LogShape;
  readonly gate: SharedArrayBuffer;
  /** Hooks between steps (the gate); without, the plain fast path. */
  readonly stepped: boolean;
  readonly emulateStoreBuffer: boolean;
  readonly burst?: number;
  readonly pauseUs?: number;
}

const data = workerData as Data;
const gate = new Int32Array(data.gate);
const writer = attachMemory(data.handle, data.stepped ? { onStep: writerHook(gate), emulateStoreBuffer: data.emulateStoreBuffer } : {});
parentPort?.postMessage({ type: 'attached', id: writer.id });
const log = writeLog(data.shape, writer.id);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const burst = data.burst ?? Infinity;
let gone = false;
for (let k = 1; Atomics.load(gate, Gate.Stop) === 0; k++) {
  const w = log.next();
  try {
    writer.write(w.block, w.offset, w.data);
  } catch (error) {
    // Declared gone by a safe point that timed out on it: it may not write again.
    if (!(error instanceof WriterDetachedError)) throw error;
    gone = true;
    break;
  }
  if (k % 64 === 0) Atomics.store(gate, Gate.Writes, writer.writes);
  if (k % burst === 0) Atomics.wait(sleeper, 0, 0, (data.pauseUs ?? 50) / 1000);
}
Atomics.store(gate, Gate.Writes, writer.writes);
parentPort?.postMessage({ type: 'finished', id: writer.id, writes: writer.writes, faults: writer.faults, gone });
writer.detach();
