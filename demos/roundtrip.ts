/**
 * A snapshot → restore round trip through a file.
 *
 *   npx ts-node demos/roundtrip.ts
 *
 * A 16 MiB memory in two blocks is snapshotted to a file while a writer keeps
 * changing it. The file is verified, then restored into a fresh memory of the
 * same geometry: the restored bytes equal the memory as it was at t0, not as
 * it is after the writer's later writes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { FileSink, PagedMemory, restore, snapshot, verify } from 'bgsnap';

const PAGE = 4096;
const BLOCKS = [
  { name: 'ram', size: 15 << 20 },
  { name: 'vram', size: 1 << 20 },
];

/** The memory's bytes, block after block. */
const bytesOf = (memory: PagedMemory): Buffer => Buffer.concat(memory.blocks.map((b) => Buffer.from(b.bytes)));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bgsnap-roundtrip-'));
  const path = join(dir, 'guest.bgsnap');
  try {
    // A memory with a different byte in every page.
    const memory = new PagedMemory({ pageSize: PAGE, blocks: BLOCKS });
    for (const block of memory.blocks) for (let o = 0; o < block.size; o += PAGE) block.bytes.fill(1 + ((o / PAGE) % 255), o, o + PAGE);

    // A writer that changes random pages through the write barrier, a few per event-loop turn.
    let running = true;
    let writes = 0;
    const writer = (async () => {
      let x = 12345;
      while (running) {
        for (let i = 0; i < 8; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          const block = memory.blocks[x % 8 === 0 ? 1 : 0] as (typeof memory.blocks)[number];
          await memory.write(block.name, (x % block.pages) * PAGE, Uint8Array.of(0xee, 0xee, 0xee, 0xee));
          writes++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    // Step 1: the snapshot, to a file. At `started` (t0) the demo keeps a copy to compare with later.
    let atT0: Buffer | undefined;
    const done = await lastValueFrom(
      snapshot(memory, new FileSink(path), { strategy: 'copy' }).pipe(tap((e) => e.type === 'started' && (atT0 = bytesOf(memory)))),
    );
    running = false;
    await writer;
    if (done.type !== 'done' || atT0 === undefined) throw new Error('the snapshot did not finish');
    console.log(`snapshot: ${done.stats.totalPages} pages in ${done.stats.durationMs.toFixed(1)} ms while ${writes} writes went on; ${statSync(path).size} bytes on disk`);

    // Step 2: verify the file: every record's checksum, every page once, the trailer.
    const report = await verify(path);
    console.log(`verify: ${report.ok ? 'ok' : `FAILED: ${report.problems[0]?.message}`}, ${report.records} records, ${report.pages} pages`);

    // Step 3: restore into a fresh memory of the same geometry, and compare.
    const restored = new PagedMemory({ pageSize: PAGE, blocks: BLOCKS });
    const { pages } = await restore(path, restored);
    const image = bytesOf(restored);
    console.log(`restore: ${pages} pages written into a fresh memory`);
    console.log(`  equals memory at t0:  ${image.equals(atT0) ? 'yes' : 'NO'}`);
    console.log(`  equals memory now:    ${image.equals(bytesOf(memory)) ? 'yes' : 'no (the writes after t0 are not in the image)'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
