// Rule: a StreamSink whose writable closes or is destroyed before the
// snapshot ends, at any point (the first chunk, a middle one, the last, during
// the end), fails the snapshot with a SinkError naming the cause: the
// writable's own error when it was destroyed with one, otherwise a
// StreamClosedError. Every page is unprotected, no writer waits, no pool
// buffer stays lent, and nothing hangs, even when the writable never calls
// back the chunk it held.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SinkError, StreamClosedError } from '../../src/errors';
import { snapshot } from '../../src/pipeline/snapshot';
import { StreamSink } from '../../src/storage/StreamSink';
import { expectAllUnprotected } from '../support/invariants';
import { watchedStrategy } from './invariants';
import { filledMemory, runToEnd, settle, startWriters, type Outcome, type Writers } from './support';

/** Fails the test instead of hanging it. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)));
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

it('fails with a SinkError naming the cause when the writable closes at any chunk, or during the end', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        strategy: fc.constantFrom('queue' as const, 'copy' as const),
        pages: fc.integer({ min: 2, max: 40 }),
        capacity: fc.integer({ min: 1, max: 6 }),
        runPages: fc.integer({ min: 1, max: 6 }),
        poolPages: fc.integer({ min: 0, max: 6 }),
        highWaterMark: fc.constantFrom(1, 4096, 65536),
        copy: fc.boolean(),
        endStream: fc.boolean(),
        writers: fc.integer({ min: 0, max: 3 }),
        // The chunk the writable goes away at: 0 is the header; past the last record, the end.
        at: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 }), fc.constant(1000)),
        // `hold`: the chunk's callback never comes; `after`: the chunk is written, then the stream goes.
        how: fc.constantFrom('hold' as const, 'after' as const),
        withError: fc.boolean(),
        async: fc.boolean(),
        seed: fc.integer(),
      }),
      async (c) => {
        const epipe = Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
        let chunks = 0;
        let destroyedAt: 'chunk' | 'end' | undefined;
        let sink: StreamSink | undefined;
        const goAway = (w: Writable, where: 'chunk' | 'end'): void => {
          destroyedAt = where;
          const destroy = () => (c.withError ? w.destroy(epipe) : w.destroy());
          if (c.async) setImmediate(destroy);
          else destroy();
        };
        const writable = new Writable({
          highWaterMark: c.highWaterMark,
          write(_chunk, _encoding, callback) {
            const n = chunks++;
            // Once it is going away, the writable completes nothing more.
            if (destroyedAt !== undefined) return;
            // The chunk picked, or the trailer if the stream got that far (held:
            // a trailer written in full would end the snapshot first).
            const ending = sink?.state === 'ending';
            const now = n === c.at || ending;
            if (now && (c.how === 'hold' || ending)) return goAway(this, 'chunk');
            if (c.async) setImmediate(() => callback());
            else callback();
            if (now) goAway(this, 'chunk');
          },
          final(callback) {
            // With `endStream`, the end itself: the stream goes instead of finishing.
            if (destroyedAt === undefined) goAway(this, 'end');
            else void callback;
          },
        });
        const memory = filledMemory(4096, [{ name: 'ram', size: c.pages * 4096 }], c.seed);
        sink = new StreamSink(writable, { capacity: c.capacity, copy: c.copy, endStream: c.endStream });
        const watched = watchedStrategy(c.strategy);
        let writers: Writers | undefined;
        const outcome: Outcome = await within(
          5000,
          runToEnd(
            snapshot(memory, sink, { strategy: watched.strategy, runBytes: c.runPages * 4096, poolPages: c.poolPages }),
            () => (writers = startWriters(memory, c.writers, c.seed)),
          ),
        );

        expect(destroyedAt).toBeDefined();
        expect(outcome.kind).toBe('error');
        if (outcome.kind !== 'error') return;
        expect(outcome.events.some((e) => e.type === 'done')).toBe(false);
        const error = outcome.error as SinkError;
        expect(error).toBeInstanceOf(SinkError);
        if (c.withError) {
          expect(error.cause).toBe(epipe);
          expect(error.message).toContain('EPIPE');
        } else {
          expect(error.cause).toBeInstanceOf(StreamClosedError);
          expect(error.message).toContain('closed or destroyed before the snapshot ended');
        }
        expectAllUnprotected(memory);
        await within(5000, sink.whenClosed());
        expect(sink.state).toBe('aborted');
        expect(writable.destroyed).toBe(true);
        await settle();
        expect(writers?.pending ?? 0).toBe(0);
        await writers?.stop();
        expect(watched.pool()?.borrowed ?? 0).toBe(0);
        expect(writable.listenerCount('drain')).toBe(0);
      },
    ),
    { numRuns: 200 },
  );
});

it('fails a snapshot whose writable is destroyed between two turns, with nothing in flight', async () => {
  const writable = new Writable({ write: (_chunk, _encoding, callback) => void setImmediate(callback) });
  const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 5);
  const sink = new StreamSink(writable, { capacity: 2 });
  let progress = 0;
  const outcome = await within(
    5000,
    new Promise<Outcome>((resolve) => {
      const events: Outcome['events'][number][] = [];
      snapshot(memory, sink, { runBytes: 4096, turnBytes: 4 * 4096 }).subscribe({
        next: (e) => {
          events.push(e);
          // At a turn's end the pipeline yields: the writable goes away meanwhile.
          if (e.type === 'progress' && ++progress === 2) writable.destroy();
        },
        error: (error: unknown) => resolve({ kind: 'error', error, events }),
        complete: () => resolve({ kind: 'done', stats: undefined as never, events }),
      });
    }),
  );
  expect(outcome.kind).toBe('error');
  expect(((outcome as { error: SinkError }).error.cause as StreamClosedError).bytesHandedOver).toBeGreaterThan(0);
  expectAllUnprotected(memory);
});
