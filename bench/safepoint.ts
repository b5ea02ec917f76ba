/**
 * bench/safepoint: the safe point's exactness at volume. Two bursty writer
 * threads (16 writes, then 50 µs asleep) write deterministic logs while one
 * snapshot follows another (alternately `copy` and `queue`, into a
 * MemorySink); every image is compared with the logs replayed to its cut.
 * The suite runs the same for about a minute (test/threads/stress.test.ts);
 * this runs it for a million snapshots by default and prints a tally every
 * 50,000, then the counts the goals are about:
 *   - `done` with an image that is not the replay to its cut (goal: 0);
 *   - snapshots failed with CutViolationError (goal: <= 1 in 100,000);
 *   - redos (a slip seen right after t0: counted, not failed);
 *   - the t0 pause (`stats.t0PauseMs`), median and max.
 *
 *   npm run bench:safepoint                          (1,000,000 snapshots)
 *   npm run bench:safepoint -- --snapshots 100000 --writers 4 --seconds 600
 */
import { loadavg } from 'node:os';
import { runStress, type StressTally } from '../test/threads/stressRun';
import { median } from './support';

function option(name: string, fallback: string): number {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback);
}

function line(t: StressTally): string {
  return (
    `${t.snapshots} snapshots in ${(t.elapsedMs / 1000).toFixed(0)} s: ${t.consistent} consistent, ${t.inconsistent} inconsistent, ` +
    `${t.violations} cut violations, ${t.redos} redos; the cut moved in ${t.cutMoved} (${t.writesAtLastCut} writes in the last); t0 pause median ${median([...t.pausesMs]).toFixed(3)} ms, max ${t.pausesMs.reduce((a, b) => Math.max(a, b), 0).toFixed(2)} ms; load ${loadavg()[0]?.toFixed(1)}`
  );
}

async function main(): Promise<void> {
  const snapshots = option('snapshots', '1000000');
  const seconds = option('seconds', 'Infinity');
  const writers = option('writers', '2');
  console.log(`bench/safepoint: ${snapshots} snapshots at most, ${seconds} s at most, ${writers} bursty writer threads`);
  const tally = await runStress({ snapshots, seconds, writers, burst: 16, pauseUs: 50, every: 50_000, onProgress: (t) => console.log(`  ${line(t)}`) });
  console.log(line(tally));
  for (const e of tally.otherErrors) console.log(`  error: ${e instanceof Error ? e.message : String(e)}`);
  console.log(`goal: 0 inconsistent: ${tally.inconsistent === 0 ? 'met' : 'NOT met'}`);
  console.log(`goal: <= 1 in 100,000 cut violations: ${tally.violations * 100_000 <= tally.snapshots ? 'met' : 'NOT met'} (${tally.violations} in ${tally.snapshots})`);
}

void main();
