// In real time, on the default scheduler, a throttled FileSink takes the
// device's time, and the file is still a valid snapshot.
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { filledMemory, runToEnd, tempDir } from './support';

const dir = tempDir('throttle');
afterAll(() => dir.remove());

it('a 256 KiB snapshot at 10 MB/s and 2 ms per write takes about 60 ms', async () => {
  const path = dir.file('slow.snap');
  const sink = new ThrottledSink(new FileSink(path), { profile: { bandwidth: 10e6, latency: 2 } });
  const memory = filledMemory(4096, [{ name: 'ram', size: 64 * 4096 }], 6, 0);
  const started = performance.now();
  const outcome = await runToEnd(snapshot(memory, sink, { runBytes: 16 * 1024, maxWriteBytes: 16 * 1024 }));
  const elapsed = performance.now() - started;
  await sink.whenClosed();
  expect(outcome.kind).toBe('done');
  // 16 writes of (2 ms + 16384 B / 10 MB/s = 1.64 ms), one at a time: 58.2 ms, less
  // at most a millisecond for a timer that fires early.
  expect(elapsed).toBeGreaterThanOrEqual(57);
  expect(elapsed).toBeLessThan(1000);
  expect((await verify(path)).ok).toBe(true);
});
