/**
 * How a passive anchor knows its members without keeping their keys: each
 * member is filed under a keyed hash of its public key (HMAC-SHA-256 with a
 * secret of this anchor's, cut to 16 bytes). A member who logs in presents its
 * key; hashing it finds its record. Whoever reads the folder learns how many
 * members there are and nothing that a key can be checked against without the
 * secret, which lives in the same folder: it hides the keys from a scan or a
 * dump, not from someone who also guesses a member's key and runs this code.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keys, type Store } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";

/** Bytes of a member id. */
export const MEMBER_ID_BYTES = 16;
const SECRET_BYTES = 32;

export class MemberIds {
  readonly #secret: Uint8Array;

  private constructor(secret: Uint8Array) {
    this.#secret = secret;
  }

  /** This anchor's ids: its secret from the store, made on first use. */
  static async open(store: Store): Promise<MemberIds> {
    const key = keys.setting("memberSecret");
    const got = await store.kv.get<unknown>(key);
    if (got.value instanceof Uint8Array && got.value.length === SECRET_BYTES) {
      return new MemberIds(got.value);
    }
    const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    // Two opens at once (never, but) must agree: the first secret written wins.
    const ok = await store.kv.atomic().check(got).set(key, secret).commit();
    if (!ok.ok) return await MemberIds.open(store);
    return new MemberIds(secret);
  }

  /** The id a member's public key is filed under. */
  id(publicKey: Uint8Array): Uint8Array {
    return hmac(sha256, this.#secret, publicKey).slice(0, MEMBER_ID_BYTES);
  }

  /** The id as hex. */
  hex(publicKey: Uint8Array): string {
    return toHex(this.id(publicKey));
  }
}

/** What an anchor shows for a member instead of a name it does not keep. */
export function memberTag(idHex: string): string {
  return `member-${idHex.slice(0, 8)}`;
}
