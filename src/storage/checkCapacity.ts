import { OptionError } from '../errors';

/** Checks that `sink` has the sink contract's methods and a capacity. */
export function checkSink(sink: unknown): void {
  const s = sink as Partial<Record<'start' | 'write' | 'end' | 'abort', unknown>> | null | undefined;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.start !== 'function' ||
    typeof s.write !== 'function' ||
    typeof s.end !== 'function' ||
    typeof s.abort !== 'function'
  ) {
    throw new OptionError('sink', 'a Sink ({ capacity, start, write, end, abort })', sink);
  }
  checkCapacity((sink as { capacity?: unknown }).capacity);
}

/** Checks a sink's `capacity` option: an integer from 1 up. */
export function checkCapacity(capacity: unknown): number {
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    throw new OptionError('capacity', 'an integer from 1 up', capacity);
  }
  return capacity;
}
