/**
 * A writer thread of bench/workers.ts: random writes of 8 to 64 bytes all
 * over the memory's first block, from offsets and lengths drawn once at start,
 * so that checked and unchecked loops replay exactly the same writes. Each
 * phase (`Command`) runs synchronously; flags in shared memory end it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory, type MemoryWriter } from '../../src';
import { Flag, type Command, type Reply, type WriterData } from './protocol';

const { handle, flags: flagBuffer, seed, writes: count } = workerData as WriterData;
const flags = new Int32Array(flagBuffer);
const block = handle.blocks[0];
if (block === undefined) throw new Error('the memory has no block');
const name = block.name;
/** The block itself: writing it bypasses the barrier. */
const bytes = new Uint8Array(block.buffer);

// The writes: offsets anywhere in the block, lengths 8..64, data views made once.
const offsets = new Uint32Array(count);
const lengths = new Uint8Array(count);
const source = new Uint8Array(64).map((_, i) => (seed * 31 + i) & 0xff);
const views = Array.from({ length: 65 }, (_, n) => source.subarray(0, n));
let s = (seed * 0x9e3779b1) >>> 0 || 1;
const rand = (): number => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
};
for (let i = 0; i < count; i++) {
  const length = 8 + (rand() % 57);
  lengths[i] = length;
  offsets[i] = rand() % (block.size - length + 1);
}
/** The same writes folded into the first MiB: the barrier's own cost, with data and page states in cache. */
const NEAR = Math.min(1 << 20, block.size);
const nearOffsets = offsets.map((o) => o % (NEAR - 64));

function checked(writer: MemoryWriter, from: number, to: number, at = offsets): void {
  for (let i = from; i < to; i++) writer.write(name, at[i] as number, views[lengths[i] as number] as Uint8Array);
}

function unchecked(from: number, to: number, at = offsets): void {
  for (let i = from; i < to; i++) bytes.set(views[lengths[i] as number] as Uint8Array, at[i] as number);
}

const states = new Uint8Array(handle.states);
const shift = Math.log2(handle.pageSize);
const first = block.firstPage;

/** The unchecked loop with one plain load of the page's state byte, as the write barrier's floor. */
function mapLoad(from: number, to: number, at = offsets): number {
  let busy = 0;
  for (let i = from; i < to; i++) {
    const offset = at[i] as number;
    busy += states[first + (offset >>> shift)] as number;
    bytes.set(views[lengths[i] as number] as Uint8Array, offset);
  }
  return busy;
}

/** Nanoseconds per write of `run` over writes `from` to `to`. */
function nsPerWrite(run: (from: number, to: number) => void, from: number, to: number): number {
  const start = performance.now();
  run(from, to);
  return ((performance.now() - start) * 1e6) / (to - from);
}

const stopped = (): boolean => Atomics.load(flags, Flag.Stop) !== 0;
const reply = (message: Reply): void => parentPort?.postMessage(message);

/** With no snapshot: rounds of the same writes through the barrier and without it, in alternating order. */
function barrier(rounds: number, near: boolean): Reply {
  const writer = attachMemory(handle);
  const at = near ? nearOffsets : offsets;
  const viaBarrier = (from: number, to: number): void => checked(writer, from, to, at);
  const direct = (from: number, to: number): void => unchecked(from, to, at);
  nsPerWrite(viaBarrier, 0, count); // Warm-up of both loops.
  nsPerWrite(direct, 0, count);
  const loaded = (from: number, to: number): void => void mapLoad(from, to, at);
  nsPerWrite(loaded, 0, count);
  const result = { checked: [] as number[], unchecked: [] as number[], mapLoad: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    // The three loops in a rotating order, so none always runs first.
    const order = [
      () => result.checked.push(nsPerWrite(viaBarrier, 0, count)),
      () => result.unchecked.push(nsPerWrite(direct, 0, count)),
      () => result.mapLoad.push(nsPerWrite(loaded, 0, count)),
    ];
    for (let k = 0; k < 3; k++) (order[(r + k) % 3] as () => number)();
  }
  writer.detach();
  return { type: 'barrier', ...result };
}

/** Full speed through the barrier until stopped, as a fresh writer, so its fault figures are this phase's. */
function write(): Reply {
  const writer = attachMemory(handle);
  reply({ type: 'writing' });
  const chunk = 1024;
  for (let i = 0; !stopped(); i = (i + chunk) % count) checked(writer, i, Math.min(i + chunk, count));
  writer.detach();
  return { type: 'wrote', id: writer.id, writes: writer.writes, faults: writer.faults };
}

/**
 * Alternating rounds, checked and unchecked, until stopped. A pair of rounds
 * counts when one snapshot ran from before its first round to after its
 * second. The unchecked rounds bypass the barrier, so that snapshot's image is
 * no consistent cut; the benchmark does not use it.
 */
function barrierDuringSnapshot(roundWrites: number): Reply {
  const writer = attachMemory(handle);
  const viaBarrier = (from: number, to: number): void => checked(writer, from, to);
  const result = { checked: [] as number[], unchecked: [] as number[] };
  reply({ type: 'writing' });
  for (let i = 0, pair = 0; !stopped(); i = (i + roundWrites) % count, pair++) {
    const end = Math.min(i + roundWrites, count);
    const before = Atomics.load(flags, Flag.Snapshot);
    const first = pair % 2 === 0 ? viaBarrier : unchecked;
    const second = pair % 2 === 0 ? unchecked : viaBarrier;
    const a = nsPerWrite(first, i, end);
    const b = nsPerWrite(second, i, end);
    if (before === 0 || Atomics.load(flags, Flag.Snapshot) !== before) continue;
    result.checked.push(pair % 2 === 0 ? a : b);
    result.unchecked.push(pair % 2 === 0 ? b : a);
  }
  writer.detach();
  return { type: 'barrierDuringSnapshot', ...result, faults: writer.faults };
}

/** Unchecked writes; at each halt, park (Atomics.wait) until the world resumes, and time the pause. */
function stopTheWorld(): Reply {
  const pauses: number[] = [];
  reply({ type: 'writing' });
  for (let i = 0; !stopped(); i = (i + 1) % count) {
    if (Atomics.load(flags, Flag.Halt) !== 0) {
      const start = performance.now();
      Atomics.add(flags, Flag.Halted, 1);
      Atomics.notify(flags, Flag.Halted);
      while (Atomics.load(flags, Flag.Halt) !== 0) Atomics.wait(flags, Flag.Halt, 1);
      pauses.push(performance.now() - start);
    }
    bytes.set(views[lengths[i] as number] as Uint8Array, offsets[i] as number);
  }
  return { type: 'stopTheWorld', pauses };
}

parentPort?.on('message', (command: Command) => {
  switch (command.type) {
    case 'barrier':
      return reply(barrier(command.rounds, command.near));
    case 'write':
      return reply(write());
    case 'barrierDuringSnapshot':
      return reply(barrierDuringSnapshot(command.roundWrites));
    case 'stopTheWorld':
      return reply(stopTheWorld());
  }
});
reply({ type: 'ready' });
