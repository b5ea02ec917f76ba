import { Observable } from 'rxjs';
import { OptionError } from '../errors';
import type { PagedMemory } from '../memory/PagedMemory';
import type { RestoreEvent } from './events';
import { snapshotSource } from './snapshotSource';
import { LoadRun } from './LoadRun';
import { resolveRestoreOptions, type RestoreLiveOptions } from './options';
import type { PageSource } from './PageSource';

/**
 * Restores a snapshot into `memory` while readers and writers run: a live
 * restore, cold. On subscribe it reads the header(s) and checks them against
 * the memory's geometry (a mismatch is a `GeometryMismatchError`, memory
 * untouched), marks every page not loaded, synchronously, and emits
 * `started`: from that event on, writers may run. A page touched before it
 * is loaded is read ahead of the background pass, which loads everything
 * else in large reads and shrinks them while faults wait. Each record is
 * checked against its crc before its pages become readable; a bad one fails
 * the observable with the `FormatError` `verify` gives, and readers and
 * writers waiting on pages not loaded get a `LoadAbortedError`, as they do
 * on unsubscribe.
 *
 * @param files one snapshot file, or a chain base first (a page comes from
 * the newest link that holds it), or a `PageSource` of your own.
 * @example
 * restoreLive('guest.bgsnap', memory).subscribe((e) => {
 *   if (e.type === 'started') startVcpus();
 * });
 * @throws OptionError, synchronously, naming an option out of range.
 */
export function restoreLive(files: string | readonly string[] | PageSource, memory: PagedMemory, options: RestoreLiveOptions = {}): Observable<RestoreEvent> {
  const resolved = resolveRestoreOptions(options, memory.pageSize);
  const isPath = typeof files === 'string' || (Array.isArray(files) && files.every((f) => typeof f === 'string'));
  if (!isPath && typeof (files as Partial<PageSource> | null)?.geometry !== 'function') {
    throw new OptionError('files', 'a snapshot file, a chain of them base first, or a PageSource (snapshotSource(paths) makes one)', files);
  }
  return new Observable<RestoreEvent>((subscriber) => {
    const source = typeof files === 'string' || Array.isArray(files) ? snapshotSource(typeof files === 'string' ? [files] : (files as readonly string[])) : (files as PageSource);
    const run = new LoadRun(source, memory, resolved, subscriber);
    run.start();
    return () => run.teardown();
  });
}
