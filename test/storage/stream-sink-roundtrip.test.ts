// StreamSink writes the same format to any Writable: to a file stream, and
// through gzip; both restore to memory as it was at t0, under both strategies.
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { restore } from '../../src/format/restore';
import { verify } from '../../src/format/verify';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { StreamSink } from '../../src/storage/StreamSink';
import { copyBlocks } from '../support/invariants';
import { filledMemory, runToEnd, startWriters, tempDir, type Writers } from './support';

const dir = tempDir('stream');
afterAll(() => dir.remove());
const blocks = [
  { name: 'ram', size: 4096 * 200 },
  { name: 'vga', size: 4096 * 8 },
];

describe.each(['queue', 'copy'] as const)('strategy %s', (strategy) => {
  it.each(['file', 'gzip'] as const)('through a %s stream', async (kind) => {
    const memory = filledMemory(4096, blocks, strategy.length);
    const path = dir.file(`${strategy}-${kind}.snap`);
    const file = createWriteStream(kind === 'gzip' ? `${path}.gz` : path);
    const gzip = createGzip();
    const piped = kind === 'gzip' ? pipeline(gzip, file) : Promise.resolve();
    const sink = new StreamSink(kind === 'gzip' ? gzip : file, { capacity: 4 });
    let atT0: Map<string, Uint8Array> | undefined;
    let writers: Writers | undefined;
    const outcome = await runToEnd(snapshot(memory, sink, { strategy, poolPages: 8, runBytes: 4 * 4096 }), () => {
      atT0 = copyBlocks(memory);
      writers = startWriters(memory, 2, 3);
    });
    await writers?.stop();
    await sink.whenClosed();
    await piped;
    expect(outcome.kind).toBe('done');
    expect(sink.state).toBe('ended');
    if (kind === 'gzip') await pipeline(createReadStream(`${path}.gz`), createGunzip(), createWriteStream(path));

    expect((await verify(path)).ok).toBe(true);
    const target = new PagedMemory({ pageSize: 4096, blocks });
    await restore(path, target);
    for (const b of target.blocks) expect(Buffer.compare(b.bytes, atT0?.get(b.name) as Uint8Array)).toBe(0);
    if (kind === 'gzip') expect(readFileSync(`${path}.gz`).length).toBeLessThan(readFileSync(path).length);
  });
});
