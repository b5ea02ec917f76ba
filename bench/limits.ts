/**
 * bench/limits: the machine costs the design relies on (docs/LIMITS.md).
 *
 * Side by side, interleaved round by round, each a median of RUNS runs with
 * its range:
 *   - a 32-bit store into a SharedArrayBuffer, preceded by each kind of
 *     write-barrier check: none; a plain load of the page's state byte; an
 *     `Atomics.load` of it; an `Atomics.store` to a control word, then the
 *     plain load. In cache (the first MiB) and at random over 256 MiB; the
 *     offsets are drawn before timing, the same for every kind;
 *   - a 4 KiB page copy into a pool slot (`slot.set(memory.subarray(...))`),
 *     pages in order and at random;
 *   - 2 MiB copied into a freshly allocated buffer (the kernel faults and
 *     zeroes each page on first touch) and into one touched before;
 *   - a round trip to a worker thread that sleeps in `Atomics.wait` and is
 *     woken by `Atomics.notify` (the cost of waking a writer for a page).
 *
 *   npm run bench:limits          (RUNS=7 by default)
 */
import { Worker } from 'node:worker_threads';
import { median } from './support';

const RUNS = Number(process.env.RUNS ?? 7);
const PAGE = 4096;
const MEMORY = 256 << 20;
const WRITES = 4_000_000;
const PAGE_COPIES = 20_000;
const ROUND_TRIPS = 5_000;

const memory = new Int32Array(new SharedArrayBuffer(MEMORY));
const states = new Uint8Array(new SharedArrayBuffer(MEMORY / PAGE));
const control = new Int32Array(new SharedArrayBuffer(64));
const PAGE_SHIFT = 12 - 2; // int32 index → page

/** Word indexes: the first MiB, or anywhere in 256 MiB. */
function offsets(words: number, seed: number): Int32Array {
  const out = new Int32Array(WRITES);
  let x = seed >>> 0;
  for (let i = 0; i < WRITES; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x % words;
  }
  return out;
}

type Kind = (at: Int32Array) => number;
// Each returns a count so no loop is optimised away; a state byte is never set, so no branch is taken.
const kinds: Record<string, Kind> = {
  'no check': (at) => {
    for (let i = 0; i < at.length; i++) memory[at[i] as number] = i;
    return memory[0] as number;
  },
  'plain load of the state byte': (at) => {
    let skipped = 0;
    for (let i = 0; i < at.length; i++) {
      const w = at[i] as number;
      if (states[w >>> PAGE_SHIFT] !== 0) skipped++;
      else memory[w] = i;
    }
    return skipped;
  },
  'Atomics.load of the state byte': (at) => {
    let skipped = 0;
    for (let i = 0; i < at.length; i++) {
      const w = at[i] as number;
      if (Atomics.load(states, w >>> PAGE_SHIFT) !== 0) skipped++;
      else memory[w] = i;
    }
    return skipped;
  },
  'Atomics.store to a control word, then the plain load': (at) => {
    let skipped = 0;
    for (let i = 0; i < at.length; i++) {
      const w = at[i] as number;
      Atomics.store(control, 0, i);
      if (states[w >>> PAGE_SHIFT] !== 0) skipped++;
      else memory[w] = i;
    }
    return skipped;
  },
};

function nsPer(fn: () => unknown, count: number): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / count;
}

/** "median (min–max)" of a list, to three significant digits. */
function spread(values: readonly number[], unit: string): string {
  const f = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return `${f(median(values))} ${unit} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

async function roundTrips(): Promise<number[]> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const flag = new Int32Array(workerData);
     for (;;) {
       Atomics.wait(flag, 0, 0);
       if (Atomics.load(flag, 0) === 2) break;
       Atomics.store(flag, 0, 0);
       Atomics.store(flag, 1, 1);
       Atomics.notify(flag, 1);
     }`,
    { eval: true, workerData: flag.buffer },
  );
  await new Promise((resolve) => worker.once('online', resolve));
  const results: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ROUND_TRIPS; i++) {
      Atomics.store(flag, 1, 0);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      while (Atomics.wait(flag, 1, 0) === 'ok' && Atomics.load(flag, 1) === 0);
    }
    results.push(Number(process.hrtime.bigint() - start) / 1000 / ROUND_TRIPS);
  }
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  await worker.terminate();
  return results;
}

async function main(): Promise<void> {
  console.log(`bench/limits: ${RUNS} runs each, node ${process.version}; median (min–max)`);
  const inCache = offsets((1 << 20) / 4, 1);
  const random = offsets(MEMORY / 4, 2);
  memory.fill(1); // touched before timing: no first-touch faults

  const barrier = new Map<string, { cache: number[]; random: number[] }>();
  for (const name of Object.keys(kinds)) barrier.set(name, { cache: [], random: [] });
  for (let run = -1; run < RUNS; run++) {
    for (const [name, kind] of Object.entries(kinds)) {
      const cache = nsPer(() => kind(inCache), WRITES);
      const far = nsPer(() => kind(random), WRITES);
      if (run < 0) continue; // the first round warms the JIT
      barrier.get(name)?.cache.push(cache);
      barrier.get(name)?.random.push(far);
    }
  }
  const none = barrier.get('no check');
  console.log('\n32-bit store into a SharedArrayBuffer, per write:');
  for (const [name, r] of barrier) {
    const ratio = none ? ` ×${(median(r.cache) / median(none.cache)).toFixed(1)} / ×${(median(r.random) / median(none.random)).toFixed(2)}` : '';
    console.log(`  ${name.padEnd(54)} in cache ${spread(r.cache, 'ns')}, random over 256 MiB ${spread(r.random, 'ns')};${ratio}`);
  }

  const bytes = new Uint8Array(memory.buffer);
  const slot = new Uint8Array(PAGE).fill(1);
  const pages = MEMORY / PAGE;
  const order = Int32Array.from({ length: PAGE_COPIES }, (_, i) => i % pages);
  const shuffled = Int32Array.from(offsets(pages, 3).subarray(0, PAGE_COPIES));
  const copies = { inOrder: [] as number[], random: [] as number[] };
  for (let run = -1; run < RUNS; run++) {
    const a = nsPer(() => order.forEach((p) => slot.set(bytes.subarray(p * PAGE, p * PAGE + PAGE))), PAGE_COPIES) / 1000;
    const b = nsPer(() => shuffled.forEach((p) => slot.set(bytes.subarray(p * PAGE, p * PAGE + PAGE))), PAGE_COPIES) / 1000;
    if (run < 0) continue;
    copies.inOrder.push(a);
    copies.random.push(b);
  }
  console.log('\n4 KiB page copy into a pool slot:');
  console.log(`  pages in order ${spread(copies.inOrder, 'µs')}, at random ${spread(copies.random, 'µs')}`);

  // A 2 MiB write into memory, as a MemorySink makes it: fresh (first touch) against touched before.
  const source = bytes.subarray(0, 2 << 20);
  const touched = new Uint8Array(2 << 20).fill(1);
  const firstTouch = { fresh: [] as number[], touched: [] as number[] };
  for (let run = -1; run < RUNS; run++) {
    let fresh = new Uint8Array(0);
    const a = nsPer(() => {
      fresh = new Uint8Array(2 << 20);
      fresh.set(source);
    }, 1e6);
    const b = nsPer(() => touched.set(source), 1e6);
    if (fresh.length === 0 || run < 0) continue;
    firstTouch.fresh.push(a);
    firstTouch.touched.push(b);
  }
  console.log('\n2 MiB copied into memory:');
  console.log(`  into a fresh buffer (first touch) ${spread(firstTouch.fresh, 'ms')}, into one touched before ${spread(firstTouch.touched, 'ms')}`);

  const trips = await roundTrips();
  console.log('\nAtomics.notify → worker wakes from Atomics.wait → notify back → main wakes, per round trip:');
  console.log(`  ${spread(trips, 'µs')}`);
}

void main();
