// StreamSink hands the writable bytes of its own by default. A run's data is
// a view of live memory or of a pool buffer, which writers change as soon as
// the run's credit comes back; a Transform or PassThrough calls a chunk's
// write callback when it has pushed the chunk on, while the next stream still
// holds the same bytes. With `copy: false` it hands over views, for writables
// that are done with a chunk when its callback fires.
import { PassThrough, Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { Header, Record } from '../../src/format/layout';
import type { SnapshotHeader } from '../../src/storage/Sink';
import { StreamSink } from '../../src/storage/StreamSink';
import { settle } from './support';

const header: SnapshotHeader = {
  pageSize: 4096,
  blocks: [{ name: 'ram', size: 4 * 4096, pages: 4, firstPage: 0 }],
  t0: 0,
  wallTime: 0,
  strategy: 'test',
};

/** A destination that holds every chunk, without copying it, until the test lets it go. */
function heldDestination(): { writable: Writable; release(): Promise<Buffer> } {
  const held: (() => void)[] = [];
  const received: Buffer[] = [];
  const writable = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      held.push(() => {
        received.push(Buffer.from(chunk));
        callback();
      });
    },
  });
  return {
    writable,
    release: async () => {
      while (held.length > 0) {
        held.shift()?.();
        await settle();
      }
      return Buffer.concat(received);
    },
  };
}

it('writes through a PassThrough the bytes the run had when it was handed over', async () => {
  const destination = heldDestination();
  const through = new PassThrough();
  through.pipe(destination.writable);
  const sink = new StreamSink(through, { capacity: 1 });
  sink.start(header);
  const data = new Uint8Array(4 * 4096).fill(7);
  await new Promise<void>((resolve, reject) => sink.write({ block: 0, page: 0, count: 4, via: 'bulk', data }, (e) => (e ? reject(e) : resolve())));
  // The credit is back while the destination still holds the chunk: the
  // pipeline now unprotects the pages, and writers change them.
  data.fill(9);
  const bytes = await destination.release();
  const headerLength = bytes.readUInt32LE(Header.length);
  const pages = bytes.subarray(headerLength + Record.fixedSize, headerLength + Record.fixedSize + 4 * 4096);
  expect(pages.length).toBe(4 * 4096);
  expect(pages.every((b) => b === 7)).toBe(true);
  await sink.abort(new Error('test over'));
});

it('hands the writable views of the run with `copy: false`', async () => {
  const chunks: Uint8Array[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const sink = new StreamSink(writable, { copy: false, endStream: false });
  sink.start(header);
  const data = new Uint8Array(4 * 4096).fill(7);
  await new Promise<void>((resolve, reject) => sink.write({ block: 0, page: 0, count: 4, via: 'bulk', data }, (e) => (e ? reject(e) : resolve())));
  expect(chunks.some((c) => c.buffer === data.buffer && c.length === data.length)).toBe(true);
  await sink.abort(new Error('test over'));
});
