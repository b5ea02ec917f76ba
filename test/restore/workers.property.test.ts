// Worker writers during a live restore from a real file: random access orders by
// two threads (reads of pages nobody writes, writes to pages of their own), random
// cancels and corrupt records. Every byte a thread reads is the snapshot's, nobody
// is left blocked, and after `done` memory is the image with the writes over it.
import { open } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { lastValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSink, PagedMemory, PageState, restoreLive, snapshot } from '../../src';
import { filledMemory, tempDir } from '../storage/support';
import { nextMessage, startWorker } from '../support/workers';
import type { Access } from './workers/accessScript';

const SCRIPT = require.resolve('./workers/accessScript.ts');
const dir = tempDir('restore-workers');
afterAll(() => dir.remove());
const PAGE = 4096;
const blocks = [
  { name: 'ram', size: 96 * PAGE },
  { name: 'vram', size: 32 * PAGE },
];

interface Report {
  readonly mismatches: number;
  readonly errors: string[];
  readonly applied: number[];
}

describe('restoreLive with writer threads', () => {
  it('threads read the image, their writes land, nobody is left blocked', async () => {
    const image = filledMemory(PAGE, blocks, 5);
    const good = dir.file('good.snap');
    await lastValueFrom(snapshot(image, new FileSink(good), { runBytes: 8 * PAGE }));
    const expected = Object.fromEntries(image.blocks.map((b) => [b.name, b.bytes.slice()]));
    const { size } = await (await open(good, 'r')).stat();
    let run = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.record({ read: fc.boolean(), page: fc.nat(127), at: fc.nat(PAGE - 16), value: fc.integer({ min: 1, max: 255 }) }), { maxLength: 40 }), { minLength: 2, maxLength: 2 }),
        fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 1 }),
        fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: fc.integer({ min: 200, max: size - 100 }), weight: 1 }),
        fc.integer({ min: 1, max: 4 }),
        async (scripts, cancelAfterMs, corruptAt, reads) => {
          // Step 1: the file, perhaps with one byte flipped.
          let path = good;
          if (corruptAt !== undefined) {
            path = dir.file(`bad-${run++}.snap`);
            const bytes = Buffer.from(await (await import('node:fs/promises')).readFile(good));
            bytes[corruptAt] = (bytes[corruptAt] as number) ^ 0x55;
            await (await import('node:fs/promises')).writeFile(path, bytes);
          }
          // Step 2: pages: thread 0 writes the even pages it names, thread 1 the pages ≡ 1 mod 4; reads go to pages ≡ 3 mod 4.
          const toAccess = (w: number, s: { read: boolean; page: number; at: number; value: number }): Access => {
            const page = s.read ? (s.page & ~3) | 3 : w === 0 ? s.page & ~1 : (s.page & ~3) | 1;
            const block = page < 96 ? 'ram' : 'vram';
            const first = page < 96 ? page : page - 96;
            return { kind: s.read ? 'read' : 'write', block, offset: first * PAGE + s.at, length: s.read ? 16 : 4, value: s.value };
          };
          const plans = scripts.map((s, w) => s.map((a) => toAccess(w, a)));
          const memory = new PagedMemory({ blocks });
          const handle = memory.share();
          const workers: Worker[] = plans.map((script) => startWorker(SCRIPT, { handle, image: expected, script }));
          try {
            await Promise.all(workers.map((w) => nextMessage(w)));
            const reports = workers.map((w) => nextMessage<Report>(w));
            // Step 3: the load; the threads go at `started`; perhaps a cancel.
            let outcome = 'cancelled' as 'done' | 'error' | 'cancelled';
            await new Promise<void>((resolve) => {
              const sub = restoreLive(path, memory, { reads, runBytes: 8 * PAGE, faultRunBytes: PAGE }).subscribe({
                next: (e) => {
                  if (e.type === 'started') {
                    for (const w of workers) w.postMessage({ go: true });
                    if (cancelAfterMs !== undefined) setTimeout(() => (sub.unsubscribe(), resolve()), cancelAfterMs);
                  }
                },
                error: () => ((outcome = 'error'), resolve()),
                complete: () => ((outcome = 'done'), resolve()),
              });
            });
            // Nobody is left blocked: every thread answers.
            const done = await Promise.race([Promise.all(reports), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a thread is still blocked')), 10_000))]);
            const model = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.slice()]));
            done.forEach((r, w) => {
              expect(r.mismatches).toBe(0);
              for (const name of r.errors) expect(name).toBe('LoadAbortedError');
              for (const i of r.applied) {
                const a = plans[w]?.[i] as Access;
                (model[a.block] as Uint8Array).fill(a.value, a.offset, a.offset + a.length);
              }
            });
            if (outcome === 'done') {
              expect(done.every((r) => r.errors.length === 0)).toBe(true);
              for (const b of memory.blocks) expect(Buffer.compare(b.bytes, model[b.name] as Uint8Array)).toBe(0);
              expect(memory.states.every((s) => s === PageState.Writable)).toBe(true);
            } else {
              // Loaded pages hold the image with the writes over it.
              for (const b of memory.blocks) {
                for (let p = 0; p < b.pages; p++) {
                  if (memory.states[b.firstPage + p] === PageState.Absent) continue;
                  const at = p * PAGE;
                  expect(Buffer.compare(b.bytes.subarray(at, at + PAGE), (model[b.name] as Uint8Array).subarray(at, at + PAGE))).toBe(0);
                }
              }
            }
            expect(memory.loading).toBe(false);
          } finally {
            await Promise.all(workers.map((w) => w.terminate()));
          }
        },
      ),
      { numRuns: 6 },
    );
  });
});
