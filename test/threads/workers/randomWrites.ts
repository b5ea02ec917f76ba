/**
 * A writer thread for the tests: writes at full speed, until told to stop,
 * a sequence of writes that `writeLog` regenerates from the same seed. Each
 * writer owns its bytes (a lane of every page of `shared`, and a part of
 * `own`), so replaying the logs in any interleaving gives the same memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryHandle } from '../../../src';
import { writeLog, type LogShape } from './writeLog';

interface Data {
  readonly handle: MemoryHandle;
  readonly shape: LogShape;
  /** Int32 flags: [0] go, [1] stop. */
  readonly flags: SharedArrayBuffer;
  /** Stop after this many writes even without the flag. */
  readonly maxWrites?: number;
}

const data = workerData as Data;
const writer = attachMemory(data.handle);
const flags = new Int32Array(data.flags);
parentPort?.postMessage({ type: 'attached', id: writer.id });
Atomics.wait(flags, 0, 0);
const log = writeLog(data.shape, writer.id);
const max = data.maxWrites ?? Infinity;
for (let k = 0; k < max && Atomics.load(flags, 1) === 0; k++) {
  const w = log.next();
  writer.write(w.block, w.offset, w.data);
}
parentPort?.postMessage({ type: 'finished', id: writer.id, writes: writer.writes, faults: writer.faults });
writer.detach();
