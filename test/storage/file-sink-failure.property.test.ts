// A file system call failing at a random point (a write with EIO or ENOSPC,
// the fsync, the link) fails the snapshot, under both strategies, and leaves
// nothing behind: no page protected, no writer waiting, no pool buffer lent,
// no handle open, nothing under the final name and no temporary file.
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { SinkError } from '../../src/errors';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { expectReleased, watchedStrategy } from './invariants';
import { fileSinkScenario, filledMemory, osError, runToEnd, spyFs, startWriters, tempDir, type Writers } from './support';

const root = tempDir('fail');
afterAll(() => root.remove());
let runs = 0;

it('fails cleanly wherever a file system call fails', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        ...fileSinkScenario,
        // Which failing call: the n-th writev, or the fsync, or the link.
        failing: fc.oneof(
          fc.record({ op: fc.constant('writev'), nth: fc.integer({ min: 0, max: 12 }) }),
          fc.record({ op: fc.constantFrom('fsync', 'link'), nth: fc.constant(0) }),
        ),
        code: fc.constantFrom('EIO', 'ENOSPC'),
        seed: fc.integer(),
      }),
      async (c) => {
        const dir = tempDir(`fail-${runs++}`);
        try {
          const path = dir.file('out.snap');
          let seen = 0;
          const io = spyFs({
            before: (op) => (op === c.failing.op && seen++ === c.failing.nth ? osError(c.code, op) : undefined),
          });
          const memory = filledMemory(c.pageSize, [{ name: 'ram', size: c.pages * c.pageSize }], c.seed);
          const sink = new FileSink(path, { capacity: c.capacity, writeBytes: c.writePages * c.pageSize, fs: io });
          const watched = watchedStrategy(c.strategy);
          let writers: Writers | undefined;
          const outcome = await runToEnd(
            snapshot(memory, sink, { strategy: watched.strategy, runBytes: c.runPages * c.pageSize, poolPages: c.poolPages }),
            () => (writers = startWriters(memory, c.writers, c.seed)),
          );
          await sink.whenClosed();

          // The snapshot fails with the injected error when that call was made at all.
          const failed = seen > c.failing.nth;
          expect(outcome.kind).toBe(failed ? 'error' : 'done');
          if (outcome.kind === 'error') {
            expect(outcome.error).toBeInstanceOf(SinkError);
            expect(((outcome.error as SinkError).cause as NodeJS.ErrnoException).code).toBe(c.code);
            expect(sink.state).toBe('aborted');
          } else {
            expect((await verify(path)).ok).toBe(true);
          }
          await expectReleased({ memory, writers, pool: watched.pool(), openFds: io.openFds, dir: dir.path, path, complete: !failed });
        } finally {
          dir.remove();
        }
      },
    ),
    { numRuns: 150 },
  );
});
