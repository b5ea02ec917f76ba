import { randomStreams, type RandomStream } from '../../sim/random';

/** What a vCPU writes in `bgsnap run`: which page each write lands on. */

/** The workloads of `bgsnap run --workload`. */
export const WORKLOADS = ['random', 'hotset', 'sequential'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Share of `hotset` writes that go to the hot set. */
export const HOT_SHARE = 0.9;
/** The hot set of `hotset`: this fraction of the pages, from page 0, shared by every vCPU. */
export const HOT_FRACTION = 1 / 16;

/** Bytes of each write: one aligned word, so a write never spans two pages. */
export const WRITE_BYTES = 8;

/** A vCPU's sequence of write offsets. */
export interface WriteStream {
  /** The byte offset of the next write, a multiple of `WRITE_BYTES` within one page. */
  next(): number;
}

export interface WorkloadShape {
  readonly workload: WorkloadName;
  readonly pages: number;
  readonly pageSize: number;
  readonly vcpus: number;
  /** This vCPU, from 0. */
  readonly vcpu: number;
  readonly seed: number;
}

/**
 * The offsets vCPU `vcpu` writes at:
 * - `random`: a page drawn uniformly from all pages;
 * - `hotset`: 90% of writes to a page of the first 1/16 of memory, the rest anywhere;
 * - `sequential`: one write per page, walking the vCPU's own slice of memory
 *   (memory split evenly between the vCPUs) and wrapping around.
 * Within a page the word is random. Each vCPU draws from its own stream of
 * the seed (`workloadStream`), so a seed repeats the same offsets.
 */
export function writeStream(shape: WorkloadShape): WriteStream {
  const { pages, pageSize, vcpus, vcpu } = shape;
  const random = workloadStream(shape.seed, vcpus, vcpu);
  const below = (n: number): number => Math.floor(random.next() * n);
  const words = pageSize / WRITE_BYTES;
  const at = (page: number): number => page * pageSize + below(words) * WRITE_BYTES;
  switch (shape.workload) {
    case 'random':
      return { next: () => at(below(pages)) };
    case 'hotset': {
      const hot = Math.max(1, Math.floor(pages * HOT_FRACTION));
      return { next: () => at(random.next() < HOT_SHARE ? below(hot) : below(pages)) };
    }
    case 'sequential': {
      const first = Math.floor((pages * vcpu) / vcpus);
      const length = Math.max(1, Math.floor((pages * (vcpu + 1)) / vcpus) - first);
      let k = 0;
      return {
        next: () => {
          const page = first + k;
          k = k + 1 === length ? 0 : k + 1;
          return at(page);
        },
      };
    }
  }
}

/**
 * Stream `index` of the `2 × vcpus` independent streams of a run's seed: the
 * first `vcpus` give the vCPUs' offsets, the others whatever else a vCPU draws.
 */
export function workloadStream(seed: number, vcpus: number, index: number): RandomStream {
  return randomStreams(seed, 2 * vcpus)[index] as RandomStream;
}
