/** Comparison runs from the simulator: the real pipeline and strategies, in virtual time, seeded. */
import { RunRecorder } from '../../../src/cli/report/RunRecorder';
import type { CompareRun } from '../../../src/cli/report/types';
import { GeometryMemory } from '../../../src/sim/GeometryMemory';
import { simulate } from '../../../src/sim/simulate';
import type { StorageProfileName } from '../../../src/storage/profiles';

/** What to run: the storage, the memory size, and whether every fault's stall is recorded. */
export interface SimulatedComparison {
  readonly storage: StorageProfileName;
  readonly memoryBytes: number;
  /** `detail: true`: every fault's stall; off, the stats' percentiles. @default true */
  readonly detail?: boolean;
}

/** `queue`, then `copy` with no pool, a 1 MiB pool and a 16 MiB pool, on one workload: 2 writers × 400 writes/s. */
export function simulatedRuns({ storage, memoryBytes, detail = true }: SimulatedComparison): CompareRun[] {
  const configurations = [
    { strategy: 'queue', poolPages: 0 },
    { strategy: 'copy', poolPages: 0 },
    { strategy: 'copy', poolPages: 256 },
    { strategy: 'copy', poolPages: 4096 },
  ] as const;
  return configurations.map((c) => {
    const recorder = new RunRecorder();
    const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: memoryBytes }] });
    simulate(memory, {
      ...c,
      storage,
      detail,
      turnBytes: 256 * 1024,
      // Writes of 256 KiB at most: many writes, so the reports have a timeline to draw.
      maxWriteBytes: 256 * 1024,
      workload: { writers: 2, writesPerSecond: 400 },
      seed: 7,
      onEvent: (e) => recorder.next(e),
    });
    return recorder.result();
  });
}
