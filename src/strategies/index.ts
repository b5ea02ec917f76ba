import { OptionError } from '../errors';
import { copyStrategy } from './copy';
import { queueStrategy } from './queue';
import type { Strategy } from './Strategy';

/** The built-in strategies by name. */
export const strategies = { queue: queueStrategy, copy: copyStrategy } as const;
export type StrategyName = keyof typeof strategies;

/** A strategy by name, or the strategy given. */
export function resolveStrategy(strategy: unknown): Strategy {
  if (typeof strategy === 'string' && Object.hasOwn(strategies, strategy)) {
    return strategies[strategy as StrategyName];
  }
  if (
    typeof strategy === 'object' &&
    strategy !== null &&
    typeof (strategy as Strategy).serve === 'function' &&
    typeof (strategy as Strategy).name === 'string' &&
    typeof (strategy as Strategy).usesPool === 'boolean'
  ) {
    return strategy as Strategy;
  }
  throw new OptionError('strategy', "'queue', 'copy' or a Strategy object ({ name, usesPool, serve })", strategy);
}
