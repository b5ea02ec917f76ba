// A writable failing at a random chunk, or a cancel at a random chunk, under
// both strategies: the snapshot errors (or just stops), no page stays
// protected, no writer waits, no pool buffer stays lent, and the writable
// ends up destroyed, so its reader sees a failed stream, not a short one.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { Subject, takeUntil } from 'rxjs';
import { expect, it } from 'vitest';
import { SinkError } from '../../src/errors';
import { snapshot } from '../../src/pipeline/snapshot';
import { StreamSink } from '../../src/storage/StreamSink';
import { expectAllUnprotected } from '../support/invariants';
import { watchedStrategy } from './invariants';
import { filledMemory, settle, startWriters, type Writers } from './support';

it('fails or stops cleanly at any chunk', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        strategy: fc.constantFrom('queue' as const, 'copy' as const),
        pages: fc.integer({ min: 4, max: 48 }),
        capacity: fc.integer({ min: 1, max: 6 }),
        runPages: fc.integer({ min: 1, max: 6 }),
        poolPages: fc.integer({ min: 0, max: 6 }),
        highWaterMark: fc.constantFrom(1, 4096, 65536),
        writers: fc.integer({ min: 0, max: 3 }),
        at: fc.integer({ min: 0, max: 40 }),
        how: fc.constantFrom('fail' as const, 'cancel' as const),
        async: fc.boolean(),
        seed: fc.integer(),
      }),
      async (c) => {
        const cancel$ = new Subject<void>();
        let chunks = 0;
        const writable = new Writable({
          highWaterMark: c.highWaterMark,
          write(_chunk, _encoding, callback) {
            const n = chunks++;
            if (n === c.at && c.how === 'cancel') cancel$.next();
            const error = n === c.at && c.how === 'fail' ? Object.assign(new Error('EIO: injected'), { code: 'EIO' }) : null;
            if (c.async) setImmediate(() => callback(error));
            else callback(error);
          },
        });
        const memory = filledMemory(4096, [{ name: 'ram', size: c.pages * 4096 }], c.seed);
        const sink = new StreamSink(writable, { capacity: c.capacity });
        const watched = watchedStrategy(c.strategy);
        let writers: Writers | undefined;
        let done = false;
        let failure: unknown;
        await new Promise<void>((resolve) => {
          snapshot(memory, sink, { strategy: watched.strategy, runBytes: c.runPages * 4096, poolPages: c.poolPages })
            .pipe(takeUntil(cancel$))
            .subscribe({
              next: (e) => {
                if (e.type === 'started') writers = startWriters(memory, c.writers, c.seed);
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

        if (done) {
          expect(sink.state).toBe('ended');
          expect(writable.writableFinished).toBe(true);
        } else {
          expect(sink.state).toBe('aborted');
          expect(writable.destroyed).toBe(true);
          if (c.how === 'fail') expect(((failure as SinkError).cause as NodeJS.ErrnoException).code).toBe('EIO');
          else expect(failure).toBeUndefined();
        }
        expectAllUnprotected(memory);
        await settle();
        expect(writers?.pending ?? 0).toBe(0);
        await writers?.stop();
        expect(watched.pool()?.borrowed ?? 0).toBe(0);
      },
    ),
    { numRuns: 150 },
  );
});
