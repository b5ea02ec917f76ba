// The encoder refuses an identity the format cannot hold, naming the field;
// the names it writes come back as they were, a leading U+FEFF too.
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { encodeHeader } from '../../src/format/encode';
import { openSnapshot } from '../../src/format/reader';
import { bytesToUuid, uuidToBytes } from '../../src/format/uuid';
import type { SnapshotIdentity } from '../../src/storage/Sink';
import { tempDir } from '../storage/support';
import { blockTable, testHeader, writeSnapshot } from './writeFile';

const dir = tempDir('identity');
afterAll(() => dir.remove());
const a = randomUUID();
const b = randomUUID();
const c = randomUUID();

it.each<[string, SnapshotIdentity, string]>([
  ['an id that is not a UUID', { id: 'not-a-uuid', root: 'not-a-uuid', link: 0 }, 'header.identity.id'],
  ['the all-zero id', { id: '00000000-0000-0000-0000-000000000000', root: a, link: 0 }, 'header.identity.id'],
  ['a root that is not a UUID', { id: a, root: 'x', link: 0 }, 'header.identity.root'],
  ['a parent that is not a UUID', { id: a, parent: 'x', root: b, link: 1 }, 'header.identity.parent'],
  ['a parent equal to the id', { id: a, parent: a, root: b, link: 1 }, 'header.identity.parent'],
  ['a full snapshot with a link', { id: a, root: a, link: 2 }, 'header.identity.link'],
  ['a full snapshot that is not its own root', { id: a, root: b, link: 0 }, 'header.identity.root'],
  ['an incremental snapshot at link 0', { id: a, parent: b, root: c, link: 0 }, 'header.identity.link'],
  ['an incremental snapshot that is its own root', { id: a, parent: b, root: a, link: 1 }, 'header.identity.root'],
  ['a link that is not an integer', { id: a, parent: b, root: c, link: 1.5 }, 'header.identity.link'],
])('refuses %s', (_name, identity, option) => {
  const error = (() => {
    try {
      encodeHeader(testHeader(identity));
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(error).toBeInstanceOf(OptionError);
  expect((error as OptionError).option).toBe(option);
});

it('turns a UUID into its 16 bytes, in order, and back', () => {
  const bytes = uuidToBytes('00112233-4455-6677-8899-AABBCCDDEEFF');
  expect(Array.from(bytes ?? [])).toEqual([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
  expect(bytesToUuid(bytes as Uint8Array)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  expect(uuidToBytes('00112233445566778899aabbccddeeff')).toBeUndefined();
});

it('keeps a leading U+FEFF in block and strategy names', async () => {
  const path = dir.file('bom.bgsnap');
  const header = { ...testHeader(), strategy: '\uFEFFcopy', blocks: blockTable(512, [['\uFEFFram', 2], ['ram', 1]]) };
  writeSnapshot(path, header, [{ block: 0, page: 0, count: 2, fill: 1 }, { block: 1, page: 0, count: 1, fill: 2 }]);
  const file = await openSnapshot(path);
  expect(file.header.blocks.map((b) => b.name)).toEqual(['\uFEFFram', 'ram']);
  expect(file.header.strategy).toBe('\uFEFFcopy');
  await file.close();
});
