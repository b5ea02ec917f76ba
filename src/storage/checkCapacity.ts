import { OptionError } from '../errors';

/** Checks a sink's `capacity` option: an integer from 1 up. */
export function checkCapacity(capacity: unknown): number {
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    throw new OptionError('capacity', 'an integer from 1 up', capacity);
  }
  return capacity;
}
