/**
 * The tags and keys of 1:1 mail: what one contact files at an anchor for the
 * other while they are not online together (see direct_mail.ts). Pure
 * functions of the pair's X25519 secret, the recipient and the time.
 *
 *   window = floor(now / DIRECT_WINDOW_MS)                   a week
 *   secret = HKDF-SHA256(ikm = X25519(alice, bob), salt = "roj-dmail-v1",
 *                        info = recipient key (32) || u64 window)
 *   tag, key, id key: from the secret as for a group epoch (mailbox_crypto.ts)
 *
 * Only the two of them can compute the secret, so only they can find (tag)
 * or open (key) the boxes; the tag names neither, differs per direction and
 * changes every window, so the anchor cannot link one week's mail of a pair
 * to the next week's by its tag.
 *
 * A receipt is a box like any other, filed for the sender by the recipient:
 * "roj-dmail-receipt-v1" || u64 seq (big-endian) and no signature, saying
 * the recipient holds the sender's chain up to seq. Only the two can seal
 * under the key, so the holder can neither forge nor read one.
 *
 * A sender files under the window of the moment it hands the boxes over; a
 * recipient fetches from the window before its last visit (boxes handed over
 * just before it) up to the window after now (a sender whose clock runs
 * ahead), and never further back than the anchor keeps boxes.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { DIRECT_MAIL_SALT, DIRECT_RECEIPT_MAGIC, OWN_MAIL_SALT } from "../identity/mod.ts";
import { MAILBOX_SECRET_BYTES, type MailboxKeys, mailboxKeys } from "./mailbox_crypto.ts";

/** How long one tag of a pair's mail is in use: a week. */
export const DIRECT_WINDOW_MS = 7 * 86_400_000;
/**
 * How far back a recipient looks on its first visit, in ms: an anchor's
 * default expiry (MailboxStore's ttlMs); older boxes are gone anyway.
 */
export const DIRECT_LOOKBACK_MS = 30 * 86_400_000;

const encoder = new TextEncoder();

/** The window `now` falls in. */
export function directWindow(now: number): number {
  return Math.floor(now / DIRECT_WINDOW_MS);
}

/**
 * The keys of mail to `recipient` in `window`, from the pair's X25519
 * `pairSecret`; `salt` OWN_MAIL_SALT for mail between two devices of one
 * person (own_mail.ts), which no contact's 1:1 mail can then collide with.
 */
export function directMailKeys(
  pairSecret: Uint8Array,
  recipient: Uint8Array,
  window: number,
  salt: string = DIRECT_MAIL_SALT,
): MailboxKeys {
  const info = new Uint8Array(recipient.length + 8);
  info.set(recipient);
  new DataView(info.buffer).setBigUint64(recipient.length, BigInt(window));
  const secret = hkdf(
    sha256,
    pairSecret,
    encoder.encode(salt),
    info,
    MAILBOX_SECRET_BYTES,
  );
  return mailboxKeys(secret);
}

/** The keys of what one device of a person files for another (own_mail.ts): as 1:1 mail's, own salt. */
export function ownMailKeys(pairSecret: Uint8Array, recipient: Uint8Array, window: number) {
  return directMailKeys(pairSecret, recipient, window, OWN_MAIL_SALT);
}

/**
 * The windows a recipient fetches, oldest first: from the one before its
 * last visit's (`last`, a window; none on a first visit) to the one after
 * now's, and none older than DIRECT_LOOKBACK_MS.
 */
export function windowsDue(last: number | undefined, now: number): number[] {
  const current = directWindow(now);
  const oldest = directWindow(now - DIRECT_LOOKBACK_MS);
  const from = Math.max(oldest, last === undefined ? oldest : Math.min(last, current) - 1);
  const out: number[] = [];
  for (let w = from; w <= current + 1; w++) out.push(w);
  return out;
}

const MAGIC = encoder.encode(DIRECT_RECEIPT_MAGIC);

/** A receipt's plaintext: the recipient holds the sender's chain up to `seq`. */
export function receiptBytes(seq: number): Uint8Array {
  const out = new Uint8Array(MAGIC.length + 8);
  out.set(MAGIC);
  new DataView(out.buffer).setBigUint64(MAGIC.length, BigInt(seq));
  return out;
}

/** The seq a receipt's plaintext names; null when it is not a receipt. */
export function parseReceipt(bytes: Uint8Array): number | null {
  if (bytes.length !== MAGIC.length + 8 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const seq = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(MAGIC.length);
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : null;
}
