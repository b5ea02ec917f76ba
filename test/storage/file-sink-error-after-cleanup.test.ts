import { isProtected } from '../../src/memory/contract';
import { readdirSync } from 'node:fs';
import { tap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSink, SinkError, snapshot } from '../../src';
import { filledMemory, osError, runToEnd, spyFs, tempDir } from './support';

describe('FileSink failure, as the snapshot reports it', () => {
  const dir = tempDir('error-after-cleanup');
  afterEach(() => dir.remove());

  it('emits the error only once the temporary file is gone and the handle closed', async () => {
    const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 3);
    const io = spyFs({ before: (op, i) => (op === 'writev' && i > 3 ? osError('EIO') : undefined) });
    let seenAtError: { files: string[]; fds: number } | undefined;
    const sink = new FileSink(dir.file('x.bgsnap'), { capacity: 2, writeBytes: 8 * 4096, fs: io });
    const outcome = await runToEnd(
      snapshot(memory, sink, { runBytes: 4 * 4096 }).pipe(
        tap({ error: () => (seenAtError = { files: readdirSync(dir.path), fds: io.openFds.size }) }),
      ),
    );
    expect(outcome.kind).toBe('error');
    if (outcome.kind === 'error') expect((outcome.error as SinkError).operation).toBe('write');
    expect(seenAtError).toEqual({ files: [], fds: 0 });
    expect(!memory.states.some(isProtected)).toBe(true);
  });
});
