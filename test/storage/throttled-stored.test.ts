// ThrottledSink with `bytes: 'stored'` books on the device what the inner
// sink stored (compressed records as frames), not the pages: a compressible
// snapshot through a slow device takes the time of its compressed bytes.
import { lastValueFrom } from 'rxjs';
import { afterAll, expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { MemorySink } from '../../src/storage/MemorySink';
import { ThrottledSink } from '../../src/storage/ThrottledSink';
import { tempDir } from './support';

const dir = tempDir('throttled-stored');
afterAll(() => dir.remove());

/** 4 MiB of text: zstd stores it in a few KiB. */
function textMemory(): PagedMemory {
  const memory = new PagedMemory({ pageSize: 4096, blocks: [{ name: 'ram', size: 4 * 1024 * 1024 }] });
  const text = Buffer.from('INSERT INTO pages VALUES (1, 2, 3); -- a line of a log\n'.repeat(80_000));
  memory.block('ram').bytes.set(text.subarray(0, 4 * 1024 * 1024));
  return memory;
}

/** Seconds to snapshot through a 20 MB/s device counting `bytes`. */
async function seconds(name: string, bytes: 'pages' | 'stored'): Promise<number> {
  const sink = new ThrottledSink(new FileSink(dir.file(name), { compression: 'zstd' }), { profile: { bandwidth: 20e6, latency: 0, queueDepth: 4 }, bytes });
  const started = performance.now();
  await lastValueFrom(snapshot(textMemory(), sink));
  return (performance.now() - started) / 1000;
}

it('books the stored bytes with bytes: stored, and the pages without', async () => {
  const pages = await seconds('pages.snap', 'pages');
  const stored = await seconds('stored.snap', 'stored');
  // 4 MiB at 20 MB/s is 0.21 s; compressed, a few ms.
  expect(pages).toBeGreaterThan(0.2);
  expect(stored).toBeLessThan(0.1);
});

it('books the pages of a sink that does not say what it stored, and refuses another value', async () => {
  const sink = new ThrottledSink(new MemorySink(), { profile: { bandwidth: 20e6, latency: 0 }, bytes: 'stored' });
  const started = performance.now();
  await lastValueFrom(snapshot(textMemory(), sink));
  expect((performance.now() - started) / 1000).toBeGreaterThan(0.2);
  expect(() => new ThrottledSink(new MemorySink(), { profile: 'hdd', bytes: 'frames' as 'stored' })).toThrow(OptionError);
});
