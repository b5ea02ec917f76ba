/**
 * Shared by the storage and format tests: temporary directories, memories
 * with known contents, writers that write during a snapshot, and a snapshot
 * run that records what happened.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { BlockSpec } from '../../src/memory/geometry';
import { PagedMemory } from '../../src/memory/PagedMemory';
import type { DoneEvent, SnapshotEvent, SnapshotStats } from '../../src/pipeline/events';
import type { FileSinkFs } from '../../src/storage/writeAll';

/** A fresh directory under os.tmpdir(); `remove()` deletes it and everything in it. */
export function tempDir(label: string): { readonly path: string; file(name: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `bgsnap-${label}-`));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A small deterministic PRNG (mulberry32), so that failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A memory whose pages hold random bytes, except a share of them left all zero. */
export function filledMemory(pageSize: number, blocks: readonly BlockSpec[], seed: number, zeroShare = 0.3): PagedMemory {
  const memory = new PagedMemory({ pageSize, blocks });
  const random = rng(seed);
  for (const block of memory.blocks) {
    for (let p = 0; p < block.pages; p++) {
      if (random() < zeroShare) continue;
      const page = block.bytes.subarray(p * pageSize, (p + 1) * pageSize);
      for (let i = 0; i < pageSize; i += 4) page[i] = (random() * 256) | 0;
      // Never all zero by chance: the last byte is set.
      page[pageSize - 1] = 1 + ((random() * 255) | 0);
    }
  }
  return memory;
}

/** Writes `pending` of which have not settled yet; `settled` counts those that did. */
export interface Writers {
  /** Stops the loops; resolves when each has finished its current write. */
  stop(): Promise<void>;
  readonly issued: number;
  readonly pending: number;
}

/**
 * `count` writers, each writing a few bytes at a random page, awaiting its
 * write (so a fault blocks it), then yielding to the event loop. A first
 * burst, one write per writer, goes out at once, so that some writes are
 * sure to hit protected pages.
 */
export function startWriters(memory: PagedMemory, count: number, seed: number): Writers {
  const random = rng(seed);
  let running = true;
  let issued = 0;
  let pending = 0;
  const write = (): Promise<void> => {
    const block = memory.blocks[(random() * memory.blocks.length) | 0] as (typeof memory.blocks)[number];
    const offset = ((random() * block.pages) | 0) * memory.pageSize + ((random() * (memory.pageSize - 8)) | 0);
    const data = Uint8Array.of(0xa0 | (issued & 15), 1, 2, 3, 4, 5, 6, 7);
    issued++;
    pending++;
    return memory.write(block.name, offset, data).then(() => {
      pending--;
    });
  };
  const loops = Array.from({ length: count }, async () => {
    await write();
    while (running) {
      await new Promise((resolve) => setImmediate(resolve));
      if (running) await write();
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
    get issued() {
      return issued;
    },
    get pending() {
      return pending;
    },
  };
}

/** How a snapshot subscription ended. */
export type Outcome =
  | { readonly kind: 'done'; readonly stats: SnapshotStats; readonly events: SnapshotEvent[] }
  | { readonly kind: 'error'; readonly error: unknown; readonly events: SnapshotEvent[] };

/** Subscribes and resolves when the snapshot completes or errors. */
export function runToEnd(snapshot$: Observable<SnapshotEvent>, onStarted?: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const events: SnapshotEvent[] = [];
    let stats: SnapshotStats | undefined;
    snapshot$.subscribe({
      next: (e) => {
        events.push(e);
        if (e.type === 'started') onStarted?.();
        if (e.type === 'done') stats = (e as DoneEvent).stats;
      },
      error: (error: unknown) => resolve({ kind: 'error', error, events }),
      complete: () => resolve({ kind: 'done', stats: stats as SnapshotStats, events }),
    });
  });
}

/** Lets every callback and promise that is due run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One call a `FileSinkFs` received. */
export type FsCall = { readonly op: string; readonly args: readonly unknown[] };

export interface SpyFsHooks {
  /** Runs before the call; a returned error fails it (asynchronously, as the OS would). */
  readonly before?: (op: string, index: number, args: readonly unknown[]) => NodeJS.ErrnoException | undefined;
  /** Runs as the call completes, before its callback. */
  readonly after?: (op: string, index: number) => void;
}

/**
 * A `FileSinkFs` over node:fs that logs every call, counts file descriptors
 * open, and lets a test fail or intercept any call.
 */
export function spyFs(hooks: SpyFsHooks = {}): FileSinkFs & { readonly calls: FsCall[]; readonly openFds: Set<number> } {
  const calls: FsCall[] = [];
  const openFds = new Set<number>();
  const log = (op: string, args: readonly unknown[]): NodeJS.ErrnoException | undefined => {
    calls.push({ op, args });
    return hooks.before?.(op, calls.length - 1, args);
  };
  type Callback = (error: NodeJS.ErrnoException | null, ...values: unknown[]) => void;
  /** Wraps a callback-style call: a failure from `before` replaces the real call. */
  const async = (op: string, args: unknown[], real: (cb: Callback) => void, cb: Callback): void => {
    const index = calls.length;
    const failure = log(op, args);
    const finish: Callback = (error, ...values) => {
      hooks.after?.(op, index);
      cb(error, ...values);
    };
    if (failure !== undefined) {
      setImmediate(() => finish(failure));
      return;
    }
    real(finish);
  };
  const spy = {
    calls,
    openFds,
    openSync: ((path: fs.PathLike, flags: fs.OpenMode) => {
      const failure = log('openSync', [path, flags]);
      if (failure !== undefined) throw failure;
      const fd = fs.openSync(path, flags);
      openFds.add(fd);
      return fd;
    }) as typeof fs.openSync,
    lstatSync: ((path: fs.PathLike, options?: fs.StatSyncOptions) => {
      log('lstatSync', [path]);
      return fs.lstatSync(path, options);
    }) as typeof fs.lstatSync,
    writev: ((fd: number, buffers: NodeJS.ArrayBufferView[], position: number, cb: Callback) => {
      async('writev', [fd, buffers, position], (done) => fs.writev(fd, buffers, position, done), cb);
    }) as unknown as typeof fs.writev,
    fsync: ((fd: number, cb: Callback) => async('fsync', [fd], (done) => fs.fsync(fd, done), cb)) as typeof fs.fsync,
    close: ((fd: number, cb: Callback) =>
      async('close', [fd], (done) => fs.close(fd, (error) => {
        if (!error) openFds.delete(fd);
        done(error);
      }), cb)) as typeof fs.close,
    open: ((path: fs.PathLike, flags: fs.OpenMode, cb: Callback) =>
      async('open', [path, flags], (done) => fs.open(path, flags, (error, fd) => {
        if (!error) openFds.add(fd);
        done(error, fd);
      }), cb)) as unknown as typeof fs.open,
    link: ((from: fs.PathLike, to: fs.PathLike, cb: Callback) => async('link', [from, to], (done) => fs.link(from, to, done), cb)) as typeof fs.link,
    rename: ((from: fs.PathLike, to: fs.PathLike, cb: Callback) =>
      async('rename', [from, to], (done) => fs.rename(from, to, done), cb)) as typeof fs.rename,
    unlink: ((path: fs.PathLike, cb: Callback) => async('unlink', [path], (done) => fs.unlink(path, done), cb)) as typeof fs.unlink,
  };
  return spy;
}

/** An error as the OS reports it. */
export function osError(code: string, op = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, ${op}`), { code, errno: -1, syscall: op });
}

export type { Subscription };

/** The shape of a FileSink property scenario, shared by the failure and cancel properties. */
export const fileSinkScenario = {
  strategy: fc.constantFrom('queue' as const, 'copy' as const),
  pageSize: fc.constantFrom(512, 4096),
  pages: fc.integer({ min: 4, max: 64 }),
  capacity: fc.integer({ min: 1, max: 6 }),
  runPages: fc.integer({ min: 1, max: 6 }),
  writePages: fc.integer({ min: 1, max: 8 }),
  poolPages: fc.integer({ min: 0, max: 6 }),
  writers: fc.integer({ min: 0, max: 3 }),
};
