// A snapshot file restored live: the memory equals the image at `done`, in-process
// readers and writers that run from `started` see the image's bytes, a bad record
// fails the restore with verify's FormatError, a geometry mismatch touches nothing.
import { open } from 'node:fs/promises';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, GeometryMismatchError, LoadAbortedError, PagedMemory, PageState, restoreLive, snapshot, verify, type RestoreEvent } from '../../src';
import { filledMemory, tempDir } from '../storage/support';

const dir = tempDir('restore-live');
afterAll(() => dir.remove());

const PAGE = 4096;
const blocks = [
  { name: 'ram', size: PAGE * 300 },
  { name: 'rom', size: PAGE * 7 },
];

async function snapshotFile(name: string): Promise<{ path: string; image: PagedMemory }> {
  const image = filledMemory(PAGE, blocks, 11);
  const path = dir.file(name);
  await lastValueFrom(snapshot(image, new FileSink(path), { runBytes: 16 * PAGE }));
  return { path, image };
}

describe('restoreLive from a file', () => {
  it('loads the image while in-process readers and writers run; a write lands over its page', async () => {
    const { path, image } = await snapshotFile('a.snap');
    const memory = new PagedMemory({ blocks });
    for (const b of memory.blocks) b.bytes.fill(0x5a);
    const seen: Promise<void>[] = [];
    const events: RestoreEvent[] = [];
    await new Promise<void>((resolve, reject) =>
      restoreLive(path, memory, { runBytes: 8 * PAGE, detail: true }).subscribe({
        next: (e) => {
          events.push(e);
          if (e.type !== 'started') return;
          expect(memory.states.every((s) => s === PageState.Absent)).toBe(true);
          // Touch pages from the end, ahead of the background pass.
          for (const page of [299, 250, 3]) {
            seen.push(
              memory.readAsync('ram', page * PAGE, PAGE).then((bytes) => {
                expect(Buffer.compare(bytes, image.read('ram', page * PAGE, PAGE))).toBe(0);
              }),
            );
          }
          seen.push(memory.write('rom', 10, Uint8Array.of(1, 2, 3)));
        },
        error: reject,
        complete: resolve,
      }),
    );
    await Promise.all(seen);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.stats.loaded.fault + done.stats.loaded.background).toBe(memory.pageCount);
    expect(done.stats.loaded.fault).toBeGreaterThan(0);
    expect(done.stats.faultWait.count).toBe(4);
    const expected = Buffer.from(image.block('rom').bytes);
    expected.set([1, 2, 3], 10);
    expect(Buffer.compare(memory.block('rom').bytes, expected)).toBe(0);
    expect(Buffer.compare(memory.block('ram').bytes, image.block('ram').bytes)).toBe(0);
    expect(memory.states.every((s) => s === PageState.Writable)).toBe(true);
    expect(events.filter((e) => e.type === 'fault').length).toBe(4);
  });

  it('a corrupt record fails it with the FormatError verify gives; waiting readers get LoadAbortedError', async () => {
    const { path } = await snapshotFile('bad.snap');
    // Flip a byte in the last record's data.
    const handle = await open(path, 'r+');
    const { size } = await handle.stat();
    const at = size - 48 - 200;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = (byte[0] as number) ^ 0xff;
    await handle.write(byte, 0, 1, at);
    await handle.close();
    const report = await verify(path);
    expect(report.ok).toBe(false);
    const memory = new PagedMemory({ blocks });
    const error = await lastValueFrom(restoreLive(path, memory).pipe(toArray())).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'FormatError', message: report.ok ? "" : report.problems[0].message });
    // Pages not loaded fail every access now.
    const absent = memory.states.indexOf(PageState.Absent);
    expect(absent).toBeGreaterThanOrEqual(0);
    const block = memory.blocks.find((b) => absent >= b.firstPage && absent < b.firstPage + b.pages);
    await expect(memory.readAsync(block?.name ?? '', 0, block?.size ?? 0)).rejects.toBeInstanceOf(LoadAbortedError);
  });

  it('a geometry mismatch fails before touching memory', async () => {
    const { path } = await snapshotFile('geo.snap');
    const memory = new PagedMemory({ blocks: [{ name: 'ram', size: PAGE * 300 }] });
    memory.block('ram').bytes.fill(7);
    await expect(lastValueFrom(restoreLive(path, memory))).rejects.toBeInstanceOf(GeometryMismatchError);
    expect(memory.states.every((s) => s === PageState.Writable)).toBe(true);
    expect(memory.loading).toBe(false);
  });

  it('unsubscribing stops the load; waiting writers get LoadAbortedError (cancelled)', async () => {
    const { path } = await snapshotFile('cancel.snap');
    const memory = new PagedMemory({ blocks });
    const { write } = await new Promise<{ write: Promise<void> }>((resolve) => {
      const sub = restoreLive(path, memory, { runBytes: PAGE }).subscribe((e) => {
        if (e.type !== 'started') return;
        const w = memory.write('ram', 299 * PAGE, Uint8Array.of(1));
        queueMicrotask(() => sub.unsubscribe());
        resolve({ write: w });
      });
    });
    await expect(write).rejects.toMatchObject({ name: 'LoadAbortedError', reason: 'cancelled' });
    expect(memory.loading).toBe(false);
  });
});
