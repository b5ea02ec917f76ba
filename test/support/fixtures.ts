import { filter, map, type Observable, type OperatorFunction } from 'rxjs';
import { PagedMemory } from '../../src';
import type { SnapshotEvent } from '../../src';

/** A memory of one block, `pages` pages of 512 bytes; page p is filled with p + 1. */
export function numberedMemory(pages: number, pageSize = 512): PagedMemory {
  const memory = new PagedMemory({ pageSize, blocks: [{ name: 'ram', size: pages * pageSize }] });
  const bytes = memory.block('ram').bytes;
  for (let p = 0; p < pages; p++) bytes.fill((p + 1) & 0xff, p * pageSize, (p + 1) * pageSize);
  return memory;
}

/**
 * Events as short strings, so marble values read at a glance:
 * `bulk 0` / `bulk 0+2` (saved), `u:fault 3` (unprotected), `f3` (fault), `done`.
 */
export function code(event: SnapshotEvent): string {
  switch (event.type) {
    case 'saved':
      return `${event.via} ${event.page}${event.count > 1 ? `+${event.count}` : ''}`;
    case 'unprotected':
      return `u:${event.via} ${event.page}${event.count > 1 ? `+${event.count}` : ''}`;
    case 'fault':
      return `f${event.page}`;
    default:
      return event.type;
  }
}

/** Keeps events of the given types, as codes. */
export function only(...types: SnapshotEvent['type'][]): OperatorFunction<SnapshotEvent, string> {
  return (events$: Observable<SnapshotEvent>) =>
    events$.pipe(
      filter((e) => types.includes(e.type)),
      map(code),
    );
}
