import { ChainError } from '../errors';
import type { SnapshotFileHeader } from './decodeHeader';
import { VERSION_1 } from './layout';

/** One file of a chain: where it is and its header. */
export interface ChainLink {
  readonly path: string;
  readonly header: SnapshotFileHeader;
}

/**
 * Checks that `links`, base first, are one chain (docs/FORMAT.md, "Chains"):
 * link 0 full, every link with the base's geometry, link i (i ≥ 1)
 * incremental, of the base's root, numbered i, the child of link i − 1.
 * @returns the first link that breaks a rule, as a ChainError, or `undefined`.
 */
export function chainProblem(links: readonly ChainLink[]): ChainError | undefined {
  const name = (i: number) => `link ${i} (${(links[i] as ChainLink).path})`;
  const base = links[0];
  if (base === undefined) return undefined;
  // Step 1: the base, a full snapshot; version 1 only as a chain of one.
  if (base.header.kind !== 'full') {
    return new ChainError(0, base.path, 'not-full-first', `is not a full snapshot: a chain starts with one (this one is incremental, link ${base.header.identity?.link})`);
  }
  const ids = links.map((l) => l.header.identity?.id);
  for (let i = 0; i < links.length; i++) {
    const { path, header } = links[i] as ChainLink;
    if (links.length > 1 && header.version === VERSION_1) {
      return new ChainError(i, path, 'version-1', 'is a version 1 file, which has no id and can be no link of a longer chain');
    }
    if (i === 0) continue;
    const identity = header.identity;
    if (identity === undefined) continue; // version 1: refused above.
    // Step 2: each later link: not a repeat, incremental, the base's geometry and root.
    const earlier = ids.indexOf(identity.id);
    if (earlier < i) return new ChainError(i, path, 'repeated', `is repeated: it is the snapshot ${identity.id} of ${name(earlier)}`);
    if (header.kind !== 'incremental') {
      return new ChainError(i, path, 'not-incremental', `is a full snapshot: every link after link 0 must be incremental`);
    }
    const geometry = geometryDifference(base.header, header);
    if (geometry !== undefined) return new ChainError(i, path, 'geometry', `has a different geometry from link 0 (${base.path}): ${geometry}`);
    if (identity.root !== ids[0]) {
      return new ChainError(i, path, 'other-chain', `is from another chain: its root is ${identity.root}, not link 0's id ${ids[0]}`);
    }
    // Step 3: its parent: the link before it, not a later one, not one missing from the list.
    const parentAt = ids.indexOf(identity.parent);
    const before = links[i - 1]?.header.identity?.link ?? 0;
    if (parentAt > i) return new ChainError(i, path, 'out-of-order', `is out of order: its parent is ${name(parentAt)}`);
    if (identity.link < before) {
      return new ChainError(i, path, 'out-of-order', `is out of order: its link number ${identity.link} is below ${name(i - 1)}'s ${before}`);
    }
    if (identity.link > i && parentAt < 0) {
      return new ChainError(i, path, 'missing', `has a link missing before it: it is link number ${identity.link} and its parent ${identity.parent} is not in the list (expected link number ${i})`);
    }
    if (parentAt !== i - 1 || identity.link !== i) {
      return new ChainError(
        i,
        path,
        'parent',
        `does not follow ${name(i - 1)}: expected parent ${ids[i - 1]} and link number ${i}, found parent ${identity.parent} and link number ${identity.link}`,
      );
    }
  }
  return undefined;
}

/** The first geometry field in which `link` differs from `base`, described, or `undefined`. */
function geometryDifference(base: SnapshotFileHeader, link: SnapshotFileHeader): string | undefined {
  if (link.pageSize !== base.pageSize) return `page size ${link.pageSize}, expected ${base.pageSize}`;
  if (link.blocks.length !== base.blocks.length) return `${link.blocks.length} blocks, expected ${base.blocks.length}`;
  for (let b = 0; b < base.blocks.length; b++) {
    const x = base.blocks[b];
    const y = link.blocks[b];
    if (x?.name !== y?.name || x?.size !== y?.size) {
      return `block ${b} is ${JSON.stringify(y?.name)} of ${y?.size} bytes, expected ${JSON.stringify(x?.name)} of ${x?.size}`;
    }
  }
  return undefined;
}
