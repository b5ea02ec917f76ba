// t0 and wallTime must be finite: a reader refuses NaN and ±∞, so the writer
// refuses them at start, with an OptionError naming the field, before any
// byte is written or any file created.
import { readdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { encodeHeader } from '../../src/format/encode';
import { FileSink } from '../../src/storage/FileSink';
import type { SnapshotHeader } from '../../src/storage/Sink';
import { StreamSink } from '../../src/storage/StreamSink';
import { tempDir } from '../storage/support';

const dir = tempDir('times');
afterAll(() => dir.remove());
const header = (times: Partial<SnapshotHeader>): SnapshotHeader => ({
  pageSize: 4096,
  blocks: [{ name: 'ram', size: 4096, pages: 1, firstPage: 0 }],
  t0: 0,
  wallTime: Date.now(),
  strategy: 'copy',
  ...times,
});

it.each([
  ['header.t0', { t0: Number.NaN }],
  ['header.t0', { t0: Number.POSITIVE_INFINITY }],
  ['header.wallTime', { wallTime: Number.NEGATIVE_INFINITY }],
  ['header.wallTime', { wallTime: Number.NaN }],
])('refuses `%s` not finite', (option, times) => {
  const refused = (start: () => void): OptionError => {
    try {
      start();
    } catch (error) {
      return error as OptionError;
    }
    throw new Error('not refused');
  };
  for (const error of [
    refused(() => encodeHeader(header(times))),
    refused(() => new FileSink(dir.file('t.snap')).start(header(times))),
    refused(() => new StreamSink(new Writable({ write: (_c, _e, cb) => cb() })).start(header(times))),
  ]) {
    expect(error).toBeInstanceOf(OptionError);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(/finite/);
  }
  expect(readdirSync(dir.path)).toEqual([]);
});
