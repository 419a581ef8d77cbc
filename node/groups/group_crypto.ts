/**
 * Group message confidentiality.
 *
 * Each epoch has a random 32-byte group key, carried in the membership entry
 * that starts the epoch, sealed (identity/seal, context "roj-group-key", aad =
 * chat id) to each member. A message entry (type "msg") carries:
 *
 *   body = {"e": epoch id, "n": base64 24-byte nonce, "c": base64 ciphertext}
 *
 *   ciphertext = XChaCha20-Poly1305(key, nonce, aad)(UTF-8 text)
 *   aad        = "roj-group-msg-v1\0" || chat id || "\0" || author hex || "\0" || epoch id
 *
 * The aad binds a ciphertext to its chat, author and epoch, so it cannot be
 * replayed under another member's name or in another group. The nonce is
 * random: 192 bits never collide in practice.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { base64 } from "@scure/base";
import { z } from "zod";
import {
  GROUP_KEY_SEAL_CONTEXT,
  GROUP_MSG_AAD_LABEL,
  type KeyPair,
  openSealed,
  openXChaCha20Poly1305,
  seal,
} from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";

/**
 * The entry type of a file in a group (files/group_file_crypto.ts): encrypted
 * like a message, its text the file's manifest. Not "file": a node from
 * before group files shows an entry of a type it does not know as "(gfile)",
 * where a "file" entry would read as a 1:1 manifest that is malformed.
 */
export const GROUP_FILE_TYPE = "gfile";

const KEY_CONTEXT = GROUP_KEY_SEAL_CONTEXT;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A fresh random group key. */
export function newGroupKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * `key` sealed to each recipient, as the `keys` field of a membership entry.
 * @throws {RojError} bad_input when a recipient is not a valid ed25519 key.
 */
export async function sealGroupKey(
  chat: string,
  key: Uint8Array,
  recipients: Iterable<Uint8Array>,
  agreeKeyOf: (r: Uint8Array) => Uint8Array | undefined = () => undefined,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of recipients) {
    // A recipient whose key is in ssh-agent gets it sealed to the X25519 key it published.
    const to = agreeKeyOf(r);
    out[toHex(r)] = base64.encode(
      await seal(r, key, {
        context: KEY_CONTEXT,
        aad: encoder.encode(chat),
        ...(to ? { to } : {}),
      }),
    );
  }
  return out;
}

/** Opens the group key sealed to `me` (or to any of several keys); null when it does not open. */
export async function openGroupKey(
  me: KeyPair | readonly KeyPair[],
  chat: string,
  sealed: string,
): Promise<Uint8Array | null> {
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(sealed);
  } catch {
    return null;
  }
  for (const kp of Array.isArray(me) ? me : [me as KeyPair]) {
    try {
      const key = await openSealed(kp, bytes, { context: KEY_CONTEXT, aad: encoder.encode(chat) });
      if (key.length === 32) return key;
    } catch { /* not sealed to this one (or its seed waits for ssh-agent) */ }
  }
  return null;
}

function aad(chat: string, author: Uint8Array, epoch: string): Uint8Array {
  return encoder.encode(`${GROUP_MSG_AAD_LABEL}${chat}\0${toHex(author)}\0${epoch}`);
}

const MessageBody = z.object({
  e: z.string().regex(/^[0-9a-f]{32}$/),
  n: z.string().max(64),
  c: z.string().max(200_000),
}).strict();

/** A group message body, parsed: the epoch it names and its nonce and ciphertext. */
export interface ParsedMessage {
  readonly epoch: string;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** Parses a group message body once, for its epoch and then its text; null when malformed. */
export function parseGroupMessage(body: string): ParsedMessage | null {
  try {
    const res = MessageBody.safeParse(JSON.parse(body));
    if (!res.success) return null;
    const nonce = base64.decode(res.data.n);
    if (nonce.length !== 24) return null;
    return { epoch: res.data.e, nonce, ciphertext: base64.decode(res.data.c) };
  } catch {
    return null;
  }
}

/** The epoch id a group message body names, or null when the body is malformed. */
export function messageEpoch(body: string): string | null {
  try {
    const res = MessageBody.safeParse(JSON.parse(body));
    return res.success ? res.data.e : null;
  } catch {
    return null;
  }
}

/** The body of a group message: `text` encrypted under the epoch's key. */
export function encryptGroupMessage(
  key: Uint8Array,
  chat: string,
  author: Uint8Array,
  epoch: string,
  text: string,
): string {
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const c = xchacha20poly1305(key, nonce, aad(chat, author, epoch)).encrypt(encoder.encode(text));
  return JSON.stringify({ e: epoch, n: base64.encode(nonce), c: base64.encode(c) });
}

/** The text of a group message body, or null when it does not decrypt with `key`. */
export function decryptGroupMessage(
  key: Uint8Array,
  chat: string,
  author: Uint8Array,
  body: string,
): string | null {
  const parsed = parseGroupMessage(body);
  return parsed && openGroupMessage(key, chat, author, parsed);
}

/** The text of a parsed group message, or null when it does not decrypt with `key`. */
export function openGroupMessage(
  key: Uint8Array,
  chat: string,
  author: Uint8Array,
  m: ParsedMessage,
): string | null {
  try {
    const plain = openXChaCha20Poly1305(key, m.nonce, aad(chat, author, m.epoch), m.ciphertext);
    return decoder.decode(plain);
  } catch {
    return null;
  }
}
