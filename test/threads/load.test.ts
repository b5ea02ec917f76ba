import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PagedMemory, PageState } from '../../src';
import { nextMessage, startWorker } from '../support/workers';
import { holdWriterAt, newGate, releaseWriter } from './gate';
import { blockedOn, until } from './support';

const ACCESS = require.resolve('./workers/loadAccess.ts');
const PAGE = 4096;

interface Answer {
  readonly ok: boolean;
  readonly name?: string;
  readonly reason?: string;
  readonly bytes?: Uint8Array;
}

/**
 * A live restore's races with a writer thread, forced: the worker is sent
 * to a page not loaded yet and seen blocked on it (its wait word names the
 * page) before the loader acts.
 */
describe('a writer thread against a load session', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    worker = undefined;
  });

  async function setUp() {
    const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 8 * PAGE }] });
    const handle = memory.share();
    worker = startWorker(ACCESS, { handle });
    const { id } = await nextMessage<{ id: number }>(worker);
    const faults: number[] = [];
    const load = memory.beginLoad((page) => faults.push(page));
    return { memory, handle, id, load, faults, worker };
  }

  it.each(['read', 'write'] as const)('a %s blocked on a page not loaded goes on when it is loaded, and sees its bytes', async (kind) => {
    const { handle, id, load, faults, worker } = await setUp();
    const answer = nextMessage<Answer>(worker);
    worker.postMessage(kind === 'read' ? { read: ['ram', 3 * PAGE + 10, 4] } : { write: ['ram', 3 * PAGE + 10, 4, 9] });
    await until(() => blockedOn(handle, id) === 3);
    await until(() => faults.includes(3));
    load.view(3, 1).fill(7);
    load.loaded(3, 1);
    const result = await answer;
    expect(result.ok).toBe(true);
    if (kind === 'read') expect([...(result.bytes as Uint8Array)]).toEqual([7, 7, 7, 7]);
    load.close({ reason: 'cancelled' });
  });

  it.each(['read', 'write'] as const)('a %s blocked on a page not loaded fails with LoadAbortedError when the load is cancelled', async (kind) => {
    const { memory, handle, id, load, worker } = await setUp();
    const answer = nextMessage<Answer>(worker);
    worker.postMessage(kind === 'read' ? { read: ['ram', 5 * PAGE, 8] } : { write: ['ram', 5 * PAGE, 8, 1] });
    await until(() => blockedOn(handle, id) === 5);
    load.close({ reason: 'cancelled' });
    expect(await answer).toMatchObject({ ok: false, name: 'LoadAbortedError', reason: 'cancelled' });
    expect(blockedOn(handle, id)).toBe(-1);
    // Later accesses to pages never loaded fail too, at once; the memory is usable again once restored.
    const again = nextMessage<Answer>(worker);
    worker.postMessage({ read: ['ram', 0, 1] });
    expect(await again).toMatchObject({ ok: false, name: 'LoadAbortedError' });
    memory.forgetSnapshots();
    expect(memory.states.every((s) => s === PageState.Writable)).toBe(true);
    const after = nextMessage<Answer>(worker);
    worker.postMessage({ write: ['ram', 0, 1, 1] });
    expect(await after).toMatchObject({ ok: true });
  });

  it('a load that fails names the reason to the blocked writer', async () => {
    const { handle, id, load, worker } = await setUp();
    const answer = nextMessage<Answer>(worker);
    worker.postMessage({ write: ['ram', 0, 2 * PAGE, 1] });
    await until(() => blockedOn(handle, id) === 0);
    load.loaded(0, 1);
    await until(() => blockedOn(handle, id) === 1);
    load.close({ reason: 'failed', cause: new Error('bad record') });
    expect(await answer).toMatchObject({ ok: false, name: 'LoadAbortedError', reason: 'failed' });
  });
});

/**
 * The lost wake-up window, forced: the writer is held after it has read its
 * wake word and found the page absent, right before it sleeps; the loader
 * loads the page (or ends the load) and wakes it there; let go, the writer
 * must see that and go on (its sleep returns at once on the changed word),
 * with the page's bytes or a LoadAbortedError.
 */
describe('a writer thread held right before it sleeps on a page not loaded', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    worker = undefined;
  });

  it.each([
    ['the page is loaded', 'loaded'],
    ['the load is cancelled', 'cancelled'],
  ] as const)('goes on when %s meanwhile', async (_, what) => {
    const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 4 * PAGE }] });
    const handle = memory.share();
    const gate = newGate(10_000);
    worker = startWorker(ACCESS, { handle, gate: gate.buffer });
    await nextMessage(worker);
    const load = memory.beginLoad(() => undefined);
    const held = holdWriterAt(gate, 'sleeping');
    const answer = nextMessage<Answer>(worker);
    worker.postMessage({ read: ['ram', 2 * PAGE, 2] });
    await held;
    if (what === 'loaded') {
      load.view(2, 1).fill(6);
      load.loaded(2, 1);
    } else load.close({ reason: 'cancelled' });
    releaseWriter(gate);
    const result = await answer;
    if (what === 'loaded') expect(result).toMatchObject({ ok: true, bytes: Uint8Array.of(6, 6) });
    else expect(result).toMatchObject({ ok: false, name: 'LoadAbortedError', reason: 'cancelled' });
    load.close({ reason: 'cancelled' });
  });
});

/**
 * A full fault ring when the load ends: a writer waiting for room in the
 * ring to post its fault stops waiting (nobody drains the ring once the load
 * is over) and fails with LoadAbortedError, as the one whose fault got in.
 */
describe('writer threads waiting for room in a full fault ring', () => {
  let workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    workers = [];
  });

  it('fail with LoadAbortedError when the load is cancelled, none left waiting', async () => {
    const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 4 * PAGE }] });
    const handle = memory.share({ ringEntries: 1 });
    workers = [0, 1].map(() => startWorker(ACCESS, { handle }));
    await Promise.all(workers.map((w) => nextMessage(w)));
    const load = memory.beginLoad(() => undefined);
    const answers = workers.map((w) => nextMessage<Answer>(w));
    workers.forEach((w, page) => w.postMessage({ write: ['ram', page * PAGE, 1, 1] }));
    // The main thread, which drains the ring, is held while both writers fault: one fault fills
    // the ring, the other writer waits for room. Then the load ends before the ring is drained.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    load.close({ reason: 'cancelled' });
    const results = await Promise.race([
      Promise.all(answers),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5_000)),
    ]);
    expect(results).not.toBe('hung');
    for (const result of results as Answer[]) expect(result).toMatchObject({ ok: false, name: 'LoadAbortedError', reason: 'cancelled' });
  });
});
