/**
 * A vCPU of `bgsnap run`: a worker thread that attaches to the guest memory
 * and writes one 8-byte word at a time through the write barrier, at the
 * workload's pages and rate, until `Flag.Stop`. A write that finds its page
 * protected (or not loaded yet, under a live restore) is timed, so that the
 * command can plot every fault's stall.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { blocksWrites } from '../../memory/contract';
import { attachMemory } from '../../threads/attachMemory';
import { Flag, type VcpuData, type VcpuMessage } from './protocol';
import { WRITE_BYTES, workloadStream, writeStream } from './workload';

const data = workerData as VcpuData;
const flags = new Int32Array(data.flags);
const block = data.handle.blocks[0];
if (block === undefined) throw new Error('the guest memory has no block');
const { name, firstPage, pages } = block;
const writer = attachMemory(data.handle);
const post = (message: VcpuMessage): void => parentPort?.postMessage(message);
post({ type: 'attached', id: writer.id });

// Step 1: wait for the go (or an early stop).
while (Atomics.load(flags, Flag.Go) === 0 && Atomics.load(flags, Flag.Stop) === 0) Atomics.wait(flags, Flag.Go, 0, 100);

// Step 2: the writes. The page states are read to tell which writes will fault: those are timed.
const { pageSize } = data.handle;
const pageShift = Math.log2(pageSize);
const states = new Uint8Array(data.handle.states);
const stream = writeStream({ workload: data.workload, pages, pageSize, vcpus: data.vcpus, vcpu: data.vcpu, seed: data.seed });
const word = new Uint8Array(WRITE_BYTES);
const words = new Uint32Array(word.buffer);
words[0] = writer.id;
/** Stalls kept, in microseconds: the array grows by doubling up to `sampleLimit`. */
let samples = new Float64Array(Math.min(1024, data.sampleLimit));
let timed = 0;
/** When the first write completed (wall ms), for `run --from`. */
let firstWriteAt: number | undefined;
/** Draws for the uniform sample of stalls: the vCPU's second stream of the seed. */
const picks = workloadStream(data.seed, data.vcpus, data.vcpus + data.vcpu);

function writeOnce(): void {
  const offset = stream.next();
  words[1] = writer.writes;
  if (!blocksWrites(states[firstPage + (offset >>> pageShift)] as number)) {
    writer.write(name, offset, word);
  } else {
    const start = performance.now();
    writer.write(name, offset, word);
    keep((performance.now() - start) * 1000);
  }
  firstWriteAt ??= performance.timeOrigin + performance.now();
}

/** Keeps a stall: all of them up to the limit, then each with the chance that keeps the sample uniform. */
function keep(micros: number): void {
  if (timed === samples.length && samples.length < data.sampleLimit) {
    const grown = new Float64Array(Math.min(2 * samples.length, data.sampleLimit));
    grown.set(samples);
    samples = grown;
  }
  if (timed < samples.length) samples[timed] = micros;
  else {
    const slot = Math.floor(picks.next() * (timed + 1));
    if (slot < samples.length) samples[slot] = micros;
  }
  timed++;
}

const stopped = (): boolean => Atomics.load(flags, Flag.Stop) !== 0;
const rate = data.writesPerSecond;
if (rate === 'max') {
  while (!stopped()) for (let i = 0; i < 256; i++) writeOnce();
} else {
  // A token bucket: writes earn credit with time; a vCPU blocked on a fault catches up
  // at most 10 ms of writes, and sleeps at least a millisecond at a time.
  const perMs = rate / 1000;
  const batch = Math.max(1, Math.floor(perMs));
  const burst = Math.max(batch, rate / 100);
  let credit = 0;
  let last = performance.now();
  while (!stopped()) {
    const now = performance.now();
    credit = Math.min(burst, credit + (now - last) * perMs);
    last = now;
    if (credit < batch) {
      Atomics.wait(flags, Flag.Stop, 0, (batch - credit) / perMs);
      continue;
    }
    for (; credit >= 1; credit--) writeOnce();
  }
}

// Step 3: leave the memory and report.
writer.detach();
post({
  type: 'finished',
  id: writer.id,
  writes: writer.writes,
  faults: writer.faults,
  stalls: { timed, micros: samples.slice(0, Math.min(timed, samples.length)) },
  firstWriteAt,
});
