/**
 * The LAN announcement datagram: who on this network may want to reach whom,
 * readable only by the contacts it is meant for.
 *
 *   "RJL2" (4) | ssh port u16 | count u8 | count × tag (16)
 *
 * Each real tag is Pair.lanTag(announcer, window) for one contact of the
 * announcer: HKDF of their pairwise X25519 secret, so it names neither of
 * them, only that contact can compute it, and it changes every window. No key,
 * name or fingerprint is in the datagram; the sender's IP is the UDP source.
 *
 * The tag list is padded with random filler tags to a multiple of TAG_BUCKET
 * and shuffled, so a listener learns at most a coarse bucket of how many
 * contacts the sender has (16 for 1 to 16 contacts), and a contact cannot tell
 * from its tag's position either. A filler is 16 random bytes, as
 * indistinguishable from an HKDF output as one HKDF output is from another.
 * With more than MAX_TAGS contacts, each announcement carries a random MAX_TAGS
 * of them: one datagram of the largest bucket, whatever the number.
 */
import { TAG_BYTES } from "../discovery/mod.ts";
import { LAN_ANNOUNCEMENT_MAGIC } from "../identity/mod.ts";

const MAGIC = [...new TextEncoder().encode(LAN_ANNOUNCEMENT_MAGIC)]; // padded tag lists
const HEADER = 4 + 2 + 1;
/** Tag lists are padded to a multiple of this. */
export const TAG_BUCKET = 16;
/** Tags per datagram: 64 × 16 + 7 = 1031 bytes, under any LAN's MTU (IPv6's 1280 too). */
export const MAX_TAGS = 64;
/** Larger datagrams are dropped unread. */
export const MAX_ANNOUNCEMENT = HEADER + MAX_TAGS * TAG_BYTES;

export interface Announcement {
  /** The TCP port the announcer's SSH server listens on. */
  readonly port: number;
  readonly tags: readonly Uint8Array[];
}

/** Fisher-Yates with a uniform random index (rejection sampling, no modulo bias). */
function shuffle<T>(items: T[]): T[] {
  const word = new Uint32Array(1);
  for (let i = items.length - 1; i > 0; i--) {
    const range = i + 1;
    const limit = Math.floor(0x1_0000_0000 / range) * range;
    let r: number;
    do r = crypto.getRandomValues(word)[0]!; while (r >= limit);
    const j = r % range;
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * `tags` (at most MAX_TAGS of them, chosen at random when there are more)
 * padded with random fillers to the next multiple of TAG_BUCKET, in random order.
 */
export function padTags(tags: readonly Uint8Array[]): Uint8Array[] {
  for (const t of tags) if (t.length !== TAG_BYTES) throw new RangeError("bad tag size");
  const chosen = shuffle([...tags]).slice(0, MAX_TAGS);
  const size = Math.min(MAX_TAGS, Math.max(1, Math.ceil(chosen.length / TAG_BUCKET)) * TAG_BUCKET);
  while (chosen.length < size) chosen.push(crypto.getRandomValues(new Uint8Array(TAG_BYTES)));
  return shuffle(chosen);
}

/** The datagram announcing `tags` (padded, see padTags); null for no tags: nobody to tell. */
export function encodeAnnouncement(port: number, tags: readonly Uint8Array[]): Uint8Array | null {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError("bad port");
  if (tags.length === 0) return null;
  const padded = padTags(tags);
  const d = new Uint8Array(HEADER + padded.length * TAG_BYTES);
  d.set(MAGIC);
  new DataView(d.buffer).setUint16(4, port);
  d[6] = padded.length;
  padded.forEach((t, j) => d.set(t, HEADER + j * TAG_BYTES));
  return d;
}

/** The announcement in a received datagram, or null when it is not a well-formed one. */
export function decodeAnnouncement(d: Uint8Array): Announcement | null {
  if (d.length < HEADER || d.length > MAX_ANNOUNCEMENT) return null;
  if (MAGIC.some((b, i) => d[i] !== b)) return null;
  const port = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint16(4);
  const count = d[6]!;
  // Only padded lists: a sender that does not pad would tell everyone its count.
  if (port === 0 || count === 0 || count > MAX_TAGS || count % TAG_BUCKET !== 0) return null;
  if (d.length !== HEADER + count * TAG_BYTES) return null;
  const tags: Uint8Array[] = [];
  for (let j = 0; j < count; j++) {
    tags.push(d.slice(HEADER + j * TAG_BYTES, HEADER + (j + 1) * TAG_BYTES));
  }
  return { port, tags };
}
