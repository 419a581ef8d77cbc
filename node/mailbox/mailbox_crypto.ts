/**
 * What a group member hands an anchor: each group entry sealed under keys
 * that only the members of one membership epoch can derive, filed under an
 * opaque tag that changes with every epoch.
 *
 *   secret = HKDF-SHA256(ikm = the epoch's group key, salt = "roj-mailbox-v2",
 *                        info = chat id || 0 || epoch id)
 *   tag    = HKDF(secret, info "tag")[0..16]     what the anchor indexes by
 *   key    = HKDF(secret, info "key")[0..32]     XChaCha20-Poly1305 key of the boxes
 *   id     = HMAC-SHA256(HKDF(secret, "id"), entry hash)[0..16]   dedupe without the hash
 *   box    = nonce(24) || XChaCha20-Poly1305(key, nonce, aad = tag)(signed_len(4) || signed || sig)
 *
 * Why the epoch key: it is sealed only to the members of its epoch, and a
 * removal starts an epoch the removed member gets no key to. So once the
 * group has moved on, a removed member can neither find (tag) nor open (key)
 * the boxes filed under the new epoch: no headers (author, time, size), not
 * just no text. Members file an entry under the epoch in force at its place
 * in the log, and an entry that starts an epoch under the one before too, so
 * a member who missed a change finds it under the tag it knows and follows
 * the chain (group_mailbox.ts). The secret is one-way from the key: handing
 * a new member the secrets of old epochs (pointers) lets it fetch their
 * boxes, not read their messages.
 *
 * The anchor sees no chat id, no author, no header and no body: only tags,
 * box sizes, and which of its contacts upload and fetch under a tag. The
 * last is unavoidable for an anchor that must count quotas per uploader and
 * serve fetches in authenticated sessions: it may guess that the contacts
 * who use one tag share a group, but not what the group is called, who else
 * is in it, or who wrote what.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../log/mod.ts";
import {
  MAILBOX_ID_INFO,
  MAILBOX_KEY_INFO,
  MAILBOX_POINTER_ID_SALT,
  MAILBOX_POINTER_KEY_SALT,
  MAILBOX_POINTER_TAG_SALT,
  MAILBOX_SALT,
  MAILBOX_TAG_INFO,
  openXChaCha20Poly1305,
} from "../identity/mod.ts";

export const MAILBOX_TAG_BYTES = 16;
export const MAILBOX_ID_BYTES = 16;
const NONCE_BYTES = 24;
const encoder = new TextEncoder();

export interface MailboxKeys {
  /** What the anchor files boxes under (hex). */
  readonly tag: string;
  readonly key: Uint8Array;
  readonly idKey: Uint8Array;
}

export const MAILBOX_SECRET_BYTES = 32;

/** The mailbox secret of epoch `epochId` of group `chat`, from the epoch's group key. */
export function epochMailboxSecret(
  chat: string,
  epochId: string,
  epochKey: Uint8Array,
): Uint8Array {
  return hkdf(
    sha256,
    epochKey,
    encoder.encode(MAILBOX_SALT),
    encoder.encode(`${chat}\0${epochId}`),
    MAILBOX_SECRET_BYTES,
  );
}

/** The tag and keys of the boxes filed under one epoch's mailbox `secret`. */
export function mailboxKeys(secret: Uint8Array): MailboxKeys {
  const part = (info: string, n: number) =>
    hkdf(sha256, secret, undefined, encoder.encode(info), n);
  // The keys when first used: a peek derives every contact's tags of several weeks and
  // needs only those (half the HKDF work of a node's visit to its holders).
  let key: Uint8Array | undefined, idKey: Uint8Array | undefined;
  return {
    tag: toHex(part(MAILBOX_TAG_INFO, MAILBOX_TAG_BYTES)),
    get key() {
      return key ??= part(MAILBOX_KEY_INFO, 32);
    },
    get idKey() {
      return idKey ??= part(MAILBOX_ID_INFO, 32);
    },
  };
}

/**
 * The keys of the pointer boxes one member leaves for `recipient` (see
 * group_mailbox.ts): only the two of them can derive them from their
 * pairwise X25519 `secret`.
 */
export function pointerKeys(secret: Uint8Array, recipient: Uint8Array): MailboxKeys {
  const part = (salt: string, n: number) =>
    hkdf(sha256, secret, encoder.encode(salt), recipient, n);
  // As in mailboxKeys: a visit reading every contact's pointers mostly needs only the tags.
  let key: Uint8Array | undefined, idKey: Uint8Array | undefined;
  return {
    tag: toHex(part(MAILBOX_POINTER_TAG_SALT, MAILBOX_TAG_BYTES)),
    get key() {
      return key ??= part(MAILBOX_POINTER_KEY_SALT, 32);
    },
    get idKey() {
      return idKey ??= part(MAILBOX_POINTER_ID_SALT, 32);
    },
  };
}

/** The box's id for an entry (hex): equal entries get equal ids, so the anchor keeps one copy. */
export function boxId(keys: MailboxKeys, entryHash: Uint8Array): string {
  return toHex(hmac(sha256, keys.idKey, entryHash).subarray(0, MAILBOX_ID_BYTES));
}

/** Seals one signed entry (canonical bytes and signature) for the mailbox. */
export function sealBox(keys: MailboxKeys, signed: Uint8Array, sig: Uint8Array): Uint8Array {
  const plain = new Uint8Array(4 + signed.length + sig.length);
  new DataView(plain.buffer).setUint32(0, signed.length);
  plain.set(signed, 4);
  plain.set(sig, 4 + signed.length);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const c = xchacha20poly1305(keys.key, nonce, encoder.encode(keys.tag)).encrypt(plain);
  const out = new Uint8Array(NONCE_BYTES + c.length);
  out.set(nonce);
  out.set(c, NONCE_BYTES);
  return out;
}

/** Opens a box; null when it was not sealed with these keys or is malformed. */
export function openBox(
  keys: MailboxKeys,
  box: Uint8Array,
): { signed: Uint8Array; sig: Uint8Array } | null {
  if (box.length < NONCE_BYTES + 16 + 4) return null;
  let plain: Uint8Array;
  try {
    plain = openXChaCha20Poly1305(
      keys.key,
      box.subarray(0, NONCE_BYTES),
      encoder.encode(keys.tag),
      box.subarray(NONCE_BYTES),
    );
  } catch {
    return null;
  }
  const n = new DataView(plain.buffer, plain.byteOffset, 4).getUint32(0);
  if (4 + n > plain.length) return null;
  return { signed: plain.slice(4, 4 + n), sig: plain.slice(4 + n) };
}
