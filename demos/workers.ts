/**
 * Writer threads, snapshotted: two worker threads ("vCPUs", demos/workers/vcpu.ts)
 * write all over a 64 MiB guest memory while it is snapshotted into a file,
 * once per strategy. The image is memory at t0; the cut says how many of
 * each vCPU's writes it holds. The file goes to os.tmpdir(), is checked with
 * verify(), and is removed.
 *
 *   npx ts-node demos/workers.ts
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { filter, lastValueFrom } from 'rxjs';
import { FileSink, PagedMemory, snapshot, verify, type WriterFaults } from 'bgsnap';

interface VcpuReport {
  readonly id: number;
  readonly writes: number;
  readonly faults: WriterFaults;
}

/** The next message from `worker`. */
const next = <T>(worker: Worker): Promise<T> =>
  new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
const time = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`);

async function run(strategy: 'queue' | 'copy', vcpus: readonly Worker[]): Promise<void> {
  // The guest memory, shared with the vCPU threads through a handle (SharedArrayBuffers, not copies).
  const memory = new PagedMemory({ blocks: [{ name: 'ram', size: 64 * 1024 * 1024 }] });
  const handle = memory.share();
  const stop = new Int32Array(new SharedArrayBuffer(4));
  for (const w of vcpus) w.postMessage({ handle, stop: stop.buffer });
  await Promise.all(vcpus.map((w) => next(w)));
  await new Promise((resolve) => setTimeout(resolve, 50)); // Let them write a while.

  // t0 is a safe point: each vCPU pauses at its next write while every page is protected.
  const path = join(tmpdir(), `bgsnap-demo-workers-${process.pid}-${strategy}.bgsnap`);
  const done = await lastValueFrom(snapshot(memory, new FileSink(path), { strategy }).pipe(filter((e) => e.type === 'done')));
  Atomics.store(stop, 0, 1);
  const reports = (await Promise.all(vcpus.map((w) => next<VcpuReport>(w)))).sort((a, b) => a.id - b.id);
  const check = await verify(path).finally(() => rm(path, { force: true }));

  const { stats } = done;
  console.log(`\n${strategy}: 64 MiB to ${path} in ${stats.durationMs.toFixed(0)} ms`);
  console.log(`  cut ${JSON.stringify(stats.cut)}: writes of vCPU 0 and 1 in the image (the file's header says ${JSON.stringify(check.header?.cut)})`);
  console.log(`  t0 pause ${time(stats.t0PauseMs)}; faults ${stats.faults}, pages saved by bulk ${stats.saved.bulk}, fault ${stats.saved.fault}, copy ${stats.saved.copy}`);
  for (const { id, writes, faults } of reports) {
    const self = strategy === 'copy' ? ` (${faults.selfCopied} copied by the vCPU itself)` : '';
    console.log(`  vCPU ${id}: ${writes} writes, ${faults.count} faults${self}, longest stall ${time(faults.stall.max)}, t0 pause ${time(faults.longestPauseMs)}`);
  }
  console.log(`  verify: ${check.ok ? 'ok' : `FAILED, ${check.problems[0]?.message}`}, ${check.pages} pages (${check.zeroPages} zero) in ${check.records} records`);
}

async function main(): Promise<void> {
  console.log('bgsnap: two writer threads keep writing while their memory is snapshotted to a file');
  const vcpus = [1, 2].map(
    (seed) =>
      new Worker(join(__dirname, 'workers', 'vcpu.ts'), { workerData: { seed }, execArgv: ['--require', 'ts-node/register/transpile-only'] }),
  );
  await run('queue', vcpus);
  await run('copy', vcpus);
  await Promise.all(vcpus.map((w) => w.terminate()));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
