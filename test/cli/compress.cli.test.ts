/**
 * Compressed snapshot files through the CLI, in process: a chain whose links
 * are compressed, verified and inspected as plain ones are (with the codec
 * and the ratio), merged with and without `--compress`, restored.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bgsnap } from './support/inProcess';
import { PagedMemory } from '../../src/memory/PagedMemory';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { tempDir } from '../storage/support';

const dir = tempDir('cli-compress');
afterAll(() => dir.remove());
const PAGE = 4096;
const chain = [0, 1].map((i) => dir.file(`z.${i}.bgsnap`));
let image: Buffer;

beforeAll(async () => {
  // Text pages (they shrink) and zero pages; link 1 after rewriting a few.
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: 64 * PAGE }] });
  const text = Buffer.from('{"level":"info","msg":"order shipped","id":12345}\n'.repeat(2000));
  for (let p = 0; p < 64; p += 2) memory.block('ram').bytes.set(text.subarray(p * 7, p * 7 + PAGE), p * PAGE);
  for (let i = 0; i < chain.length; i++) {
    if (i > 0) await memory.write('ram', 5 * PAGE, text.subarray(100, 100 + 3 * PAGE));
    await lastValueFrom(snapshot(memory, new FileSink(chain[i] as string, { compression: 'zstd' }), { incremental: i > 0 }));
  }
  image = Buffer.from(memory.block('ram').bytes);
});

it('verifies a compressed chain, each line with the codec and the ratio', async () => {
  const r = await bgsnap('verify', ...chain);
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/; zstd, ratio \d+\.\d\d \(/);
  expect(lines[1]).toMatch(/; zstd, ratio \d+\.\d\d \(/);
  expect(lines[2]).toMatch(/^ok: the 2 files are one chain/);
});

it('merges with --compress into a compressed full snapshot, and without it into a plain one', async () => {
  const zstd = dir.file('merged-zstd.bgsnap');
  const plain = dir.file('merged-plain.bgsnap');
  expect((await bgsnap('merge', ...chain, '--out', zstd, '--compress')).code).toBe(0);
  expect((await bgsnap('merge', ...chain, '--out', plain)).code).toBe(0);
  expect(readFileSync(zstd).readUInt8(92)).toBe(1);
  expect(readFileSync(plain).readUInt8(92)).toBe(0);
  const inspected = await bgsnap('inspect', zstd, plain, '--json');
  const [z, p] = JSON.parse(inspected.stdout) as { compression: { codec: string; records: number; ratio: number } }[];
  expect(z?.compression.codec).toBe('zstd');
  expect(z?.compression.records).toBeGreaterThan(0);
  expect(z?.compression.ratio).toBeGreaterThan(2);
  expect(p?.compression).toEqual(expect.objectContaining({ codec: 'none', records: 0, ratio: 1 }));
  const raw = dir.file('merged.raw');
  expect((await bgsnap('restore', zstd, '--into', raw)).code).toBe(0);
  expect(Buffer.compare(readFileSync(raw), image)).toBe(0);
});

it('refuses a codec --compress does not know', async () => {
  const r = await bgsnap('merge', ...chain, '--out', dir.file('x.bgsnap'), '--compress', 'lz4');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/option '--compress \[codec\]' argument 'lz4' is invalid. Allowed choices are zstd/);
});
