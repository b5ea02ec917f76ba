import { isProtected } from '../../src/memory/contract';
// A FileSink refuses to replace an existing file unless `overwrite` is set:
// at start, and at the rename if the file appeared meanwhile. The existing
// file is left as it was.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { FileExistsError, SinkError } from '../../src/errors';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, spyFs, tempDir } from './support';

const dir = tempDir('overwrite');
afterAll(() => dir.remove());
const memory = () => filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 5);

it('refuses at start when the file exists, and leaves it alone', async () => {
  const path = dir.file('start.snap');
  writeFileSync(path, 'precious');
  const sink = new FileSink(path);
  const m = memory();
  const outcome = await runToEnd(snapshot(m, sink));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect(outcome.error).toBeInstanceOf(SinkError);
  expect((outcome.error as SinkError).operation).toBe('start');
  const cause = (outcome.error as SinkError).cause;
  expect(cause).toBeInstanceOf(FileExistsError);
  expect((cause as FileExistsError).path).toBe(path);
  expect((cause as FileExistsError).message).toMatch(/overwrite: true/);
  expect(readFileSync(path, 'utf8')).toBe('precious');
  expect(readdirSync(dir.path).filter((f) => f.includes('start.snap'))).toEqual(['start.snap']);
  expect(!m.states.some(isProtected)).toBe(true);
});

it('refuses at the rename when the file appeared during the snapshot', async () => {
  const path = dir.file('race.snap');
  // Someone creates the file just before the sink's first write.
  const io = spyFs({
    before: (op, index) => {
      if (op === 'writev' && index < 3) writeFileSync(path, 'raced', { flag: 'wx' });
      return undefined;
    },
  });
  const sink = new FileSink(path, { fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect((outcome.error as SinkError).operation).toBe('end');
  expect((outcome.error as SinkError).cause).toBeInstanceOf(FileExistsError);
  expect(readFileSync(path, 'utf8')).toBe('raced');
  expect(readdirSync(dir.path).filter((f) => f.includes('race.snap'))).toEqual(['race.snap']);
});

it('replaces the file with `overwrite: true`', async () => {
  const path = dir.file('replace.snap');
  writeFileSync(path, 'old');
  const sink = new FileSink(path, { overwrite: true });
  const outcome = await runToEnd(snapshot(memory(), sink));
  expect(outcome.kind).toBe('done');
  expect((await verify(path)).ok).toBe(true);
  expect(readdirSync(dir.path).filter((f) => f.includes('replace.snap'))).toEqual(['replace.snap']);
});
