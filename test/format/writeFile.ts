/** Snapshot files written straight through the encoder, for the format and chain tests. */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { RecordEncoder } from '../../src/format/encode';
import type { BlockInfo } from '../../src/memory/contract';
import type { SaveVia, SnapshotHeader, SnapshotIdentity } from '../../src/storage/Sink';

/** A block table from names and page counts. */
export function blockTable(pageSize: number, blocks: readonly (readonly [string, number])[]): BlockInfo[] {
  let firstPage = 0;
  return blocks.map(([name, pages]) => {
    const info = { name, size: pages * pageSize, pages, firstPage };
    firstPage += pages;
    return info;
  });
}

/** Pages to write: `count` pages of `block` from `page`, each filled with `fill` (0 for a zero page). */
export interface TestRun {
  readonly block: number;
  readonly page: number;
  readonly count: number;
  readonly fill: number;
  readonly via?: SaveVia;
}

/** The bytes of a snapshot of `runs`, in order. */
export function snapshotBytes(header: SnapshotHeader, runs: readonly TestRun[]): Buffer {
  const encoder = new RecordEncoder(header);
  const chunks: Uint8Array[] = [encoder.headerBytes];
  for (const r of runs) {
    const data = new Uint8Array(r.count * header.pageSize).fill(r.fill);
    encoder.encode({ block: r.block, page: r.page, count: r.count, via: r.via ?? 'bulk', data }, chunks);
  }
  chunks.push(...encoder.end());
  return Buffer.concat(chunks);
}

/** Writes `snapshotBytes(header, runs)` to `path`. */
export function writeSnapshot(path: string, header: SnapshotHeader, runs: readonly TestRun[]): void {
  writeFileSync(path, snapshotBytes(header, runs));
}

/** A header with 512-byte pages, blocks `ram` (8 pages) and `io` (2 pages). */
export function testHeader(identity?: SnapshotIdentity, pageSize = 512): SnapshotHeader {
  return {
    pageSize,
    blocks: blockTable(pageSize, [
      ['ram', 8],
      ['io', 2],
    ]),
    t0: 0,
    wallTime: 1_700_000_000_000,
    strategy: 'copy',
    ...(identity === undefined ? {} : { identity }),
  };
}

/** Identities of a chain of `n` links: a full base and its incremental children. */
export function chainIdentities(n: number): SnapshotIdentity[] {
  const root = randomUUID();
  const ids: SnapshotIdentity[] = [{ id: root, root, link: 0 }];
  for (let i = 1; i < n; i++) ids.push({ id: randomUUID(), parent: (ids[i - 1] as SnapshotIdentity).id, root, link: i });
  return ids;
}

/** Every page of `testHeader`'s blocks, filled with `fill`. */
export function allPages(fill: number): TestRun[] {
  return [
    { block: 0, page: 0, count: 8, fill },
    { block: 1, page: 0, count: 2, fill },
  ];
}
