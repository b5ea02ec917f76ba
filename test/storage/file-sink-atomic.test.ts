// The file is written under a temporary name in the same directory and gets
// its final name only after the trailer is written and fsync has returned.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, spyFs, tempDir } from './support';

const dir = tempDir('atomic');
afterAll(() => dir.remove());

it('writes a temporary file, fsyncs it, closes it, then links it into place', async () => {
  const path = dir.file('guest.snap');
  // Whether the final name existed at each call, and the temporary file's size then.
  const seen: { op: string; final: boolean; tempSize: number }[] = [];
  let sink: FileSink | undefined;
  const io = spyFs({
    before: (op) => {
      const temp = (sink as FileSink).tempPath;
      seen.push({ op, final: existsSync(path), tempSize: existsSync(temp) ? statSync(temp).size : -1 });
      return undefined;
    },
  });
  sink = new FileSink(path, { fs: io, writeBytes: 64 * 1024 });
  expect(dirname(sink.tempPath)).toBe(dirname(path));
  expect(sink.tempPath).not.toBe(path);
  const memory = filledMemory(4096, [{ name: 'ram', size: 1 << 20 }], 3);
  const outcome = await runToEnd(snapshot(memory, sink));
  expect(outcome.kind).toBe('done');

  const ops = seen.map((s) => s.op).filter((op) => op !== 'lstatSync');
  const fsync = ops.indexOf('fsync');
  const link = ops.indexOf('link');
  // The temporary file created, every write, then fsync, close, link, the temporary name
  // removed, the directory synced.
  expect(ops[0]).toBe('openSync');
  expect(io.calls[1]?.args[0]).toBe(sink.tempPath);
  expect(ops.slice(1, fsync).every((op) => op === 'writev')).toBe(true);
  expect(ops.slice(fsync)).toEqual(['fsync', 'close', 'link', 'unlink', 'open', 'fsync', 'close']);
  // The final name appears only with the link, when the temporary file is complete.
  const size = statSync(path).size;
  expect(seen.filter((s) => s.op !== 'lstatSync' && s.final)).toEqual(seen.filter((s) => s.op !== 'lstatSync').slice(link + 1));
  expect(seen.find((s) => s.op === 'fsync')?.tempSize).toBe(size);
  expect(existsSync(sink.tempPath)).toBe(false);
  expect(sink.state).toBe('ended');
  expect((await verify(path)).ok).toBe(true);
});
