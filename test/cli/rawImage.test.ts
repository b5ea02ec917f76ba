/**
 * writeRawImage's commit discipline: whatever stops it after the image is
 * begun (a cancel, a name taken meanwhile, the snapshot file changing), the
 * temporary file goes and nothing new is left under the final name.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, OutputExistsError, SourceChangedError } from '../../src/cli/errors';
import { writeRawImage } from '../../src/cli/rawImage';
import { snapshot } from '../../src/pipeline/snapshot';
import { FileSink } from '../../src/storage/FileSink';
import { filledMemory, runToEnd, tempDir } from '../storage/support';

const dir = tempDir('raw-image');
let image: Buffer;

beforeAll(async () => {
  const memory = filledMemory(512, [{ name: 'a', size: 512 * 40 }, { name: 'b', size: 512 * 9 }], 3, 0.3);
  image = Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes)));
  const outcome = await runToEnd(snapshot(memory, new FileSink(dir.file('s.snap')), { strategy: 'queue', runBytes: 1024 }));
  if (outcome.kind !== 'done') throw outcome.error;
});
afterAll(() => dir.remove());

/**
 * A signal that never aborts on its own, and calls `onCheck` each time the
 * restore checks it (after the verification, before each record, before the
 * commit); `onCheck` returning true aborts it from then on.
 */
function probe(onCheck: (check: number) => boolean): AbortSignal {
  let checks = 0;
  let aborted = false;
  return {
    get aborted() {
      aborted ||= onCheck(++checks);
      return aborted;
    },
    reason: 'SIGINT',
  } as AbortSignal;
}

function leftovers(): string[] {
  return readdirSync(dir.path).filter((n) => n.endsWith('.tmp'));
}

describe('writeRawImage', () => {
  it('writes the image, zero pages included, blocks one after another', async () => {
    const report = await writeRawImage(dir.file('s.snap'), dir.file('ok.raw'));
    expect(readFileSync(dir.file('ok.raw')).equals(image)).toBe(true);
    expect(report.blocks).toEqual([
      { name: 'a', offset: 0, size: 512 * 40 },
      { name: 'b', offset: 512 * 40, size: 512 * 9 },
    ]);
    expect(report.zeroPages).toBeGreaterThan(0);
  });

  it('removes the part written when cancelled mid-way', async () => {
    let seen = 0;
    const signal = probe((check) => {
      seen = check;
      // After the check, two records in: the temporary file exists and holds some pages.
      if (check === 4) expect(leftovers()).toHaveLength(1);
      return check === 4;
    });
    const failure = writeRawImage(dir.file('s.snap'), dir.file('cancelled.raw'), { signal });
    await expect(failure).rejects.toThrow(CancelledError);
    await expect(failure).rejects.toThrow('Cancelled by SIGINT; nothing was written to');
    expect(seen).toBe(4);
    expect(existsSync(dir.file('cancelled.raw'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('refuses, atomically, a name taken while the image was written', async () => {
    let checks = 0;
    const signal = probe((check) => {
      checks = check;
      return false;
    });
    // Count the checks of a whole run first, then take the name at the last one (just before the commit).
    await writeRawImage(dir.file('s.snap'), dir.file('count.raw'), { signal });
    const last = checks;
    const taken = probe((check) => {
      if (check === last) writeFileSync(dir.file('taken.raw'), 'someone else');
      return false;
    });
    await expect(writeRawImage(dir.file('s.snap'), dir.file('taken.raw'), { signal: taken })).rejects.toThrow(OutputExistsError);
    expect(readFileSync(dir.file('taken.raw'), 'utf8')).toBe('someone else');
    expect(leftovers()).toEqual([]);
  });

  it.each([
    ['grown', (file: string) => appendFileSync(file, 'more'), /its size went from \d+ to \d+ bytes/],
    ['touched', (file: string) => utimesSync(file, new Date(), new Date(Date.now() + 60_000)), /its modification time changed/],
  ] as const)('refuses a snapshot file %s after its check, writing nothing', async (_, change, what) => {
    writeFileSync(dir.file('changing.snap'), readFileSync(dir.file('s.snap')));
    const signal = probe((check) => {
      if (check === 2) change(dir.file('changing.snap'));
      return false;
    });
    const failure = writeRawImage(dir.file('changing.snap'), dir.file('changed.raw'), { signal });
    await expect(failure).rejects.toThrow(SourceChangedError);
    await expect(failure).rejects.toThrow(what);
    await expect(failure).rejects.toThrow(/changed while it was read \(.*\); nothing was written to/);
    expect(existsSync(dir.file('changed.raw'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});
