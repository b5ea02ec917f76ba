import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WriterFaults } from '../../threads/attachMemory';
import type { MemoryHandle } from '../../threads/handle';
import { FLAG_WORDS, Flag, type StallSamples, type VcpuData, type VcpuMessage } from './protocol';
import type { WorkloadName } from './workload';

/**
 * The vCPU thread's script, next to this file: `vcpu.js` in the compiled
 * package, `vcpu.ts` when run from the sources under ts-node, where the thread
 * has to load ts-node too (resolved from here, whatever the working folder).
 */
const SCRIPT = join(__dirname, `vcpu${extname(__filename)}`);
const FROM_SOURCES = extname(__filename) === '.ts';
/** Under ts-node: load it in the thread, with this package's tsconfig wherever the command runs from. */
const TS_NODE = FROM_SOURCES
  ? {
      execArgv: ['--require', require.resolve('ts-node/register/transpile-only')],
      env: { ...process.env, TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? join(__dirname, '..', '..', '..', 'tsconfig.json') },
    }
  : {};

/** Stalls each vCPU keeps as samples unless told otherwise. */
export const SAMPLE_LIMIT = 200_000;

export interface VcpuOptions {
  readonly count: number;
  readonly workload: WorkloadName;
  /** Writes per second per vCPU while not blocked, or as many as each can. */
  readonly writesPerSecond: number | 'max';
  readonly seed: number;
  /**
   * Most stalls each vCPU keeps as samples.
   * @default SAMPLE_LIMIT
   */
  readonly sampleLimit?: number;
}

/** What one vCPU did, in writer-id order. */
export interface VcpuReport {
  /** The writer id: its index in a snapshot's `cut`. */
  readonly id: number;
  readonly writes: number;
  /** The writer's own account of its faults (`MemoryWriter.faults`). */
  readonly faults: WriterFaults;
  readonly stalls: StallSamples;
  /** When its first write completed, in wall milliseconds, or undefined. */
  readonly firstWriteAt?: number;
}

/** A vCPU thread failed, or did not stop in time. */
export class VcpuError extends Error {
  override readonly name = 'VcpuError';
  constructor(
    message: string,
    /** The vCPU that failed, when one did. */
    readonly vcpu?: number,
    options?: { cause?: unknown },
  ) {
    super(vcpu === undefined ? message : `vCPU ${vcpu}: ${message}`, options);
  }
}

/**
 * The vCPU threads of a guest: started attached and idle, then `go()`,
 * `stop()` for their reports, or `terminate()`.
 */
export class Vcpus {
  private readonly flags = new Int32Array(new SharedArrayBuffer(FLAG_WORDS * 4));
  private readonly workers: Worker[] = [];
  /** Each vCPU's first failure (an error event, or an exit before its report). */
  private readonly failures: Promise<never>[] = [];
  private readonly finished: Promise<VcpuReport>[] = [];

  private constructor(
    handle: MemoryHandle,
    private readonly options: VcpuOptions,
  ) {
    for (let vcpu = 0; vcpu < options.count; vcpu++) {
      const workerData: VcpuData = {
        handle,
        flags: this.flags.buffer as SharedArrayBuffer,
        workload: options.workload,
        vcpu,
        vcpus: options.count,
        writesPerSecond: options.writesPerSecond,
        seed: options.seed,
        sampleLimit: options.sampleLimit ?? SAMPLE_LIMIT,
      };
      this.workers.push(new Worker(SCRIPT, { workerData, ...TS_NODE }));
    }
  }

  /** Starts `options.count` vCPU threads on `handle`; resolves once every one is attached. */
  static async start(handle: MemoryHandle, options: VcpuOptions): Promise<Vcpus> {
    const vcpus = new Vcpus(handle, options);
    try {
      await Promise.all(vcpus.workers.map((worker, i) => vcpus.watch(worker, i)));
      return vcpus;
    } catch (error) {
      await vcpus.terminate();
      throw error;
    }
  }

  /** Lets every vCPU start writing. */
  go(): void {
    Atomics.store(this.flags, Flag.Go, 1);
    Atomics.notify(this.flags, Flag.Go);
  }

  /**
   * Stops every vCPU; resolves with their reports in writer-id order. A vCPU
   * that fails, or has not reported within `timeoutMs` (it can only be
   * blocked on a page a snapshot still protects), fails it: the threads are
   * terminated and the promise rejects with a `VcpuError`.
   */
  async stop(timeoutMs = 5000): Promise<VcpuReport[]> {
    Atomics.store(this.flags, Flag.Stop, 1);
    Atomics.notify(this.flags, Flag.Stop);
    Atomics.notify(this.flags, Flag.Go);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VcpuError(`the vCPUs did not stop within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const reports = await Promise.race([Promise.all(this.finished), late, ...this.failures]);
      return reports.sort((a, b) => a.id - b.id);
    } catch (error) {
      await this.terminate();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the threads at once, wherever they are. Idempotent. */
  async terminate(): Promise<void> {
    Atomics.store(this.flags, Flag.Stop, 1);
    Atomics.notify(this.flags, Flag.Stop);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Resolves when vCPU `vcpu` is attached; sets up its report and its failure. */
  private watch(worker: Worker, vcpu: number): Promise<void> {
    let attached: () => void = () => undefined;
    let report: (r: VcpuReport) => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve) => (attached = resolve));
    this.finished.push(new Promise<VcpuReport>((resolve) => (report = resolve)));
    const failure = new Promise<never>((_, reject) => (fail = reject));
    failure.catch(() => undefined);
    this.failures.push(failure);
    let reported = false;
    worker.on('message', (message: VcpuMessage) => {
      if (message.type === 'attached') return attached();
      reported = true;
      report({ id: message.id, writes: message.writes, faults: message.faults, stalls: message.stalls, firstWriteAt: message.firstWriteAt });
    });
    worker.once('error', (error) => fail(new VcpuError(error instanceof Error ? error.message : String(error), vcpu, { cause: error })));
    worker.once('exit', (code) => {
      if (!reported) fail(new VcpuError(`exited with code ${code} before its report`, vcpu));
    });
    return Promise.race([ready, failure]);
  }
}
