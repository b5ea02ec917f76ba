/** A small snapshot file and a map of its structures, for the corruption tests. */
import { readFileSync } from 'node:fs';
import { openSnapshot } from '../../src/format/reader';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd } from '../storage/support';

/** One structure of the file: `[start, end)`. */
export interface Region {
  readonly kind: 'header' | 'record' | 'index' | 'trailer';
  readonly start: number;
  readonly end: number;
}

/**
 * Snapshots a 512-byte-page memory of two blocks (some pages zero) into
 * `path`, in runs of two pages, and returns its bytes and regions.
 */
export async function smallSnapshot(path: string): Promise<{ bytes: Buffer; regions: Region[] }> {
  const memory = filledMemory(512, [{ name: 'a', size: 512 * 3 }, { name: 'b', size: 512 * 2 }], 7, 0.4);
  const outcome = await runToEnd(snapshot(memory, new FileSink(path), { strategy: 'queue', runBytes: 1024 }));
  if (outcome.kind !== 'done') throw new Error('the small snapshot failed');
  const regions: Region[] = [];
  const file = await openSnapshot(path);
  regions.push({ kind: 'header', start: 0, end: file.header.byteLength });
  for await (const r of file.records()) regions.push({ kind: 'record', start: r.offset, end: r.offset + r.byteLength });
  const trailer = file.trailer;
  if (trailer === undefined) throw new Error('no trailer');
  if (trailer.indexOffset !== undefined) regions.push({ kind: 'index', start: trailer.indexOffset, end: trailer.offset });
  regions.push({ kind: 'trailer', start: trailer.offset, end: trailer.offset + trailer.byteLength });
  return { bytes: readFileSync(path), regions };
}

/** The region holding byte `offset`. */
export function regionAt(regions: readonly Region[], offset: number): Region {
  const region = regions.find((r) => offset >= r.start && offset < r.end);
  if (region === undefined) throw new Error(`no region holds byte ${offset}`);
  return region;
}
