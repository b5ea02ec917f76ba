/**
 * bench/calibrate: how close the simulator comes to a real run.
 *
 * For each configuration, the same pipeline runs twice with the same seeded
 * workload (2 writers, uniform pages, exponential think times):
 *   - simulated: `simulate()` in virtual time over a GeometryMemory;
 *   - real: `snapshot()` in real time over a 256 MiB PagedMemory, into a
 *     ThrottledSink (the real-time device model from src/storage) over a
 *     MemorySink, with in-process writers: async loops that pace themselves on
 *     setImmediate and await `memory.write`.
 * It prints the predicted and measured duration, faults, writer stall p50/p99
 * and the writers' blocked share, with the ratio simulated / real (goal:
 * within 2×).
 *
 *   npx ts-node --transpile-only bench/calibrate.ts          (about a minute)
 *   QUICK=1 npx ts-node --transpile-only bench/calibrate.ts  (skips the 30 s hdd run)
 */
import { filter, lastValueFrom } from 'rxjs';
import {
  GeometryMemory,
  MemorySink,
  PagedMemory,
  simulate,
  snapshot,
  ThrottledSink,
  type SnapshotStats,
  type StorageProfile,
  type StorageProfileName,
  type StrategyName,
} from '../src';
import { resolveProfile } from '../src/storage/profiles';
import { formatDuration, formatMs, formatShare } from '../src/sim/format';
import { randomStreams, type RandomStream } from '../src/sim/random';
import { PageChooser, resolveWorkload } from '../src/sim/workload';
import { printTable } from './support';

const SIZE = 256 * 2 ** 20;
const PAGE = 4096;
const SEED = 1;
const WRITERS = 2;

interface Config {
  readonly name: string;
  readonly storage: StorageProfileName | Required<StorageProfile>;
  readonly strategy: StrategyName;
  readonly writesPerSecond: number;
}

/** A slow SSD or a busy disk array: per-write latency well above the timers' millisecond. */
const SLOW_SSD: Required<StorageProfile> = { bandwidth: 100e6, latency: 2, queueDepth: 4 };

const CONFIGS: Config[] = [
  { name: 'slow ssd, queue', storage: SLOW_SSD, strategy: 'queue', writesPerSecond: 1000 },
  { name: 'slow ssd, copy', storage: SLOW_SSD, strategy: 'copy', writesPerSecond: 1000 },
  { name: 'ssd, queue', storage: 'ssd', strategy: 'queue', writesPerSecond: 1000 },
  { name: 'ssd, copy', storage: 'ssd', strategy: 'copy', writesPerSecond: 1000 },
  ...(process.env.QUICK ? [] : [{ name: 'hdd, queue', storage: 'hdd', strategy: 'queue', writesPerSecond: 100 } as const]),
];

/** What one run reports: the pipeline's stats and the writers' side. */
interface Outcome {
  readonly stats: SnapshotStats;
  readonly writes: number;
  readonly blockedShare: number;
  readonly wallMs: number;
}

/** The sink's credits: the device's queue depth, as `simulate` defaults to. */
function capacityOf(storage: Config['storage']): number {
  return resolveProfile(storage).queueDepth;
}

function simulated(config: Config): Outcome {
  const started = performance.now();
  const memory = new GeometryMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: SIZE }] });
  const r = simulate(memory, {
    strategy: config.strategy,
    storage: config.storage,
    capacity: capacityOf(config.storage),
    workload: { writers: WRITERS, writesPerSecond: config.writesPerSecond },
    seed: SEED,
  });
  return { stats: r.stats, writes: r.workload.writes, blockedShare: r.workload.blockedShare, wallMs: performance.now() - started };
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function real(config: Config): Promise<Outcome> {
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: SIZE }] });
  const sink = new ThrottledSink(new MemorySink({ capacity: capacityOf(config.storage) }), { profile: config.storage });
  // The simulator's workload, drawn the same way from the same seed: stream 0 places the pages.
  const workload = resolveWorkload({ writers: WRITERS, writesPerSecond: config.writesPerSecond }, SIZE);
  const streams = randomStreams(SEED, WRITERS + 1);
  const offset = Math.floor((streams.shift() as RandomStream).next() * memory.pageCount);
  const chooser = new PageChooser(memory.pageCount, PAGE, workload, offset);
  const meanThinkMs = 1000 / config.writesPerSecond;

  let done = false;
  let writes = 0;
  let blockedMs = 0;
  const writer = async (random: RandomStream): Promise<void> => {
    const data = new Uint8Array(64).fill(7);
    let due = performance.now() + random.exponential(meanThinkMs);
    while (!done) {
      // Step 1: think until the next write is due, yielding to the pipeline meanwhile.
      await immediate();
      if (performance.now() < due) continue;
      // Step 2: write one page through the write barrier; a protected page blocks the writer.
      const page = chooser.pick(random);
      const blocked = memory.states[page] !== 0;
      const before = performance.now();
      await memory.write('ram', page * PAGE, data);
      writes++;
      const after = performance.now();
      if (blocked) blockedMs += after - before;
      due = after + random.exponential(meanThinkMs);
    }
  };

  const started = performance.now();
  const done$ = snapshot(memory, sink, { strategy: config.strategy }).pipe(filter((e) => e.type === 'done'));
  const result = lastValueFrom(done$);
  const writers = streams.map((random) => writer(random));
  const event = await result;
  done = true;
  await Promise.all(writers);
  if (event.type !== 'done') throw new Error('no done event');
  const blockedShare = blockedMs / (WRITERS * event.stats.durationMs);
  return { stats: event.stats, writes, blockedShare, wallMs: performance.now() - started };
}

function ratio(sim: number, measured: number): string {
  if (sim === 0 && measured === 0) return '=';
  if (measured === 0 || sim === 0) return '—';
  return `${(sim / measured).toFixed(2)}×`;
}

async function main(): Promise<void> {
  console.log(`bench/calibrate: 256 MiB, ${PAGE} B pages, ${WRITERS} writers, seed ${SEED}, node ${process.version}`);
  const rows: string[][] = [['config', 'metric', 'simulated', 'real', 'sim / real']];
  for (const config of CONFIGS) {
    const sim = simulated(config);
    const run = await real(config);
    const line = (metric: string, a: string, b: string, r: string): void => void rows.push([config.name, metric, a, b, r]);
    line('duration', formatDuration(sim.stats.durationMs), formatDuration(run.stats.durationMs), ratio(sim.stats.durationMs, run.stats.durationMs));
    line('faults', String(sim.stats.faults), String(run.stats.faults), ratio(sim.stats.faults, run.stats.faults));
    line('stall p50', formatMs(sim.stats.stall.p50), formatMs(run.stats.stall.p50), ratio(sim.stats.stall.p50, run.stats.stall.p50));
    line('stall p99', formatMs(sim.stats.stall.p99), formatMs(run.stats.stall.p99), ratio(sim.stats.stall.p99, run.stats.stall.p99));
    line('writes', String(sim.writes), String(run.writes), ratio(sim.writes, run.writes));
    line('blocked', formatShare(sim.blockedShare), formatShare(run.blockedShare), ratio(sim.blockedShare, run.blockedShare));
    line('pages via bulk/fault/copy', savedOf(sim.stats), savedOf(run.stats), '');
    console.error(`${config.name}: simulated in ${(sim.wallMs / 1000).toFixed(2)} s, real run ${(run.wallMs / 1000).toFixed(1)} s`);
  }
  printTable(rows);
}

function savedOf(stats: SnapshotStats): string {
  return `${stats.saved.bulk}/${stats.saved.fault}/${stats.saved.copy}`;
}

void main();
