import { describe, expect, it } from 'vitest';
import { runStress } from './stressRun';

/**
 * The safe point under load, for up to 200,000 snapshots or 40 s: two bursty
 * writer threads (16 writes, then 50 µs asleep) and one snapshot after another, alternating
 * `copy` and `queue`. Every snapshot must end `done` with exactly the image
 * of the writers' logs at its cut: none inconsistent, none failed. A slip
 * past the count is a redo, not a failure. `npm run bench:safepoint` runs the
 * same for a million snapshots.
 */
describe('the safe point under bursty writer threads', () => {
  it('up to 200,000 snapshots, each the image of its cut, none failed', async () => {
    const tally = await runStress({ snapshots: 200_000, seconds: 40, writers: 2, burst: 16, pauseUs: 50 });
    console.log(
      `safe-point stress: ${tally.snapshots} snapshots in ${(tally.elapsedMs / 1000).toFixed(1)} s, ${tally.inconsistent} inconsistent, ` +
        `${tally.violations} cut violations, ${tally.redos} redos; the cut moved in ${tally.cutMoved}, ${tally.writesAtLastCut} writes in the last`,
    );
    expect(tally.otherErrors).toEqual([]);
    expect(tally.inconsistent).toBe(0);
    expect(tally.violations).toBe(0);
    expect(tally.consistent).toBe(tally.snapshots);
    expect(tally.snapshots).toBeGreaterThanOrEqual(1_000);
    // The writers wrote between snapshots: most cuts moved.
    expect(tally.cutMoved).toBeGreaterThan(tally.snapshots / 2);
  }, 120_000);

  it('incremental: up to 100,000 snapshots in a chain, each laid over the ones before, the image of its cut', async () => {
    const tally = await runStress({ snapshots: 100_000, seconds: 20, writers: 2, burst: 16, pauseUs: 50, incremental: true });
    console.log(
      `incremental stress: ${tally.snapshots} snapshots in ${(tally.elapsedMs / 1000).toFixed(1)} s, ${tally.inconsistent} inconsistent, ` +
        `${tally.violations} cut violations, ${tally.redos} redos, ${(tally.pagesSaved / tally.snapshots).toFixed(1)} pages a snapshot`,
    );
    expect(tally.otherErrors).toEqual([]);
    expect(tally.inconsistent).toBe(0);
    expect(tally.consistent).toBe(tally.snapshots);
    expect(tally.snapshots).toBeGreaterThanOrEqual(1_000);
    expect(tally.cutMoved).toBeGreaterThan(tally.snapshots / 4);
  }, 120_000);
});
