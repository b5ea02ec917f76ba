import { isProtected } from '../../src/memory/contract';
// A failing writable fails the snapshot with the stream's error, releases
// every page and writer; an abort destroys the writable with its reason, so
// the reader of the other end sees a failed stream rather than a short one.
import { createWriteStream } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { Subject, takeUntil } from 'rxjs';
import { expect, it } from 'vitest';
import { SinkError } from '../../src/errors';
import { snapshot } from '../../src/pipeline/snapshot';
import { StreamSink } from '../../src/storage/StreamSink';
import { filledMemory, runToEnd, settle, startWriters, type Writers } from './support';

it.each(['queue', 'copy'] as const)('fails with ENOSPC from /dev/full under %s, releasing everyone', async (strategy) => {
  const memory = filledMemory(4096, [{ name: 'ram', size: 256 * 4096 }], 8, 0);
  const sink = new StreamSink(createWriteStream('/dev/full'));
  let writers: Writers | undefined;
  const outcome = await runToEnd(snapshot(memory, sink, { strategy }), () => (writers = startWriters(memory, 2, 8)));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect(outcome.error).toBeInstanceOf(SinkError);
  expect(((outcome.error as SinkError).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
  expect(!memory.states.some(isProtected)).toBe(true);
  await settle();
  expect(writers?.pending).toBe(0);
  await writers?.stop();
});

it('fails with the error of a writable that breaks part way', async () => {
  let chunks = 0;
  const writable = new Writable({
    write(_chunk, _encoding, callback) {
      callback(++chunks === 5 ? Object.assign(new Error('EIO: broken pipe to the backup host'), { code: 'EIO' }) : null);
    },
  });
  const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 9, 0);
  const sink = new StreamSink(writable, { capacity: 2 });
  const outcome = await runToEnd(snapshot(memory, sink, { runBytes: 2 * 4096 }));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect(((outcome.error as SinkError).cause as NodeJS.ErrnoException).code).toBe('EIO');
  expect(!memory.states.some(isProtected)).toBe(true);
  expect(sink.state).toBe('aborted');
});

it('destroys the writable with the reason when cancelled', async () => {
  const writable = new PassThrough();
  writable.resume();
  const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 10, 0);
  const sink = new StreamSink(writable);
  const cancel$ = new Subject<void>();
  const outcome = runToEnd(snapshot(memory, sink).pipe(takeUntil(cancel$)));
  const errors: Error[] = [];
  writable.on('error', (e) => errors.push(e));
  cancel$.next();
  await outcome;
  await sink.whenClosed();
  expect(writable.destroyed).toBe(true);
  expect(errors.map((e) => e.message)).toEqual(['snapshot cancelled']);
  expect(!memory.states.some(isProtected)).toBe(true);
});

it('leaves the writable open with `endStream: false`, the trailer written', async () => {
  const chunks: Buffer[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  const memory = filledMemory(4096, [{ name: 'ram', size: 16 * 4096 }], 12, 0);
  const sink = new StreamSink(writable, { endStream: false });
  const outcome = await runToEnd(snapshot(memory, sink));
  await sink.whenClosed();
  expect(outcome.kind).toBe('done');
  expect(writable.writableEnded).toBe(false);
  expect(Buffer.concat(chunks).subarray(-56, -52).toString('latin1')).toBe('TRLR');
});

it('fails runs still waiting in the sink when a full writable fails', async () => {
  // Full after the header, and never done with it: the run waits in the sink, not in the writable.
  const writable = new Writable({ highWaterMark: 1, write: () => undefined });
  const sink = new StreamSink(writable);
  const memory = filledMemory(4096, [{ name: 'ram', size: 4 * 4096 }], 13, 0);
  sink.start({ pageSize: 4096, blocks: memory.blocks, t0: 0, wallTime: 0, strategy: 'test' });
  let result: unknown = 'no callback';
  sink.write({ block: 0, page: 0, count: 4, via: 'bulk', data: memory.block('ram').bytes }, (error) => (result = error));
  expect(writable.writableNeedDrain).toBe(true);
  writable.destroy(Object.assign(new Error('EIO: the disk went away'), { code: 'EIO' }));
  await settle();
  expect((result as NodeJS.ErrnoException).code).toBe('EIO');
});
