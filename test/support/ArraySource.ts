import { defer, map, of, timer, type Observable, type SchedulerLike } from 'rxjs';
import { FormatError, RecordTable, type LoadedRun, type PageSource, type SourceGeometry } from '../../src';

export interface ArraySourceOptions {
  readonly pageSize: number;
  readonly blocks: readonly { readonly name: string; readonly size: number }[];
  /** The image, blocks one after another. */
  readonly image: Uint8Array;
  /** Records as [global first page, count], in background order; later ones take pages from earlier ones. */
  readonly records: readonly (readonly [number, number])[];
  readonly scheduler: SchedulerLike;
  /** Frames a read takes. @default 5 */
  readonly latency?: number;
  /** Frames until the record table is known. @default 0 */
  readonly tableDelay?: number;
  /** Per record, the image its bytes come from (an older link's, say); `image` when absent. */
  readonly recordImages?: readonly (Uint8Array | undefined)[];
  /** Records whose read fails with a FormatError. */
  readonly corrupt?: ReadonlySet<number>;
}

/** A `PageSource` over an image in memory, in virtual time: each read takes `latency` on the scheduler. */
export class ArraySource implements PageSource {
  /** Every read, as its records, in the order they were asked for. */
  readonly reads: number[][] = [];
  /** The records of the read that completed last. */
  lastDone: readonly number[] = [];
  closed = false;

  constructor(private readonly options: ArraySourceOptions) {}

  geometry(): Observable<SourceGeometry> {
    return of({ pageSize: this.options.pageSize, blocks: this.options.blocks });
  }

  table(): Observable<RecordTable> {
    const { records, image, pageSize, tableDelay = 0, scheduler } = this.options;
    const build = (): RecordTable => {
      const table = new RecordTable(image.length / pageSize);
      for (const [first, count] of records) table.add(first, count, count * pageSize + 32);
      return table;
    };
    return tableDelay === 0 ? defer(() => of(build())) : timer(tableDelay, scheduler).pipe(map(build));
  }

  read(records: readonly number[]): Observable<readonly LoadedRun[]> {
    const { latency = 5, scheduler, image, pageSize, corrupt, recordImages } = this.options;
    this.reads.push([...records]);
    return timer(latency, scheduler).pipe(
      map(() => {
        const bad = records.find((r) => corrupt?.has(r));
        if (bad !== undefined) throw new FormatError(1000 + bad, `a record whose crc32 matches`, 'another crc32');
        this.lastDone = records;
        return records.map((r) => {
          const [first, count] = this.options.records[r] as readonly [number, number];
          const from = recordImages?.[r] ?? image;
          return { record: r, first, count, data: from.slice(first * pageSize, (first + count) * pageSize) };
        });
      }),
    );
  }

  close(): void {
    this.closed = true;
  }
}

/** An image of `pages` pages of `pageSize` bytes, page p filled with p + 1, in one block `ram`, with one record per `perRecord` pages. */
export function numberedSource(pages: number, scheduler: SchedulerLike, options: Partial<ArraySourceOptions> & { perRecord?: number } = {}): ArraySource {
  const pageSize = options.pageSize ?? 512;
  const image = new Uint8Array(pages * pageSize);
  for (let p = 0; p < pages; p++) image.fill((p + 1) & 0xff, p * pageSize, (p + 1) * pageSize);
  const per = options.perRecord ?? 1;
  const records: [number, number][] = [];
  for (let p = 0; p < pages; p += per) records.push([p, Math.min(per, pages - p)]);
  return new ArraySource({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }], image, records, scheduler, ...options });
}
