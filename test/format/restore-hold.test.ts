// While `restore` writes a memory, it holds it: a snapshot or a live restore
// started meanwhile is refused with RestoreInProgressError('eager'), and the
// memory takes both again once the restore has ended.
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemorySink, PagedMemory, restore, restoreLive, RestoreInProgressError, snapshot } from '../../src';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, tempDir } from '../storage/support';

const dir = tempDir('restore-hold');
afterAll(() => dir.remove());
const path = dir.file('held.snap');
// Large enough that the restore is still writing when the live restore has read its header.
const blocks = [{ name: 'ram', size: 8192 * 4096 }];
beforeAll(async () => {
  const outcome = await runToEnd(snapshot(filledMemory(4096, blocks, 3), new FileSink(path)));
  if (outcome.kind !== 'done') throw new Error('setup snapshot failed');
});

/** What an observable ends with: its error, or `undefined` when it emits or completes first. */
function errorOf(events$: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve) => {
    const subscription = events$.subscribe({
      next: () => {
        resolve(undefined);
        queueMicrotask(() => subscription.unsubscribe());
      },
      error: resolve,
      complete: () => resolve(undefined),
    });
  });
}

it('refuses a snapshot and a live restore while it writes, and lets go at its end', async () => {
  const memory = new PagedMemory({ blocks });
  const restoring = restore(path, memory);
  const bySnapshot = await errorOf(snapshot(memory, new MemorySink()));
  // A live restore reads its file's header first, then finds the memory held.
  const byLoad = await errorOf(restoreLive(path, memory));
  expect(bySnapshot).toBeInstanceOf(RestoreInProgressError);
  expect((bySnapshot as RestoreInProgressError).restore).toBe('eager');
  expect(byLoad).toBeInstanceOf(RestoreInProgressError);
  expect(() => memory.share()).toThrow(RestoreInProgressError);
  await expect(restore(path, memory)).rejects.toBeInstanceOf(RestoreInProgressError);
  await restoring;
  expect((await runToEnd(snapshot(memory, new MemorySink()))).kind).toBe('done');
});
