// The link (or rename) that gives the file its final name is FileSink's
// commit point. Before it, a failure or an abort removes the temporary file;
// after it, the file stays: an abort is ignored, and a step that fails after
// it (removing the temporary name, syncing the directory) is reported as a
// FileSinkError with `committed: true`, never by deleting the file. A
// temporary file that cannot be removed is reported too, by `whenClosed()`.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Subject, takeUntil } from 'rxjs';
import { afterAll, afterEach, expect, it } from 'vitest';
import { FileSinkError, SinkError } from '../../src/errors';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import type { SinkCallback } from '../../src/storage/Sink';
import { filledMemory, osError, runToEnd, spyFs, tempDir, type SpyFsHooks } from './support';

let dir = tempDir('commit');
afterEach(() => {
  dir.remove();
  dir = tempDir('commit');
});
afterAll(() => dir.remove());

const memory = () => filledMemory(4096, [{ name: 'ram', size: 32 * 4096 }], 17);

/** Whether the failure or abort comes at the directory's open: after the rename or link. */
const atDirectoryOpen = (then: () => NodeJS.ErrnoException | undefined): SpyFsHooks['before'] => (op) => (op === 'open' ? then() : undefined);

it.each([true, false])('keeps the new file when aborted after it has its name (overwrite: %s)', async (overwrite) => {
  const path = dir.file('latest.snap');
  if (overwrite) writeFileSync(path, 'the previous snapshot');
  const cancel$ = new Subject<void>();
  const io = spyFs({
    before: atDirectoryOpen(() => {
      cancel$.next();
      return undefined;
    }),
  });
  const sink = new FileSink(path, { overwrite, fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink).pipe(takeUntil(cancel$)));
  await sink.whenClosed();
  // The cancel stopped the snapshot (no `done`), but the file had its name already.
  expect(outcome.kind).toBe('done');
  expect(outcome.events.some((e) => e.type === 'done')).toBe(false);
  expect(sink.state).toBe('ended');
  expect(readdirSync(dir.path)).toEqual([basename(path)]);
  expect((await verify(path)).ok).toBe(true);
  // The directory was still synced.
  expect(io.calls.map((c) => c.op).slice(-3)).toEqual(['open', 'fsync', 'close']);
  expect([...io.openFds]).toEqual([]);
});

it('reports a failed directory fsync without removing the file', async () => {
  const path = dir.file('dirsync.snap');
  let dirOpened = false;
  const io = spyFs({
    before: (op) => {
      if (op === 'open') dirOpened = true;
      return op === 'fsync' && dirOpened ? osError('EIO', 'fsync') : undefined;
    },
  });
  const sink = new FileSink(path, { fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink));
  const closed = await sink.whenClosed().then(() => undefined, (e: unknown) => e);
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  expect((outcome.error as SinkError).operation).toBe('end');
  const cause = (outcome.error as SinkError).cause as FileSinkError;
  expect(cause).toBeInstanceOf(FileSinkError);
  expect(cause).toMatchObject({ step: 'syncDirectory', committed: true, path, leftover: undefined });
  expect((cause.cause as NodeJS.ErrnoException).code).toBe('EIO');
  expect(cause.message).toContain('is complete');
  expect(closed).toBe(cause);
  expect(sink.state).toBe('ended');
  expect(readdirSync(dir.path)).toEqual([basename(path)]);
  expect((await verify(path)).ok).toBe(true);
  expect([...io.openFds]).toEqual([]);
});

it('reports a directory it cannot open to sync', async () => {
  const path = dir.file('noread.snap');
  const io = spyFs({ before: atDirectoryOpen(() => osError('EACCES', 'open')) });
  const sink = new FileSink(path, { fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink));
  await sink.whenClosed().catch(() => undefined);
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  const cause = (outcome.error as SinkError).cause as FileSinkError;
  expect(cause).toMatchObject({ step: 'syncDirectory', committed: true });
  expect((cause.cause as NodeJS.ErrnoException).code).toBe('EACCES');
  expect((await verify(path)).ok).toBe(true);
});

it('reports a temporary name it cannot remove after the link; the file stays', async () => {
  const path = dir.file('unlink.snap');
  let linked = false;
  const io = spyFs({
    before: (op) => {
      if (op === 'link') linked = true;
      return op === 'unlink' && linked ? osError('EBUSY', 'unlink') : undefined;
    },
  });
  const sink = new FileSink(path, { fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink));
  const closed = await sink.whenClosed().then(() => undefined, (e: unknown) => e);
  expect(outcome.kind).toBe('error');
  if (outcome.kind !== 'error') return;
  const cause = (outcome.error as SinkError).cause as FileSinkError;
  expect(cause).toMatchObject({ step: 'unlink', committed: true, path, leftover: sink.tempPath });
  expect(closed).toBe(cause);
  expect(sink.state).toBe('ended');
  expect((await verify(path)).ok).toBe(true);
  // The directory was synced all the same.
  expect(io.calls.map((c) => c.op).slice(-3)).toEqual(['open', 'fsync', 'close']);
  expect(readdirSync(dir.path).sort()).toEqual([basename(path), basename(sink.tempPath)].sort());
});

it('reports, through whenClosed, a temporary file it cannot remove after a failure', async () => {
  const path = dir.file('leftover.snap');
  const io = spyFs({
    before: (op, index) => {
      if (op === 'writev' && index > 2) return osError('EIO');
      return op === 'unlink' ? osError('EBUSY', 'unlink') : undefined;
    },
  });
  const sink = new FileSink(path, { fs: io, capacity: 2, writeBytes: 4 * 4096 });
  const outcome = await runToEnd(snapshot(memory(), sink, { runBytes: 2 * 4096 }));
  const closed = await sink.whenClosed().then(() => undefined, (e: unknown) => e);
  expect(outcome.kind).toBe('error');
  expect(closed).toBeInstanceOf(FileSinkError);
  expect(closed).toMatchObject({ step: 'unlink', committed: false, path, leftover: sink.tempPath });
  expect((closed as Error).message).toContain(sink.tempPath);
  expect(existsSync(path)).toBe(false);
  expect(sink.state).toBe('aborted');
  expect([...io.openFds]).toEqual([]);
});

it('gives the file up when end() follows a failed write: aborted, temporary file gone when it calls back', async () => {
  const path = dir.file('late.snap');
  const io = spyFs({ before: (op, index) => (op === 'writev' && index > 0 ? osError('EIO') : undefined) });
  const sink = new FileSink(path, { fs: io });
  const m = memory();
  sink.start({ pageSize: 4096, blocks: m.blocks, t0: 0, wallTime: Date.now(), strategy: 'test' });
  const call = (f: (done: SinkCallback) => void) => new Promise<Error | undefined>((resolve) => f((e) => resolve(e ?? undefined)));
  // The header goes out alone; the run's write fails.
  await new Promise((resolve) => setImmediate(resolve));
  const written = await call((done) => sink.write({ block: 0, page: 0, count: 4, via: 'bulk', data: m.block('ram').bytes.subarray(0, 4 * 4096) }, done));
  expect((written as NodeJS.ErrnoException).code).toBe('EIO');
  let atCallback: { state: string; temp: boolean } | undefined;
  const ended = await call((done) =>
    sink.end((error) => {
      atCallback = { state: sink.state, temp: existsSync(sink.tempPath) };
      done(error);
    }),
  );
  expect((ended as NodeJS.ErrnoException).code).toBe('EIO');
  expect(atCallback).toEqual({ state: 'aborted', temp: false });
  await sink.whenClosed();
  expect(readdirSync(dir.path)).toEqual([]);
  expect([...io.openFds]).toEqual([]);
});

it('keeps the previous file when an overwrite fails before the rename', async () => {
  const path = dir.file('keep-old.snap');
  writeFileSync(path, 'the previous snapshot');
  const io = spyFs({ before: (op) => (op === 'fsync' ? osError('EIO', 'fsync') : undefined) });
  const sink = new FileSink(path, { overwrite: true, fs: io });
  const outcome = await runToEnd(snapshot(memory(), sink));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  expect(readFileSync(path, 'utf8')).toBe('the previous snapshot');
  expect(readdirSync(dir.path)).toEqual([basename(path)]);
});
