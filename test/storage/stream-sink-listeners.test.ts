// A StreamSink leaves a long-lived writable (`endStream: false`) as it found
// it: no 'error' or 'drain' listener stays behind after a snapshot, whether it
// ended or was aborted, so listeners do not pile up across snapshots and a
// later error is not swallowed. The old option name `end` is refused.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { StreamSink } from '../../src/storage/StreamSink';
import { runToEnd, settle } from './support';

const memory = () => new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 16 * 4096 }] });

it('leaves no listener behind after each of many snapshots on one writable', async () => {
  const writable = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const m = memory();
  for (let i = 0; i < 12; i++) {
    const outcome = await runToEnd(snapshot(m, new StreamSink(writable, { endStream: false })));
    expect(outcome.kind).toBe('done');
    expect([writable.listenerCount('error'), writable.listenerCount('drain')]).toEqual([0, 0]);
  }
  // A later error is the owner's to handle: nothing swallows it.
  expect(() => writable.emit('error', new Error('later'))).toThrow('later');
});

it('after an abort without destroy, removes its error listener once the writable is done with its chunks', async () => {
  const held: (() => void)[] = [];
  const writable = new Writable({ write: (_chunk, _encoding, callback) => void held.push(() => callback()) });
  const sink = new StreamSink(writable, { endStream: false, destroyOnAbort: false });
  sink.start({ pageSize: 4096, blocks: memory().blocks, t0: 0, wallTime: 0, strategy: 'test' });
  sink.write({ block: 0, page: 0, count: 2, via: 'bulk', data: new Uint8Array(2 * 4096).fill(1) }, () => undefined);
  await sink.abort(new Error('cancelled'));
  expect(writable.destroyed).toBe(false);
  // Chunks still in the writable may fail: the listener stays until they are written…
  expect(writable.listenerCount('error')).toBeGreaterThan(0);
  await settle();
  expect(held.length).toBe(1);
  while (held.length > 0) {
    held.shift()?.();
    await settle();
  }
  // …and then goes.
  expect([writable.listenerCount('error'), writable.listenerCount('drain')]).toEqual([0, 0]);
});

it('refuses the old option name `end`', () => {
  const writable = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  expect(() => new StreamSink(writable, { end: false } as never)).toThrow(OptionError);
  try {
    new StreamSink(writable, { end: false } as never);
  } catch (error) {
    expect((error as OptionError).option).toBe('end');
    expect((error as OptionError).message).toContain('endStream');
  }
});
