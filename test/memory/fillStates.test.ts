import { describe, expect, it } from 'vitest';
import { fillStates } from '../../src/memory/fillStates';

describe('fillStates', () => {
  it('sets exactly the range, at every alignment', () => {
    const buffer = new SharedArrayBuffer(64);
    for (let offset = 0; offset < 4; offset++) {
      const states = new Uint8Array(buffer, offset, 40);
      for (let start = 0; start < 12; start++) {
        for (let end = start; end <= 40; end += 3) {
          states.fill(0);
          fillStates(states, 5, start, end);
          const want = Array.from({ length: 40 }, (_, i) => (i >= start && i < end ? 5 : 0));
          expect([...states]).toEqual(want);
        }
      }
      expect(new Uint8Array(buffer, 0, offset).every((b) => b === 0)).toBe(true);
    }
  });
});
