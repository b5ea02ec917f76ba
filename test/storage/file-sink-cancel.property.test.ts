// Unsubscribing at any moment (at t0, before or after any file system call,
// the fsync and the link included, or after a random delay) stops the
// snapshot, under both strategies, and leaves nothing behind: no page
// protected, no writer waiting, no pool buffer lent, no handle open, no
// temporary file. The link that gives the file its name is the commit point:
// a cancel before it leaves nothing under the final name; a cancel once it
// has completed leaves the complete file, and the sink ends as `ended`.
import fc from 'fast-check';
import { Subject, takeUntil } from 'rxjs';
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { expectReleased, watchedStrategy } from './invariants';
import { fileSinkScenario, filledMemory, spyFs, startWriters, tempDir, type Writers } from './support';

const root = tempDir('cancel');
afterAll(() => root.remove());
let runs = 0;

type Moment =
  | { readonly at: 'started' }
  | { readonly at: 'call'; readonly index: number; readonly when: 'before' | 'after' }
  | { readonly at: 'delay'; readonly ms: number };

it('stops cleanly when unsubscribed at any moment', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        ...fileSinkScenario,
        moment: fc.oneof(
          fc.constant<Moment>({ at: 'started' }),
          fc.record({ at: fc.constant('call' as const), index: fc.integer({ min: 0, max: 24 }), when: fc.constantFrom('before' as const, 'after' as const) }),
          fc.record({ at: fc.constant('delay' as const), ms: fc.integer({ min: 0, max: 4 }) }),
        ),
        seed: fc.integer(),
      }),
      async (c) => {
        const dir = tempDir(`cancel-${runs++}`);
        try {
          const path = dir.file('out.snap');
          const cancel$ = new Subject<void>();
          const moment = c.moment;
          // Whether the link had been asked for, and had completed, when the cancel came.
          let linkCalled = false;
          let linkDone = false;
          let cancelledAt: { linkCalled: boolean; linkDone: boolean } | undefined;
          cancel$.subscribe(() => (cancelledAt ??= { linkCalled, linkDone }));
          const at = (when: 'before' | 'after', index: number): void => {
            if (moment.at === 'call' && moment.when === when && moment.index === index) cancel$.next();
          };
          const io = spyFs({
            before: (op, index) => {
              if (op === 'link' || op === 'rename') linkCalled = true;
              at('before', index);
              return undefined;
            },
            after: (op, index) => {
              if (op === 'link' || op === 'rename') linkDone = true;
              at('after', index);
            },
          });
          const memory = filledMemory(c.pageSize, [{ name: 'ram', size: c.pages * c.pageSize }], c.seed);
          const sink = new FileSink(path, { capacity: c.capacity, writeBytes: c.writePages * c.pageSize, fs: io });
          const watched = watchedStrategy(c.strategy);
          let writers: Writers | undefined;
          let done = false;
          let failure: unknown;
          await new Promise<void>((resolve) => {
            snapshot(memory, sink, { strategy: watched.strategy, runBytes: c.runPages * c.pageSize, poolPages: c.poolPages })
              .pipe(takeUntil(cancel$))
              .subscribe({
                next: (e) => {
                  if (e.type === 'started') {
                    writers = startWriters(memory, c.writers, c.seed);
                    if (moment.at === 'started') cancel$.next();
                    if (moment.at === 'delay') setTimeout(() => cancel$.next(), moment.ms);
                  }
                  if (e.type === 'done') done = true;
                },
                error: (error: unknown) => {
                  failure = error;
                  resolve();
                },
                complete: resolve,
              });
          });
          await sink.whenClosed();

          // A cancel is no error; the file exists only if the link came first.
          expect(failure).toBeUndefined();
          const committed = sink.state === 'ended';
          if (!committed) expect(sink.state).toBe('aborted');
          if (done || cancelledAt?.linkDone === true) expect(committed).toBe(true);
          if (cancelledAt !== undefined && !cancelledAt.linkCalled) expect(committed).toBe(false);
          if (committed) expect((await verify(path)).ok).toBe(true);
          await expectReleased({ memory, writers, pool: watched.pool(), openFds: io.openFds, dir: dir.path, path, complete: committed });
        } finally {
          dir.remove();
        }
      },
    ),
    { numRuns: 200 },
  );
});
