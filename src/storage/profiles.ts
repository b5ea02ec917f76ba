import { OptionError } from '../errors';

/**
 * A storage device, as a simple model: each write first waits `latency`
 * (a seek, a command round trip), with up to `queueDepth` writes waiting at
 * once, then transfers its bytes at `bandwidth` over one channel that all
 * writes share, in the order they were submitted.
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
 * Rough figures for three kinds of device. Small writes pay the latency;
 * large writes run at the bandwidth.
 */
export const storageProfiles = {
  /** A spinning disk: about 150 MB/s, 8 ms per write (a seek), one at a time. */
  hdd: { bandwidth: 150e6, latency: 8, queueDepth: 1 },
  /** A SATA SSD: about 500 MB/s, 0.1 ms per write, 8 at once (about 80k IOPS). */
  ssd: { bandwidth: 500e6, latency: 0.1, queueDepth: 8 },
  /** An NVMe SSD: about 3 GB/s, 0.03 ms per write, 16 at once (about 530k IOPS). */
  nvme: { bandwidth: 3e9, latency: 0.03, queueDepth: 16 },
} as const satisfies Record<string, Required<StorageProfile>>;

export type StorageProfileName = keyof typeof storageProfiles;

/** A profile by name, or a custom one checked field by field. */
export function resolveProfile(profile: unknown, option = 'profile'): Required<StorageProfile> {
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
  return { bandwidth, latency, queueDepth };
}
