/**
 * The LAN announcement datagram: who on this network may want to reach whom,
 * readable only by the contacts it is meant for.
 *
 *   "RJL1" (4) | ssh port u16 | count u8 | count × tag (16)
 *
 * Each tag is Pair.lanTag(announcer, window) for one contact of the
 * announcer: HKDF of their pairwise X25519 secret, so it names neither of
 * them, only that contact can compute it, and it changes every window. No key,
 * name or fingerprint is in the datagram; the sender's IP is the UDP source.
 */
import { TAG_BYTES } from "../discovery/mod.ts";

const MAGIC = [0x52, 0x4a, 0x4c, 0x31]; // "RJL1"
const HEADER = 4 + 2 + 1;
/** Tags per datagram: 64 × 16 + 7 = 1031 bytes, under any LAN's MTU. */
export const MAX_TAGS = 64;
/** Larger datagrams are dropped unread. */
export const MAX_ANNOUNCEMENT = HEADER + MAX_TAGS * TAG_BYTES;

export interface Announcement {
  /** The TCP port the announcer's SSH server listens on. */
  readonly port: number;
  readonly tags: readonly Uint8Array[];
}

/** Datagrams carrying `tags` (split by MAX_TAGS); none for no tags. */
export function encodeAnnouncements(port: number, tags: readonly Uint8Array[]): Uint8Array[] {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError("bad port");
  const out: Uint8Array[] = [];
  for (let i = 0; i < tags.length; i += MAX_TAGS) {
    const chunk = tags.slice(i, i + MAX_TAGS);
    const d = new Uint8Array(HEADER + chunk.length * TAG_BYTES);
    d.set(MAGIC);
    new DataView(d.buffer).setUint16(4, port);
    d[6] = chunk.length;
    chunk.forEach((t, j) => {
      if (t.length !== TAG_BYTES) throw new RangeError("bad tag size");
      d.set(t, HEADER + j * TAG_BYTES);
    });
    out.push(d);
  }
  return out;
}

/** The announcement in a received datagram, or null when it is not a well-formed one. */
export function decodeAnnouncement(d: Uint8Array): Announcement | null {
  if (d.length < HEADER || d.length > MAX_ANNOUNCEMENT) return null;
  if (MAGIC.some((b, i) => d[i] !== b)) return null;
  const port = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint16(4);
  const count = d[6]!;
  if (port === 0 || count === 0 || count > MAX_TAGS) return null;
  if (d.length !== HEADER + count * TAG_BYTES) return null;
  const tags: Uint8Array[] = [];
  for (let j = 0; j < count; j++) {
    tags.push(d.slice(HEADER + j * TAG_BYTES, HEADER + (j + 1) * TAG_BYTES));
  }
  return { port, tags };
}
