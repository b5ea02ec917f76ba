import type { SchedulerLike } from 'rxjs';
import { OptionError } from '../errors';
import { resolveScheduler } from '../scheduling/eventLoopScheduler';

export interface RestoreLiveOptions {
  /**
   * Reads of the source in flight at once: the storage credits. With more
   * than one, the background pass takes at most `reads − 1` of them, so a
   * fault always finds one free.
   * @default 4
   */
  readonly reads?: number;
  /**
   * Most bytes of records in one background read while no fault waits
   * (adjacent records are read together). A record larger than this is read
   * alone. At least one page; rounded down to whole pages.
   * @default 4194304 (4 MiB)
   */
  readonly runBytes?: number;
  /**
   * Most bytes in a read while a fault waits (queued or being read): the
   * faulted record first, then background records up to this, so a fault
   * that comes next waits for small reads only. At least one page.
   * @default 65536 (64 KiB)
   */
  readonly faultRunBytes?: number;
  /**
   * Bytes of records handed out for reading in one event-loop turn before
   * the loop yields. At least one page.
   * @default 67108864 (64 MiB)
   */
  readonly turnBytes?: number;
  /**
   * Emit a `fault` event per fault.
   * @default false
   */
  readonly detail?: boolean;
  /**
   * The clock and the event loop: all time-based work goes through it.
   * @default eventLoopScheduler
   */
  readonly scheduler?: SchedulerLike;
}

export interface ResolvedRestoreOptions {
  readonly reads: number;
  readonly runPages: number;
  readonly faultRunPages: number;
  readonly turnPages: number;
  readonly detail: boolean;
  readonly scheduler: SchedulerLike;
}

/** Checks `options` and fills in the defaults, for pages of `pageSize` bytes. */
export function resolveRestoreOptions(options: RestoreLiveOptions, pageSize: number): ResolvedRestoreOptions {
  const reads = options.reads ?? 4;
  if (!Number.isSafeInteger(reads) || reads < 1) throw new OptionError('reads', 'an integer from 1 up', reads);
  const pages = (name: keyof RestoreLiveOptions, fallback: number): number => {
    const bytes = options[name] ?? fallback;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < pageSize) {
      throw new OptionError(name, `an integer number of bytes, at least one page (${pageSize})`, bytes);
    }
    return Math.floor(bytes / pageSize);
  };
  const detail = options.detail ?? false;
  if (typeof detail !== 'boolean') throw new OptionError('detail', 'a boolean', detail);
  const scheduler = resolveScheduler(options.scheduler);
  return {
    reads,
    runPages: pages('runBytes', Math.max(4 * 2 ** 20, pageSize)),
    faultRunPages: pages('faultRunBytes', Math.max(64 * 1024, pageSize)),
    turnPages: pages('turnBytes', Math.max(64 * 2 ** 20, pageSize)),
    detail,
    scheduler,
  };
}
