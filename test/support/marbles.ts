import { configure } from 'rxjs-marbles';
import { expect } from 'vitest';

/** rxjs-marbles with vitest's deep equality, so failures show a coloured diff. */
export const { marbles } = configure({
  assertDeepEqual: (actual, expected) => expect(actual).toStrictEqual(expected),
  frameworkMatcher: true,
});
