import { randomUUID } from 'node:crypto';
import { OptionError } from '../errors';
import type { SnapshotHeader, SnapshotIdentity, SnapshotKind } from '../storage/Sink';
import { isNoId, uuidToBytes } from './uuid';

/** An identity as the header holds it: ids as bytes, the all-zero id for "no parent". */
export interface EncodedIdentity {
  readonly kind: SnapshotKind;
  readonly identity: SnapshotIdentity;
  readonly id: Uint8Array;
  readonly parent: Uint8Array;
  readonly root: Uint8Array;
  readonly link: number;
}

/**
 * The header's identity, checked, as bytes; a full snapshot with a fresh
 * random id when the header has none (docs/FORMAT.md, "Header").
 * @throws OptionError naming the field (`header.identity.id`, …) that is wrong.
 */
export function encodeIdentity(header: SnapshotHeader): EncodedIdentity {
  // Step 1: no identity: a full snapshot, its own root.
  if (header.identity === undefined) {
    const id = randomUUID();
    return encodeIdentity({ ...header, identity: { id, root: id, link: 0 } });
  }
  // Step 2: each id a UUID that is not all zero.
  const identity = header.identity;
  const id = uuid(identity.id, 'header.identity.id');
  const root = uuid(identity.root, 'header.identity.root');
  const parent = identity.parent === undefined ? new Uint8Array(16) : uuid(identity.parent, 'header.identity.parent');
  const link = identity.link;
  if (!Number.isInteger(link) || link < 0 || link > 0xffffffff) {
    throw new OptionError('header.identity.link', 'an integer from 0 to 2^32 - 1', link);
  }
  // Step 3: parent, root and link agree on the kind.
  if (identity.parent === undefined) {
    if (link !== 0) throw new OptionError('header.identity.link', '0 for a full snapshot (one without a parent)', link);
    if (!sameId(identity.root, identity.id)) {
      throw new OptionError('header.identity.root', `the snapshot's own id (${identity.id}) for a full snapshot`, identity.root);
    }
    return { kind: 'full', identity, id, parent, root, link };
  }
  if (sameId(identity.parent, identity.id)) {
    throw new OptionError('header.identity.parent', 'an id other than the snapshot\'s own', identity.parent);
  }
  if (link < 1) throw new OptionError('header.identity.link', 'at least 1 for an incremental snapshot (one with a parent)', link);
  if (sameId(identity.root, identity.id)) {
    throw new OptionError('header.identity.root', "the id of the chain's full snapshot, not the incremental snapshot's own", identity.root);
  }
  return { kind: 'incremental', identity, id, parent, root, link };
}

function uuid(text: unknown, field: string): Uint8Array {
  const bytes = typeof text === 'string' ? uuidToBytes(text) : undefined;
  if (bytes === undefined) throw new OptionError(field, 'a UUID (8-4-4-4-12 hex digits)', text);
  if (isNoId(bytes)) throw new OptionError(field, 'a UUID that is not all zero (the all-zero id means "none")', text);
  return bytes;
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
