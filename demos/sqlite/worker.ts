/**
 * The thread that runs the shop (shop.ts) on a shared memory: it opens the
 * database through `openSqlite(attachMemory(handle), layout)` and takes
 * orders at full speed, logging each transaction's commit time, latency and
 * longest write, until told to stop. Between transactions it parks while
 * `Word.Park` is set, for a benchmark's stop-the-world backup.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachMemory } from 'bgsnap';
import { openSqlite, type SyncWriter } from 'bgsnap/sqlite';
import { Field, LOG_ENTRIES, LOG_FIELDS, Word, orderSql, schemaSql, type ShopData, type ShopReply } from './shop';

async function main(): Promise<void> {
  const data = workerData as ShopData;
  const control = new Int32Array(data.control);
  const log = new Float64Array(data.log);
  const writer = attachMemory(data.handle);
  // Each write timed: one that blocks on a snapshot is a stall of this thread.
  let longestWrite = 0;
  const timed: SyncWriter = {
    write(block, offset, bytes) {
      const start = performance.now();
      writer.write(block, offset, bytes);
      longestWrite = Math.max(longestWrite, performance.now() - start);
    },
    read: (block, offset, length) => writer.read(block, offset, length),
  };
  const db = await openSqlite(timed, data.layout);
  await db.exec(schemaSql(data.size));
  const post = (reply: ShopReply): void => parentPort?.postMessage(reply);
  post({ type: 'ready' });

  let s = 0x9e3779b9;
  const random = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const { items, customers, keep } = data.size;
  let due = performance.now();
  let seq = 0;
  while (Atomics.load(control, Word.Stop) === 0) {
    if (Atomics.load(control, Word.Park) !== 0) {
      Atomics.store(control, Word.Parked, 1);
      while (Atomics.load(control, Word.Park) !== 0) Atomics.wait(control, Word.Park, 1, 100);
      Atomics.store(control, Word.Parked, 0);
    }
    longestWrite = 0;
    seq++;
    await db.exec(orderSql(seq, random(items), random(customers), 1 + random(5), keep));
    const end = performance.now();
    const at = (seq % LOG_ENTRIES) * LOG_FIELDS;
    log[at + Field.CommitAt] = performance.timeOrigin + end;
    log[at + Field.LatencyMs] = end - due;
    log[at + Field.LongestWriteMs] = longestWrite;
    due = end;
    Atomics.store(control, Word.Committed, seq);
  }
  await db.close();
  post({ type: 'stopped', orders: seq, faults: writer.faults });
  writer.detach();
}

// A failure ends the thread with an 'error' event in the parent.
void main();
