// An incremental snapshot is refused, like a full one, with any byte changed
// or cut short anywhere: its header, records, index and trailer.
import { writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { verify } from '../../src/format/verify';
import { tempDir } from '../storage/support';
import { chainIdentities, snapshotBytes, testHeader } from './writeFile';

const dir = tempDir('corrupt-incremental');
afterAll(() => dir.remove());
const [, child] = chainIdentities(2);
const good = snapshotBytes(testHeader(child), [
  { block: 0, page: 2, count: 2, fill: 3 },
  { block: 1, page: 1, count: 1, fill: 0, via: 'fault' },
]);

it('passes intact', async () => {
  const path = dir.file('good.bgsnap');
  writeFileSync(path, good);
  expect((await verify(path)).ok).toBe(true);
});

it('refuses every byte flipped', async () => {
  const path = dir.file('flipped.bgsnap');
  for (let at = 0; at < good.length; at++) {
    const bytes = Buffer.from(good);
    bytes[at] = (bytes[at] as number) ^ 0x01;
    writeFileSync(path, bytes);
    expect((await verify(path)).ok, `byte ${at}`).toBe(false);
  }
});

it('refuses the file cut at every offset', async () => {
  const path = dir.file('cut.bgsnap');
  for (let length = 0; length < good.length; length++) {
    writeFileSync(path, good.subarray(0, length));
    expect((await verify(path)).ok, `cut at ${length}`).toBe(false);
  }
});
