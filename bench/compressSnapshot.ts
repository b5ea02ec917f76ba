/**
 * bench/compressSnapshot: compressed snapshots of realistic content.
 *
 * Content: a 1 GiB PagedMemory (4 KiB pages) in 256 KiB stretches taking
 * turns: the pages of a real SQLite database (an orders table with text,
 * numbers and an index, built with wa-sqlite), JSON log lines, random bytes
 * (as encrypted or already compressed data) and zero pages, a quarter each.
 * Each kind is made as 32 MiB and laid out again and again (the format's
 * compressed records are 256 KiB apart, so no frame sees a repeat).
 *
 * 1. Throughput on one core: RecordEncoder over the whole memory in 256 KiB
 *    runs, zstd against none, no I/O: MiB of memory per second, and the
 *    codec alone over the non-zero pages it compressed.
 * 2. A snapshot on the `hdd` profile (or `--storage`) (ThrottledSink with `bytes: 'stored'`,
 *    into a StreamSink whose bytes are counted and dropped), compression
 *    zstd against none, alternating rounds, no writers: time and stored
 *    bytes, compressed ÷ uncompressed.
 * 3. Writers' stall: the same snapshots with writer threads
 *    (bench/workers/writer.ts: random 8..64-byte writes all over the memory
 *    at full speed, under `copy`) running through them; each writer's stall
 *    per fault p99, compressed ÷ uncompressed per round.
 * Medians, with min–max, over the rounds.
 *
 *   npm run bench:compress-snapshot                    (1 GiB, 5 rounds, 1 writer)
 *   npm run bench:compress-snapshot -- --gib 0.25 --rounds 3 --writers 2 --storage ssd --sections 3
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { PagedMemory, snapshot, storageProfiles, StreamSink, ThrottledSink, type SnapshotStats, type StorageProfileName, type WriterFaults } from '../src';
import { zstdCodec } from '../src/compression/zstd';
import { RecordEncoder } from '../src/format/encode';
import { noneCodec } from '../src/compression/none';
import { sqlitePages, textPages } from './content';
import { median, printTable } from './support';
import { FLAG_WORDS, Flag, type Command, type Reply, type WriterData } from './workers/protocol';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : (process.env[name.toUpperCase()] ?? fallback);
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GIB = Number(option('gib', '1'));
const ROUNDS = Number(option('rounds', '5'));
const WRITERS = Number(option('writers', '1'));
const STORAGE = option('storage', 'hdd') as StorageProfileName;
/** Which of the three parts to run, e.g. `23`. */
const SECTIONS = option('sections', '123');
const PAGE = 4096;
const STRETCH = 256 * KiB;
const PER_KIND = 32 * MiB;
const CAPACITY = 4;

type Compression = 'none' | 'zstd';
const spread = (v: readonly number[], digits = 2) => `${median(v).toFixed(digits)} (${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)})`;

async function mixedMemory(bytes: number): Promise<PagedMemory> {
  const kinds = [await sqlitePages(PER_KIND), textPages(PER_KIND), randomBytes(PER_KIND), new Uint8Array(PER_KIND)];
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: bytes }] });
  const ram = memory.block('ram').bytes;
  for (let at = 0, i = 0; at < bytes; at += STRETCH, i++) {
    const kind = kinds[i % 4] as Uint8Array;
    const from = (Math.floor(i / 4) * STRETCH) % PER_KIND;
    ram.set(kind.subarray(from, from + Math.min(STRETCH, bytes - at)), at);
  }
  return memory;
}

/** Encodes the whole memory in 256 KiB runs; seconds, and the codec's own seconds over what it compressed. */
function encodeAll(memory: PagedMemory, compression: Compression): { seconds: number; codecSeconds: number; codecBytes: number; stored: number } {
  let codecSeconds = 0;
  let codecBytes = 0;
  const base = compression === 'zstd' ? zstdCodec : noneCodec;
  const timedCodec = {
    ...base,
    compress(data: Uint8Array) {
      const start = performance.now();
      const frame = base.compress(data);
      codecSeconds += (performance.now() - start) / 1000;
      codecBytes += data.length;
      return frame;
    },
  };
  const ram = memory.block('ram');
  const header = { pageSize: PAGE, blocks: memory.blocks.map((b) => ({ name: b.name, size: b.size, pages: b.pages, firstPage: b.firstPage })), t0: 0, wallTime: Date.now(), strategy: 'bench' };
  const encoder = new RecordEncoder(header, undefined, timedCodec);
  const start = performance.now();
  const pagesPerRun = STRETCH / PAGE;
  for (let page = 0; page < ram.pages; page += pagesPerRun) {
    const count = Math.min(pagesPerRun, ram.pages - page);
    const chunks: Uint8Array[] = [];
    encoder.encode({ block: 0, page, count, via: 'bulk', data: ram.bytes.subarray(page * PAGE, (page + count) * PAGE) }, chunks);
  }
  const seconds = (performance.now() - start) / 1000;
  return { seconds, codecSeconds, codecBytes, stored: encoder.recordBytes };
}

/** A snapshot on the storage profile (`hdd` unless told) into a StreamSink whose bytes are counted and dropped. */
async function hddSnapshot(memory: PagedMemory, compression: Compression): Promise<{ seconds: number; bytes: number; stats: SnapshotStats }> {
  let bytes = 0;
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  const sink = new ThrottledSink(new StreamSink(out, { copy: false, capacity: CAPACITY, compression }), { profile: STORAGE, bytes: 'stored' });
  const start = performance.now();
  const last = await lastValueFrom(snapshot(memory, sink, { strategy: 'copy' }));
  if (last.type !== 'done') throw new Error('the snapshot ended without done');
  return { seconds: (performance.now() - start) / 1000, bytes, stats: last.stats };
}

class Mailbox {
  private readonly queue: Reply[] = [];
  private waiting: ((r: Reply) => void) | undefined;
  constructor(readonly worker: Worker) {
    worker.on('message', (r: Reply) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (w !== undefined) w(r);
      else this.queue.push(r);
    });
  }
  async next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    const r = this.queue.shift() ?? (await new Promise<Reply>((resolve) => (this.waiting = resolve)));
    if (r.type !== type) throw new Error(`expected ${type} from a writer thread, got ${r.type}`);
    return r as Extract<Reply, { type: T }>;
  }
}

async function main(): Promise<void> {
  const bytes = Math.round(GIB * 1024) * MiB;
  console.log(`bench/compressSnapshot: ${GIB} GiB, ${ROUNDS} rounds, ${WRITERS} writer thread(s); ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.versions.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const memory = await mixedMemory(bytes);

  // 1. Throughput on one core.
  if (SECTIONS.includes('1')) {
  const encodeRows: (string | number)[][] = [['round', 'encoder none MiB/s', 'encoder zstd MiB/s', 'zstd alone MiB/s (non-zero pages)', 'stored ÷ memory']];
  const encoderSpeeds: number[] = [];
  const codecSpeeds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const none = encodeAll(memory, 'none');
    const zstd = encodeAll(memory, 'zstd');
    encoderSpeeds.push(bytes / MiB / zstd.seconds);
    codecSpeeds.push(zstd.codecBytes / MiB / zstd.codecSeconds);
    encodeRows.push([r + 1, bytes / MiB / none.seconds, bytes / MiB / zstd.seconds, zstd.codecBytes / MiB / zstd.codecSeconds, zstd.stored / bytes]);
  }
  console.log('\n1. RecordEncoder over the memory in 256 KiB runs, one core, no I/O');
  printTable(encodeRows);
  console.log(`encoder with zstd ${spread(encoderSpeeds, 0)} MiB/s of memory; zstd alone ${spread(codecSpeeds, 0)} MiB/s; goal ≥ 300 MiB/s: ${median(codecSpeeds) >= 300 ? 'met' : 'NOT met'}`);
  }

  // 2. Snapshots on the storage profile, no writers.
  const profile = storageProfiles[STORAGE];
  const device = `${STORAGE} (${profile.bandwidth / 1e6} MB/s, ${profile.latency} ms a write, ${profile.queueDepth} at once, stored bytes booked)`;
  if (SECTIONS.includes('2')) {
  const hddRows: (string | number)[][] = [['round', 'first', 'none s', 'zstd s', 'time ratio', 'none bytes', 'zstd bytes', 'bytes ratio']];
  const timeRatios: number[] = [];
  const byteRatios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order: Compression[] = r % 2 === 0 ? ['none', 'zstd'] : ['zstd', 'none'];
    const result: Partial<Record<Compression, { seconds: number; bytes: number }>> = {};
    for (const c of order) result[c] = await hddSnapshot(memory, c);
    const none = result.none as { seconds: number; bytes: number };
    const zstd = result.zstd as { seconds: number; bytes: number };
    timeRatios.push(zstd.seconds / none.seconds);
    byteRatios.push(zstd.bytes / none.bytes);
    hddRows.push([r + 1, order[0] as string, none.seconds, zstd.seconds, zstd.seconds / none.seconds, none.bytes, zstd.bytes, zstd.bytes / none.bytes]);
  }
  console.log(`\n2. Snapshot on ${device}, copy strategy, capacity ${CAPACITY}, no writers`);
  printTable(hddRows);
  console.log(`time zstd ÷ none ${spread(timeRatios, 3)}; bytes ${spread(byteRatios, 3)}; goal ≤ 0.5: ${median(timeRatios) <= 0.5 ? 'met' : 'NOT met'}`);
  }
  if (!SECTIONS.includes('3')) return;

  // 3. Writers' stall with compression and without.
  const handle = memory.share({ poolBytes: 16 * MiB });
  const flags = new Int32Array(new SharedArrayBuffer(FLAG_WORDS * 4));
  const mailboxes = Array.from({ length: WRITERS }, (_, i) => {
    const workerData: WriterData = { handle, flags: flags.buffer as SharedArrayBuffer, seed: i + 1, writes: 1 << 20 };
    return new Mailbox(new Worker(join(__dirname, 'workers', 'writer.ts'), { workerData, execArgv: ['--require', 'ts-node/register/transpile-only'] }));
  });
  await Promise.all(mailboxes.map((m) => m.next('ready')));
  const whileWriting = async (compression: Compression): Promise<{ seconds: number; faults: WriterFaults[] }> => {
    Atomics.store(flags, Flag.Stop, 0);
    for (const m of mailboxes) m.worker.postMessage({ type: 'write' } satisfies Command);
    await Promise.all(mailboxes.map((m) => m.next('writing')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { seconds } = await hddSnapshot(memory, compression);
    Atomics.store(flags, Flag.Stop, 1);
    const replies = await Promise.all(mailboxes.map((m) => m.next('wrote')));
    return { seconds, faults: replies.map((r) => r.faults) };
  };
  const stallRows: (string | number)[][] = [['round', 'first', 'none s', 'zstd s', 'none faults', 'zstd faults', 'none p99 µs', 'zstd p99 µs', 'p99 ratio', 'none p50 µs', 'zstd p50 µs', 'p50 ratio']];
  const p50Ratios: number[] = [];
  const stallRatios: number[] = [];
  const worst = (f: WriterFaults[]) => Math.max(...f.map((w) => w.stall.p99));
  for (let r = 0; r < ROUNDS; r++) {
    const order: Compression[] = r % 2 === 0 ? ['none', 'zstd'] : ['zstd', 'none'];
    const result: Partial<Record<Compression, { seconds: number; faults: WriterFaults[] }>> = {};
    for (const c of order) result[c] = await whileWriting(c);
    const none = result.none as { seconds: number; faults: WriterFaults[] };
    const zstd = result.zstd as { seconds: number; faults: WriterFaults[] };
    const ratio = worst(zstd.faults) / worst(none.faults);
    stallRatios.push(ratio);
    const count = (f: WriterFaults[]) => f.reduce((n, w) => n + w.count, 0);
    const p50 = (f: WriterFaults[]) => Math.max(...f.map((w) => w.stall.p50));
    p50Ratios.push(p50(zstd.faults) / p50(none.faults));
    stallRows.push([r + 1, order[0] as string, none.seconds, zstd.seconds, count(none.faults), count(zstd.faults), worst(none.faults) * 1000, worst(zstd.faults) * 1000, ratio, p50(none.faults) * 1000, p50(zstd.faults) * 1000, p50(zstd.faults) / p50(none.faults)]);
  }
  console.log(`\n3. Writers' stall per fault (worst writer's p99), ${WRITERS} writer thread(s) at full speed, copy strategy, ${device}`);
  printTable(stallRows);
  console.log(`stall p99 zstd ÷ none ${spread(stallRatios, 3)}; goal ≤ 1.1: ${median(stallRatios) <= 1.1 ? 'met' : 'NOT met'}; p50 ${spread(p50Ratios, 3)}`);
  for (const m of mailboxes) await m.worker.terminate();
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
