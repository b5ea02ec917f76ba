/**
 * bench/simulate: how long the simulator takes, and how much memory it uses,
 * for large memories.
 *
 * Builds the package (tsc -p tsconfig.build.json), then runs each
 * configuration in a fresh Node process on the compiled library, as the CLI
 * runs it, and reports its wall time and peak RSS (`process.resourceUsage`),
 * next to what it simulated. The headline is a 64 GiB memory (16M pages of
 * 4 KiB) on the hdd profile with the default workload (2 writers × 1000
 * writes/s, uniform); goal ≤ 30 s. The ssd runs at 4, 16 and 64 GiB show how
 * memory grows with the page count (one state byte per page), not with the
 * bytes simulated.
 *
 *   npx ts-node --transpile-only bench/simulate.ts
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { SimulateOptions, SimulationResult } from '../src';
import { formatDuration, formatMs } from '../src/sim/format';
import { printTable } from './support';

const ROOT = join(__dirname, '..');
const GIB = 2 ** 30;

interface Run {
  readonly name: string;
  readonly bytes: number;
  readonly options: SimulateOptions;
}

const RUNS: Run[] = [
  { name: '64 GiB hdd copy', bytes: 64 * GIB, options: { storage: 'hdd', strategy: 'copy' } },
  { name: '64 GiB hdd queue', bytes: 64 * GIB, options: { storage: 'hdd', strategy: 'queue' } },
  { name: '1 GiB ssd copy', bytes: 1 * GIB, options: { storage: 'ssd', strategy: 'copy' } },
  { name: '4 GiB ssd copy', bytes: 4 * GIB, options: { storage: 'ssd', strategy: 'copy' } },
  { name: '16 GiB ssd copy', bytes: 16 * GIB, options: { storage: 'ssd', strategy: 'copy' } },
  { name: '64 GiB ssd copy', bytes: 64 * GIB, options: { storage: 'ssd', strategy: 'copy' } },
];

/** Runs in the child: one simulation on the compiled library; prints JSON. */
const CHILD = `
const { GeometryMemory, simulate } = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
const { bytes, options } = JSON.parse(process.argv[1]);
const started = performance.now();
const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: bytes }] });
const result = simulate(memory, options);
const wallMs = performance.now() - started;
process.stdout.write(JSON.stringify({ wallMs, maxRssKiB: process.resourceUsage().maxRSS, result }));
`;

interface Measured {
  readonly wallMs: number;
  readonly maxRssKiB: number;
  readonly result: SimulationResult;
}

function main(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  console.log(`bench/simulate: one fresh process per run, compiled library, node ${process.version}`);
  const rows: string[][] = [['run', 'wall', 'peak RSS', 'pages', 'virtual time', 'writer writes', 'faults', 'stall p99']];
  for (const run of RUNS) {
    const out = execFileSync(process.execPath, ['-e', CHILD, JSON.stringify(run)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const { wallMs, maxRssKiB, result } = JSON.parse(out) as Measured;
    rows.push([
      run.name,
      `${(wallMs / 1000).toFixed(2)} s`,
      `${(maxRssKiB / 1024).toFixed(0)} MiB`,
      String(result.stats.totalPages),
      formatDuration(result.stats.durationMs),
      String(result.workload.writes),
      String(result.stats.faults),
      formatMs(result.stats.stall.p99),
    ]);
    console.error(`${run.name}: ${(wallMs / 1000).toFixed(2)} s`);
  }
  printTable(rows);
}

main();
