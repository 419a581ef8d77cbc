/**
 * Which X25519 key to agree with for a person: the one they published (their
 * key is in ssh-agent, see identity/agreementPublicKey), else none, meaning
 * the X25519 form of their ed25519 key. Our own published key answers for us,
 * so what we seal to ourselves (a group key) opens for us.
 */
import { agreementKeyIsOwn, agreementPublicKey, type KeyPair } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import type { ContactBook } from "./contact_book.ts";

/** The X25519 key `them` published, if any. */
export type AgreeKeyOf = (them: Uint8Array) => Uint8Array | undefined;

/** The published X25519 keys of `me` and of `book`'s contacts. */
export function agreeKeys(me: KeyPair, book: ContactBook): AgreeKeyOf {
  // Worked out on first use: a node started while ssh-agent is absent has no seed yet.
  let mine: Uint8Array | undefined | null = null;
  const own = () => {
    if (mine !== null) return mine;
    try {
      return mine = agreementKeyIsOwn(me) ? agreementPublicKey(me) : undefined;
    } catch {
      return undefined;
    }
  };
  return (them) => (bytesEqual(them, me.publicKey) ? own() : undefined) ?? book.get(them)?.agree;
}
