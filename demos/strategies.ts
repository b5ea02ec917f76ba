/**
 * The strategy trade-off, live: in-process writers keep writing a 32 MiB
 * memory while it is snapshotted to a throttled disk (the `hdd` profile:
 * 150 MB/s, 8 ms a write, one at a time), once per strategy.
 *
 *   npx ts-node demos/strategies.ts
 *
 * `queue` holds each faulting writer until its page's storage write is done,
 * behind the writes already queued at the disk; `copy` holds it only for a
 * page copy, at the price of pool memory. Under both, a writer that touches a
 * page whose bulk write is in flight waits for that write: that is the tail.
 */
import { filter, lastValueFrom, tap } from 'rxjs';
import { MemorySink, PagedMemory, snapshot, ThrottledSink, type SnapshotStats } from 'bgsnap';

const MiB = 1024 * 1024;
const PAGE = 4096;

async function run(strategy: 'queue' | 'copy'): Promise<void> {
  // A 32 MiB "guest" in two blocks, with recognisable contents.
  const memory = new PagedMemory({ pageSize: PAGE, blocks: [{ name: 'ram', size: 28 * MiB }, { name: 'vram', size: 4 * MiB }] });
  for (const block of memory.blocks) for (let o = 0; o < block.size; o += PAGE) block.bytes.fill((o / PAGE) % 251, o, o + PAGE);

  // A spinning disk's speed, on the real clock, in front of an in-memory image.
  const image = new MemorySink();
  const sink = new ThrottledSink(image, { profile: 'hdd' });

  // Two writers, each writing 16 random pages per event-loop turn.
  let running = true;
  let writes = 0;
  const writer = async (seed: number) => {
    let x = seed;
    while (running) {
      for (let i = 0; i < 16; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        const block = x % 16 === 0 ? 'vram' : 'ram';
        const pages = memory.block(block).pages;
        await memory.write(block, (x % pages) * PAGE, new Uint8Array([x & 0xff]));
        writes++;
      }
      await new Promise((r) => setImmediate(r));
    }
  };
  const writers = [writer(1), writer(2)];

  // The snapshot: take memory as it is now (t0), and report when done.
  let atT0: Uint8Array | undefined;
  const done = await lastValueFrom(
    snapshot(memory, sink, { strategy, poolPages: 256 }).pipe(
      tap((e) => e.type === 'started' && (atT0 = memory.read('ram', 0, memory.block('ram').size))),
      filter((e) => e.type === 'done'),
    ),
  );
  running = false;
  await Promise.all(writers);

  const stats: SnapshotStats = done.stats;
  const same = atT0 !== undefined && Buffer.compare(Buffer.from(image.image('ram')), Buffer.from(atT0)) === 0;
  const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  console.log(`\n${strategy}: ${stats.durationMs.toFixed(0)} ms, ${writes} writes went on meanwhile`);
  console.log(`  faults ${stats.faults}; saved by bulk ${stats.saved.bulk}, fault ${stats.saved.fault}, copy ${stats.saved.copy}`);
  console.log(`  writer stall p50 ${us(stats.stall.p50)}, p99 ${us(stats.stall.p99)}, max ${us(stats.stall.max)}`);
  console.log(`  pool peak ${stats.pool.peakPages} pages (${stats.pool.peakBytes / 1024} KiB)`);
  console.log(`  image equals memory at t0: ${same ? 'yes' : 'NO'}; pages left protected: ${memory.states.filter((s) => s !== 0).length}`);
}

async function main(): Promise<void> {
  console.log('bgsnap: a 32 MiB memory snapshotted to an hdd-like disk while two writers keep writing');
  await run('queue');
  await run('copy');
}

void main();
