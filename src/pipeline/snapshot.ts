import { Observable } from 'rxjs';
import { checkMemory } from '../memory/checkMemory';
import type { SnapshotMemory } from '../memory/contract';
import { checkSink } from '../storage/checkCapacity';
import type { Sink } from '../storage/Sink';
import type { SnapshotEvent } from './events';
import { resolveOptions, type SnapshotOptions } from './options';
import { SnapshotRun } from './SnapshotRun';

/**
 * A background snapshot of `memory` into `sink`, as a cold observable.
 *
 * On subscribe every page is write-protected synchronously (t0) and `started`
 * is emitted. One bulk pass then saves every page, while writers that touch a
 * protected page fault and are served first, the strategy's way. Every page is
 * unprotected as soon as it is saved and is saved exactly once. When all are,
 * the sink is closed, `done` carries the stats, and the observable completes.
 * The image equals memory at t0.
 *
 * The memory is let go (every page writable, `snapshotting` false) before
 * `done` is emitted, so the next snapshot of it can start from the `done`
 * handler or from `complete`.
 *
 * Unsubscribing, or any error, unprotects every page, releases every waiting
 * write, returns every pool buffer and aborts the sink; no `done` is emitted.
 *
 * @throws OptionError (synchronously, before anything is protected) for a
 *   `memory` that is not a `SnapshotMemory` (option `memory`, or
 *   `memory.pageSize`, … for a bad member), a sink without the contract's
 *   methods (`sink`) or with a bad capacity (`capacity`), or a bad option.
 *   On subscribe, the error channel carries an `OptionError` naming
 *   `poolPages` for a copy pool that cannot be allocated (more than a shared
 *   pool holds, or more bytes than the process can get), and a
 *   `SnapshotInProgressError` when the memory has a snapshot running.
 * @example
 * snapshot(memory, new MemorySink(), { strategy: 'copy' })
 *   .pipe(filter((e) => e.type === 'done'))
 *   .subscribe(({ stats }) => console.log(stats.stall.p99));
 */
export function snapshot(memory: SnapshotMemory, sink: Sink, options?: SnapshotOptions): Observable<SnapshotEvent> {
  checkMemory(memory);
  checkSink(sink);
  const resolved = resolveOptions(options, memory.pageSize);
  return new Observable<SnapshotEvent>((subscriber) => new SnapshotRun(memory, sink, resolved, subscriber).start());
}
