// With `keepTemp`, a failed snapshot leaves its temporary file for a
// post-mortem; still nothing appears under the final name.
import { existsSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, osError, runToEnd, spyFs, tempDir } from './support';

const dir = tempDir('keep');
afterAll(() => dir.remove());

it('keeps the temporary file, closed, and nothing under the final name', async () => {
  const path = dir.file('kept.snap');
  let writes = 0;
  const io = spyFs({ before: (op) => (op === 'writev' && writes++ === 2 ? osError('EIO') : undefined) });
  const sink = new FileSink(path, { keepTemp: true, writeBytes: 4096, capacity: 2, fs: io });
  const outcome = await runToEnd(snapshot(filledMemory(4096, [{ name: 'ram', size: 32 * 4096 }], 1), sink, { runBytes: 4096 }));
  await sink.whenClosed();
  expect(outcome.kind).toBe('error');
  expect(existsSync(path)).toBe(false);
  expect(readdirSync(dir.path)).toEqual([basename(sink.tempPath)]);
  expect([...io.openFds]).toEqual([]);
});
