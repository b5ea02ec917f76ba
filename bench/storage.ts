/**
 * bench/storage: a snapshot to a file against writing the same bytes raw.
 *
 * In one run, interleaved, over a 1 GiB idle memory of 4 KiB pages:
 *   - `snapshot()` into a FileSink with its defaults (copy strategy, 256 KiB
 *     runs, 16 credits, 1 MiB writevs, crc32 per record, fsync, rename);
 *   - the same 1 GiB written raw: 1 MiB FileHandle.write calls, one after
 *     another, then fsync and close.
 * First with every page holding data (goal: snapshot ≤ 1.1× raw), then with
 * half the pages zero, at random (the snapshot stores them as bits, so it
 * should beat the raw write, which writes every byte). Files go to a fresh
 * directory under os.tmpdir() and are deleted after each run, and `sync`
 * runs (untimed) before each timed write, so that no run pays for the last
 * one's writeback. Prints medians of several runs and the ratios, and the
 * same for the fastest run of each, since a shared disk now and then stalls a
 * run for a second.
 *
 *   npm run bench:storage            (GIB=1 RUNS=5 by default)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { FileSink, PagedMemory, snapshot, type SnapshotStats } from '../src';
import { median, printTable, timed } from './support';

const GIB = Number(process.env.GIB ?? 1);
const RUNS = Number(process.env.RUNS ?? 5);
const PAGE = 4096;
const WRITE = 1024 * 1024;
const size = GIB * 1024 ** 3;
const pages = size / PAGE;

/** A memory of `size` bytes; each page holds data, or (with probability `zeroShare`) is left zero. */
function memoryOf(zeroShare: number): PagedMemory {
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size }] });
  const ram = memory.block('ram').bytes;
  let x = 12345;
  for (let p = 0; p < pages; p++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if (x / 2 ** 32 < zeroShare) continue;
    ram.fill((p & 0xff) || 1, p * PAGE, (p + 1) * PAGE);
  }
  return memory;
}

/** The raw baseline: the memory's bytes in 1 MiB writes, then fsync and close. */
async function rawWrite(memory: PagedMemory, path: string): Promise<void> {
  const ram = memory.block('ram').bytes;
  const file = await open(path, 'wx');
  try {
    for (let o = 0; o < size; o += WRITE) await file.write(ram, o, WRITE, o);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function snapshotToFile(memory: PagedMemory, path: string): Promise<SnapshotStats> {
  const sink = new FileSink(path);
  const last = await lastValueFrom(snapshot(memory, sink));
  await sink.whenClosed();
  if (last.type !== 'done') throw new Error('no done event');
  return last.stats;
}

interface Comparison {
  /** Medians, ms. */
  readonly snapshot: number;
  readonly raw: number;
  /** Fastest runs, ms: less sensitive to a noisy shared disk. */
  readonly bestSnapshot: number;
  readonly bestRaw: number;
}

async function compare(label: string, memory: PagedMemory, dir: string): Promise<Comparison> {
  const snapPath = join(dir, 'bench.bgsnap');
  const rawPath = join(dir, 'bench.raw');
  // Warm-up: compiles the hot paths and settles the file system.
  await snapshotToFile(memory, snapPath);
  unlinkSync(snapPath);
  await rawWrite(memory, rawPath);
  unlinkSync(rawPath);

  const times = { snapshot: [] as number[], raw: [] as number[] };
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always inherits the other's dirty pages.
    const order = i % 2 === 0 ? (['snapshot', 'raw'] as const) : (['raw', 'snapshot'] as const);
    for (const which of order) {
      // Untimed: flush what the last run left in the page cache, so it is not charged to this one.
      execFileSync('sync');
      if (which === 'snapshot') {
        times.snapshot.push(await timed(() => snapshotToFile(memory, snapPath)));
        bytes = statSync(snapPath).size;
        unlinkSync(snapPath);
      } else {
        times.raw.push(await timed(() => rawWrite(memory, rawPath)));
        unlinkSync(rawPath);
      }
    }
  }
  const result: Comparison = {
    snapshot: median(times.snapshot),
    raw: median(times.raw),
    bestSnapshot: Math.min(...times.snapshot),
    bestRaw: Math.min(...times.raw),
  };
  const gbps = (ms: number) => size / 1e9 / (ms / 1000);
  console.log(`\n${label}`);
  printTable([
    ['what', 'median ms', 'best ms', 'GB/s (median)', 'file MiB', 'runs (ms)'],
    ['snapshot() → FileSink', result.snapshot, result.bestSnapshot, gbps(result.snapshot), bytes / 2 ** 20, times.snapshot.map((t) => t.toFixed(0)).join(' ')],
    ['raw 1 MiB writes + fsync', result.raw, result.bestRaw, gbps(result.raw), size / 2 ** 20, times.raw.map((t) => t.toFixed(0)).join(' ')],
  ]);
  return result;
}

async function main(): Promise<void> {
  console.log(`bench/storage: ${GIB} GiB, ${pages} pages of ${PAGE} B, ${RUNS} runs each, node ${process.version}, files in ${tmpdir()}`);
  const dir = mkdtempSync(join(tmpdir(), 'bgsnap-bench-'));
  try {
    let memory: PagedMemory | undefined = memoryOf(0);
    const full = await compare('Every page holds data', memory, dir);
    memory = undefined;
    const half = await compare('Half the pages zero, at random', memoryOf(0.5), dir);
    console.log('');
    printTable([
      ['memory', 'snapshot / raw (medians)', '(best runs)', 'goal'],
      ['every page holds data', full.snapshot / full.raw, full.bestSnapshot / full.bestRaw, '≤ 1.1'],
      ['half the pages zero', half.snapshot / half.raw, half.bestSnapshot / half.bestRaw, '< 1'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
