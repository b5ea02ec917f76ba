import { OptionError } from '../errors';

/**
 * A storage device, as a simple model: each write first waits `latency`
 * (a seek, a command round trip), with up to `queueDepth` writes waiting at
 * once, then transfers its bytes at `bandwidth` over one channel that all
 * writes share, in the order they were submitted.
 *
 * The latency is paid per write, so the rate a snapshot sees depends on the
 * size of its writes. With one write at a time it is
 * `bytes / (latency + bytes / bandwidth)`. With n writes in flight (n up to
 * `queueDepth`) each write's latency overlaps the transfers of the ones
 * before it, and the rate reaches `bandwidth` once `latency` is at most
 * n − 1 transfer times.
 */
export interface StorageProfile {
  /** Bytes per second. */
  readonly bandwidth: number;
  /** Milliseconds each write waits before its transfer. */
  readonly latency: number;
  /**
   * Writes the device works on at once; more wait in line.
   * @default 1
   */
  readonly queueDepth?: number;
}

/**
 * Rough figures for three kinds of device, frozen. The latency is charged
 * per write (see `StorageProfile`), so the effective rate depends on the
 * write size; the rates below are for writes of 256 KiB and of 1 MiB (a
 * snapshot's writes follow `ThrottledSink.writeSize`: on `hdd` they start at
 * 2 MiB and grow to 16 MiB, 140 MB/s):
 *
 * | profile | bandwidth | latency | queueDepth | 256 KiB writes | 1 MiB writes |
 * |---|---|---|---|---|---|
 * | `hdd` | 150 MB/s | 8 ms | 1 | 26.9 MB/s | 69.9 MB/s |
 * | `ssd` | 500 MB/s | 0.1 ms | 8 | 500 MB/s (420 MB/s one at a time) | 500 MB/s (477 MB/s one at a time) |
 * | `nvme` | 3 GB/s | 0.03 ms | 16 | 3 GB/s (2.2 GB/s one at a time) | 3 GB/s (2.8 GB/s one at a time) |
 *
 * An `hdd` never overlaps its seeks, so a snapshot through it runs at the
 * rate of its write size whatever the sink's capacity: 64 MiB in 256 KiB
 * writes takes about 2.5 s, in 16 MiB writes about 0.5 s. The `ssd` and `nvme` rates need two writes or
 * more in flight.
 */
export const storageProfiles = Object.freeze({
  /** A spinning disk: 150 MB/s, 8 ms per write (a seek), one at a time: 26.9 MB/s in 256 KiB writes, 69.9 MB/s in 1 MiB writes. */
  hdd: Object.freeze({ bandwidth: 150e6, latency: 8, queueDepth: 1 }),
  /** A SATA SSD: 500 MB/s, 0.1 ms per write, 8 at once (about 80k IOPS): 500 MB/s in 256 KiB or 1 MiB writes with two or more in flight. */
  ssd: Object.freeze({ bandwidth: 500e6, latency: 0.1, queueDepth: 8 }),
  /** An NVMe SSD: 3 GB/s, 0.03 ms per write, 16 at once (about 530k IOPS): 3 GB/s in 256 KiB or 1 MiB writes with two or more in flight. */
  nvme: Object.freeze({ bandwidth: 3e9, latency: 0.03, queueDepth: 16 }),
} as const) satisfies Readonly<Record<string, Readonly<Required<StorageProfile>>>>;

export type StorageProfileName = keyof typeof storageProfiles;

/** A profile by name, or a custom one checked field by field and copied; frozen either way. */
export function resolveProfile(profile: unknown, option = 'profile'): Readonly<Required<StorageProfile>> {
  if (typeof profile === 'string') {
    if (Object.hasOwn(storageProfiles, profile)) return storageProfiles[profile as StorageProfileName];
    throw new OptionError(option, `one of ${Object.keys(storageProfiles).map((k) => `'${k}'`).join(', ')}, or { bandwidth, latency, queueDepth? }`, profile);
  }
  if (typeof profile !== 'object' || profile === null) {
    throw new OptionError(option, `a profile name or { bandwidth, latency, queueDepth? }`, profile);
  }
  const { bandwidth, latency, queueDepth = 1 } = profile as Partial<StorageProfile>;
  if (typeof bandwidth !== 'number' || !(bandwidth > 0) || !Number.isFinite(bandwidth)) {
    throw new OptionError(`${option}.bandwidth`, 'a finite number of bytes per second above 0', bandwidth);
  }
  if (typeof latency !== 'number' || !(latency >= 0) || !Number.isFinite(latency)) {
    throw new OptionError(`${option}.latency`, 'a finite number of milliseconds from 0 up', latency);
  }
  if (!Number.isSafeInteger(queueDepth) || queueDepth < 1) {
    throw new OptionError(`${option}.queueDepth`, 'an integer from 1 up', queueDepth);
  }
  return Object.freeze({ bandwidth, latency, queueDepth });
}
