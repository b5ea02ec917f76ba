import { Observable } from 'rxjs';
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
 * Unsubscribing, or any error, unprotects every page, releases every waiting
 * write, returns every pool buffer and aborts the sink; no `done` is emitted.
 *
 * @throws OptionError (synchronously) for a bad option, or a sink without the
 *   contract's methods or with a bad capacity.
 * @example
 * snapshot(memory, new MemorySink(), { strategy: 'copy' })
 *   .pipe(filter((e) => e.type === 'done'))
 *   .subscribe(({ stats }) => console.log(stats.stall.p99));
 */
export function snapshot(memory: SnapshotMemory, sink: Sink, options: SnapshotOptions = {}): Observable<SnapshotEvent> {
  const resolved = resolveOptions(options, memory.pageSize);
  checkSink(sink);
  return new Observable<SnapshotEvent>((subscriber) => new SnapshotRun(memory, sink, resolved, subscriber).start());
}
