/**
 * A card: one person's key and name, vouched for by an introducer who signs
 * it. It names no address, so holding one reveals nothing about where its
 * person is; it only lets its holder ask, through the introducer, to become
 * that person's contact.
 *
 *   card    = string payload, string sshsig
 *   payload = string "roj-card-v1"
 *             string  introducer public key blob
 *             string  person public key blob
 *             string  person name (UTF-8, 1..40), as the introducer names them
 *             uint64  expiry, ms since the epoch
 *             string  id, 16 random bytes: the introduction it belongs to
 *   sshsig  = SSHSIG by the introducer over payload, namespace "roj-intro"
 *
 * As text (a shareable card, `roj card bob`): "rojcard1:" base64url(card).
 */
import { base64urlnopad } from "@scure/base";
import { RojError } from "../errors.ts";
import {
  CARD_MAGIC,
  CARD_TEXT_PREFIX,
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signPacked,
  unpackSigned,
  verifySshsig,
} from "../identity/mod.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";

/** Largest card, in bytes (a card holds two keys, a name and a signature: ~400). */
export const MAX_CARD_BYTES = 1024;
/** Largest card text accepted. */
export const MAX_CARD_TEXT = 2048;

export interface Card {
  readonly introducer: Uint8Array;
  readonly person: Uint8Array;
  readonly name: string;
  readonly expires: number;
  /** 16 bytes. */
  readonly id: Uint8Array;
}

/** Signs a card of `card.person` as `signer` (the introducer). */
export async function signCard(
  signer: Signer,
  card: Omit<Card, "introducer">,
): Promise<Uint8Array> {
  if (card.id.length !== 16) throw new RangeError("a card's id must be 16 bytes");
  const payload = new WireWriter().string(CARD_MAGIC).string(publicKeyBlob(signer.publicKey))
    .string(publicKeyBlob(card.person)).string(card.name).u64(card.expires).string(card.id)
    .bytes();
  return await signPacked(signer, NAMESPACES.intro, payload);
}

/**
 * Checks a card's layout, its introducer's signature and its expiry.
 * @throws {RojError} bad_input: damaged, forged or altered, expired
 */
export async function openCard(bytes: Uint8Array, now: number): Promise<Card> {
  let payload: Uint8Array;
  let sig: Uint8Array;
  let card: Card;
  try {
    if (bytes.length > MAX_CARD_BYTES) throw new Error("too large");
    ({ payload, sig } = unpackSigned(bytes, "card"));
    const r = new WireReader(payload, "card");
    if (r.text() !== CARD_MAGIC) throw new Error("magic");
    const introducer = parsePublicKeyBlob(r.string()).slice();
    const person = parsePublicKeyBlob(r.string()).slice();
    const name = r.text();
    const expires = Number(r.u64());
    const id = r.string().slice();
    r.end();
    if (id.length !== 16 || name.length === 0 || name.length > 40) throw new Error("fields");
    card = { introducer, person, name, expires, id };
  } catch (err) {
    throw new RojError("bad_input", "this card is damaged or incomplete", { cause: err });
  }
  if (!await verifySshsig(sig, NAMESPACES.intro, payload, { publicKey: card.introducer })) {
    throw new RojError(
      "bad_input",
      "this card's signature does not match: it was forged or altered",
    );
  }
  if (card.expires <= now) {
    throw new RojError("bad_input", `this card expired at ${new Date(card.expires).toISOString()}`);
  }
  return card;
}

/** A card as shareable text. */
export function cardText(bytes: Uint8Array): string {
  return CARD_TEXT_PREFIX + base64urlnopad.encode(bytes);
}

/** The card's bytes from its text. @throws {RojError} bad_input */
export function cardBytes(text: string): Uint8Array {
  const t = text.trim();
  if (t.length > MAX_CARD_TEXT || !t.startsWith(CARD_TEXT_PREFIX)) {
    throw new RojError("bad_input", "this is not a Roj card (it should start with rojcard1:)");
  }
  try {
    return base64urlnopad.decode(t.slice(CARD_TEXT_PREFIX.length));
  } catch (err) {
    throw new RojError("bad_input", "this card is damaged or incomplete", { cause: err });
  }
}
