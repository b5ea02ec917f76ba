import { isProtected } from '../../src/memory/contract';
// A real full file system: a 1 MiB tmpfs (mounting needs root, which these
// machines give the tests). Writing a 4 MiB snapshot there fails with the
// OS's ENOSPC; the snapshot errors, every page is unprotected, every writer
// released, and the directory is left empty.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SinkError } from '../../src/errors';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, settle, startWriters, type Writers } from './support';

let mountPoint = '';
beforeAll(() => {
  mountPoint = mkdtempSync(join(tmpdir(), 'bgsnap-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
});
afterAll(() => {
  execFileSync('umount', [mountPoint]);
  rmdirSync(mountPoint);
});

it.each(['queue', 'copy'] as const)('fails with ENOSPC under %s and leaves nothing', async (strategy) => {
  const path = join(mountPoint, `${strategy}.snap`);
  const memory = filledMemory(4096, [{ name: 'ram', size: 4 << 20 }], 11, 0);
  const sink = new FileSink(path);
  let writers: Writers | undefined;
  const outcome = await runToEnd(snapshot(memory, sink, { strategy }), () => (writers = startWriters(memory, 2, 11)));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect(outcome.error).toBeInstanceOf(SinkError);
  expect((outcome.error as SinkError).operation).toBe('write');
  expect(((outcome.error as SinkError).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
  expect(!memory.states.some(isProtected)).toBe(true);
  await settle();
  expect(writers?.pending).toBe(0);
  await writers?.stop();
  expect(readdirSync(mountPoint)).toEqual([]);
});
