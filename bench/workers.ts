/**
 * bench/workers: writer threads under a snapshot.
 *
 * Two worker threads (bench/workers/writer.ts) write 8 to 64 bytes at random
 * offsets all over a 1 GiB PagedMemory of 4 KiB pages, at full speed. In one
 * run, side by side:
 *   - the barrier's cost per `writer.write` call, against an unchecked loop
 *     (`bytes.set` on the block's own SharedArrayBuffer) over the same
 *     precomputed writes in the same thread: alternating rounds, medians;
 *     with no snapshot (also with the writes folded into one MiB, to tell the
 *     barrier's own cost from its cache misses), then while snapshots run;
 *   - the writers' stall per fault, as they measure it (`writer.faults.stall`),
 *     under `queue` and `copy`, snapshotting into a MemorySink behind a
 *     ThrottledSink (the `ssd` profile unless told otherwise, with the
 *     profile's queue depth in flight), so that a snapshot lasts seconds and
 *     the writers fault many times;
 *   - the t0 pause: the saver's `t0PauseMs` and the writers' longest pause,
 *     for every snapshot taken, plus a few into an unthrottled MemorySink;
 *   - for comparison, stop the world: the writers park on a shared flag, the
 *     main thread copies the memory into a pre-touched buffer, they resume.
 * Prints tables, and the goals next to what was measured.
 *
 *   npm run bench:workers                      (1 GiB, 7 rounds, ssd, 2 writers)
 *   npm run bench:workers -- --gib 0.25 --rounds 5 --storage nvme --writers 1 --pool 16384
 *   (or the environment: GIB, ROUNDS, STORAGE, WRITERS, POOL)
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { finalize, lastValueFrom, tap } from 'rxjs';
import {
  MemorySink,
  PagedMemory,
  snapshot,
  storageProfiles,
  ThrottledSink,
  type Sink,
  type SnapshotStats,
  type StorageProfileName,
  type WriterFaults,
} from '../src';
import { median, printTable } from './support';
import { FLAG_WORDS, Flag, type Command, type Reply, type WriterData } from './workers/protocol';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : (process.env[name.toUpperCase()] ?? fallback);
}

const GIB = Number(option('gib', '1'));
const ROUNDS = Number(option('rounds', '7'));
const STORAGE = option('storage', 'ssd') as StorageProfileName;
const PAGE = 4096;
const WRITERS = Number(option('writers', '2'));
/** Pages of the copy pool (the library's default for 4 KiB pages: 256). */
const POOL = Number(option('pool', '256'));
/** Precomputed writes per writer: one barrier round. */
const WRITES = 1 << 20;
/** Writes per round while a snapshot runs: short, as faults make them slow. */
const SNAPSHOT_ROUND_WRITES = 256;
/** Extra snapshots, unthrottled, for the t0 pause. */
const T0_RUNS = 5;
const size = Math.round((GIB * 1024 ** 3) / PAGE) * PAGE;
const gib = size / 1024 ** 3;

const us = (ms: number): number => ms * 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** A worker's replies, queued, so that none is missed between awaits. */
class Mailbox {
  private readonly queue: Reply[] = [];
  private waiting: { resolve: (reply: Reply) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;

  constructor(readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting !== undefined) waiting.resolve(reply);
      else this.queue.push(reply);
    });
    const fail = (error: unknown): void => {
      this.failure ??= error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`writer thread exited with code ${code}`)));
  }

  async next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    const queued = this.queue.shift();
    const reply =
      queued ??
      (this.failure !== undefined
        ? Promise.reject(this.failure)
        : new Promise<Reply>((resolve, reject) => (this.waiting = { resolve, reject })));
    const r = await reply;
    if (r.type !== type) throw new Error(`expected ${type} from a writer thread, got ${r.type}`);
    return r as Extract<Reply, { type: T }>;
  }
}

async function main(): Promise<void> {
  const profile = storageProfiles[STORAGE];
  if (profile === undefined || !(size > 0) || !(ROUNDS >= 1) || !(WRITERS >= 1)) {
    throw new Error('usage: bench/workers.ts [--gib <GiB>] [--rounds <n>] [--storage hdd|ssd|nvme] [--writers <n>]');
  }
  console.log(
    `bench/workers: ${gib} GiB in ${size / PAGE} pages of ${PAGE} B, ${WRITERS} writer threads, ` +
      `node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );

  // The memory, every page holding data (and so backed by RAM before anything is timed).
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size }] });
  const ram = memory.block('ram').bytes;
  for (let o = 0; o < size; o += PAGE) ram.fill((o / PAGE) & 0xff || 1, o, o + PAGE);
  const handle = memory.share({ poolBytes: Math.max(16 * 1024 ** 2, POOL * PAGE) });
  const image = new MemorySink({ capacity: profile.queueDepth });
  await lastValueFrom(snapshot(memory, image)); // Allocates and touches the sink's image.
  const throttled = new ThrottledSink(image, { profile: STORAGE });

  // The writer threads, each with its own precomputed writes.
  const flags = new Int32Array(new SharedArrayBuffer(FLAG_WORDS * 4));
  const mailboxes = Array.from({ length: WRITERS }, (_, i) => {
    const workerData: WriterData = { handle, flags: flags.buffer as SharedArrayBuffer, seed: i + 1, writes: WRITES };
    const worker = new Worker(join(__dirname, 'workers', 'writer.ts'), {
      workerData,
      execArgv: ['--require', 'ts-node/register/transpile-only'],
    });
    return new Mailbox(worker);
  });
  await Promise.all(mailboxes.map((m) => m.next('ready')));

  /** Runs `command` on every writer; once all are writing, `during`; then stops them and collects their replies. */
  async function whileWriting<T extends Reply['type'], R>(
    command: Command,
    result: T,
    during: () => Promise<R>,
  ): Promise<[R, Extract<Reply, { type: T }>[]]> {
    Atomics.store(flags, Flag.Stop, 0);
    for (const m of mailboxes) m.worker.postMessage(command);
    await Promise.all(mailboxes.map((m) => m.next('writing')));
    const value = await during();
    Atomics.store(flags, Flag.Stop, 1);
    return [value, await Promise.all(mailboxes.map((m) => m.next(result)))];
  }

  /** One snapshot, after the writers have run a while; `Flag.Snapshot` holds its number while it runs. */
  let snapshots = 0;
  async function snap(strategy: 'queue' | 'copy', sink: Sink): Promise<SnapshotStats> {
    await sleep(50);
    const number = ++snapshots;
    const last = await lastValueFrom(
      snapshot(memory, sink, { strategy, poolPages: POOL }).pipe(
        tap((e) => e.type === 'started' && Atomics.store(flags, Flag.Snapshot, number)),
        finalize(() => Atomics.store(flags, Flag.Snapshot, 0)),
      ),
    );
    if (last.type !== 'done') throw new Error('snapshot ended without done');
    return last.stats;
  }

  /** Every snapshot taken with the writers running, for the t0 table. */
  const t0Rows: { label: string; stats: SnapshotStats; writers: readonly WriterFaults[] }[] = [];

  // 1. The barrier with no snapshot running, one thread at a time (the other core takes the machine's other load).
  console.log(
    `\n1. Barrier cost per write call, no snapshot: ${WRITES} writes of 8..64 B a round, ${ROUNDS} alternating rounds, medians (difference and ratio: per round); ` +
      `one thread at a time; 'all': random offsets over the whole ${gib} GiB, '1 MiB': the same folded into the first MiB (in cache)`,
  );
  const barrierRows: (string | number)[][] = [
    ['writer', 'offsets', 'write() ns/call', 'unchecked ns/call', 'difference ns', 'ratio', 'round diffs min..max', 'goal ≤ 10 ns', 'unchecked + map load ns/call', 'write() − that ns'],
  ];
  const barrierCosts = { all: [] as number[], near: [] as number[], allOverMap: [] as number[], nearOverMap: [] as number[] };
  for (const near of [false, true]) {
    for (const [i, m] of mailboxes.entries()) {
      m.worker.postMessage({ type: 'barrier', rounds: ROUNDS, near } satisfies Command);
      const b = await m.next('barrier');
      // Each round's two loops ran back to back: differences and ratios are taken per round, then their median.
      const diffs = b.checked.map((c, r) => c - (b.unchecked[r] as number));
      const ratios = b.checked.map((c, r) => c / (b.unchecked[r] as number));
      const diff = median(diffs);
      barrierCosts[near ? 'near' : 'all'].push(diff);
      const range = `${Math.min(...diffs).toFixed(1)}..${Math.max(...diffs).toFixed(1)}`;
      const goal = near ? '' : met(diff <= 10);
      const overMap = median(b.checked.map((c, r) => c - (b.mapLoad[r] as number)));
      barrierCosts[near ? 'nearOverMap' : 'allOverMap'].push(overMap);
      barrierRows.push([`thread ${i}`, near ? '1 MiB' : 'all', median(b.checked), median(b.unchecked), diff, median(ratios), range, goal, median(b.mapLoad), overMap]);
    }
  }
  printTable(barrierRows);

  // 2. Stalls per fault under each strategy, as the writers measure them.
  console.log(`\n2. Writer stall per fault, writers at full speed, snapshot into MemorySink behind ThrottledSink '${STORAGE}' (${profile.bandwidth / 1e6} MB/s, ${profile.latency} ms a write, ${profile.queueDepth} at once), ${profile.queueDepth} writes in flight, pool ${POOL} pages`);
  const stallRows: (string | number)[][] = [['strategy', 'writer id', 'writes', 'faults', 'self-copied', 'stall p50 µs', 'p99 µs', 'max µs', 'goal (copy p99 ≤ 10 µs)']];
  const snapshotRows: (string | number)[][] = [['strategy', 'snapshot ms', 'faults (saver)', 'saved bulk', 'fault', 'copy', 'pool peak', 'saver stall p99 µs']];
  const copyP99: number[] = [];
  for (const strategy of ['queue', 'copy'] as const) {
    const [stats, wrote] = await whileWriting({ type: 'write' }, 'wrote', () => snap(strategy, throttled));
    for (const w of wrote) {
      const { count, selfCopied, stall } = w.faults;
      if (strategy === 'copy') copyP99.push(stall.p99);
      stallRows.push([strategy, w.id, w.writes, count, selfCopied, us(stall.p50), us(stall.p99), us(stall.max), strategy === 'copy' ? met(us(stall.p99) <= 10) : '']);
    }
    snapshotRows.push([strategy, stats.durationMs, stats.faults, stats.saved.bulk, stats.saved.fault, stats.saved.copy, stats.pool.peakPages, us(stats.stall.p99)]);
    t0Rows.push({ label: `${strategy}, ${STORAGE}`, stats, writers: wrote.map((w) => w.faults) });
  }
  printTable(stallRows);
  printTable(snapshotRows);

  // 3. The barrier while a snapshot runs (the same throttled sink).
  console.log(
    `\n3. Cost per write call while a snapshot runs: rounds of ${SNAPSHOT_ROUND_WRITES} writes, alternating, over the round pairs that fell ` +
      `inside the snapshot: medians (difference and ratio: per pair), and the mean of write() (time / calls, as faults make rounds uneven)`,
  );
  const duringRows: (string | number)[][] = [
    ['strategy', 'writer', 'round pairs', 'write() ns/call', 'unchecked ns/call', 'difference ns', 'ratio', 'write() mean ns', 'faults', 'snapshot ms'],
  ];
  for (const strategy of ['queue', 'copy'] as const) {
    const [stats, during] = await whileWriting({ type: 'barrierDuringSnapshot', roundWrites: SNAPSHOT_ROUND_WRITES }, 'barrierDuringSnapshot', () =>
      snap(strategy, throttled),
    );
    during.forEach((d, i) => {
      const paired = (f: (c: number, u: number) => number): number =>
        d.checked.length === 0 ? NaN : median(d.checked.map((c, r) => f(c, d.unchecked[r] as number)));
      const mean = d.checked.reduce((sum, ns) => sum + ns, 0) / d.checked.length;
      duringRows.push([
        strategy,
        `thread ${i}`,
        d.checked.length,
        d.checked.length === 0 ? NaN : median(d.checked),
        d.unchecked.length === 0 ? NaN : median(d.unchecked),
        paired((c, u) => c - u),
        paired((c, u) => c / u),
        mean,
        d.faults.count,
        i === 0 ? stats.durationMs : '',
      ]);
    });
    t0Rows.push({ label: `${strategy}, ${STORAGE}, mixed rounds`, stats, writers: during.map((d) => d.faults) });
  }
  printTable(duringRows);

  // 4. The t0 pause: every snapshot above, and a few more into the unthrottled MemorySink.
  for (let r = 0; r < T0_RUNS; r++) {
    const [stats, wrote] = await whileWriting({ type: 'write' }, 'wrote', () => snap('copy', image));
    t0Rows.push({ label: 'copy, MemorySink', stats, writers: wrote.map((w) => w.faults) });
  }
  console.log(`\n4. The t0 pause (safe point: request → protect all → release), ${WRITERS} writers at full speed`);
  const t0Table: (string | number)[][] = [['snapshot', 't0PauseMs', 'writers longest ms', 'per GiB: t0PauseMs', 'writers', 'snapshot ms', 'goal ≤ 1 ms/GiB']];
  const perGib = { saver: [] as number[], writers: [] as number[] };
  for (const { label, stats, writers } of t0Rows) {
    const longest = Math.max(...writers.map((w) => w.longestPauseMs));
    perGib.saver.push(stats.t0PauseMs / gib);
    perGib.writers.push(longest / gib);
    t0Table.push([label, stats.t0PauseMs, longest, stats.t0PauseMs / gib, longest / gib, stats.durationMs, met(Math.max(stats.t0PauseMs, longest) / gib <= 1)]);
  }
  t0Table.push(['median', '', '', median(perGib.saver), median(perGib.writers), '', '']);
  t0Table.push(['max', '', '', Math.max(...perGib.saver), Math.max(...perGib.writers), '', '']);
  printTable(t0Table);

  // 5. Stop the world, for comparison: park the writers, copy everything, resume.
  const target = new Uint8Array(size).fill(1); // Pre-touched: no first-touch faults in the copy.
  console.log(`\n5. Stop the world, for comparison: writers park on a shared flag (Atomics.wait), ${gib} GiB copied into a pre-touched buffer, writers woken; ${ROUNDS} times`);
  const [halts, stw] = await whileWriting({ type: 'stopTheWorld' }, 'stopTheWorld', async () => {
    const runs: { stopMs: number; copyMs: number; pauseMs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await sleep(20);
      const start = performance.now();
      Atomics.store(flags, Flag.Halt, 1);
      // The writers see the flag within a write, then park.
      while (Atomics.load(flags, Flag.Halted) < WRITERS) continue;
      const stopped = performance.now();
      target.set(ram);
      const copied = performance.now();
      Atomics.store(flags, Flag.Halted, 0);
      Atomics.store(flags, Flag.Halt, 0);
      Atomics.notify(flags, Flag.Halt);
      runs.push({ stopMs: stopped - start, copyMs: copied - stopped, pauseMs: performance.now() - start });
    }
    return runs;
  });
  const stwRows: (string | number)[][] = [['run', 'stop ms', 'copy ms', 'pause (main) ms', 'writers longest ms', 'per GiB ms']];
  const writerPauses = halts.map((_, r) => Math.max(...stw.map((w) => w.pauses[r] ?? NaN)));
  halts.forEach((h, r) => stwRows.push([r + 1, h.stopMs, h.copyMs, h.pauseMs, writerPauses[r] as number, (writerPauses[r] as number) / gib]));
  stwRows.push(['median', median(halts.map((h) => h.stopMs)), median(halts.map((h) => h.copyMs)), median(halts.map((h) => h.pauseMs)), median(writerPauses), median(writerPauses) / gib]);
  printTable(stwRows);

  // The goals next to what was measured.
  const worstCopyP99 = us(Math.max(...copyP99));
  const worstBarrier = Math.max(...barrierCosts.all);
  const worstNear = Math.max(...barrierCosts.near);
  const worstT0 = Math.max(...perGib.saver, ...perGib.writers);
  console.log('\nGoals');
  printTable([
    ['goal', 'measured', ''],
    ['copy stall p99 ≤ 10 µs', `${worstCopyP99.toFixed(1)} µs (worse writer)`, met(worstCopyP99 <= 10)],
    [
      't0 pause ≤ 1 ms per GiB',
      `${worstT0.toFixed(3)} ms/GiB (worst of ${t0Rows.length} snapshots; medians ${median(perGib.saver).toFixed(3)} t0PauseMs, ${median(perGib.writers).toFixed(3)} writers)`,
      met(worstT0 <= 1),
    ],
    ['barrier ≤ 10 ns per write call, no snapshot', `${worstBarrier.toFixed(1)} ns (worse writer; ${worstNear.toFixed(1)} ns with the writes in one MiB)`, met(worstBarrier <= 10)],
    [
      '  the same, over one plain map load per write',
      `${Math.max(...barrierCosts.allOverMap).toFixed(1)} ns (worse writer; ${Math.max(...barrierCosts.nearOverMap).toFixed(1)} ns in one MiB)`,
      met(Math.max(...barrierCosts.allOverMap) <= 10),
    ],
    ['stop the world, for comparison', `${(median(writerPauses) / gib).toFixed(1)} ms/GiB (median, as writers saw it)`, ''],
  ]);

  await Promise.all(mailboxes.map((m) => m.worker.terminate()));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
