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
 * A v2 card (card_v2.ts, "rojcard2:") carries device certificates; openCard
 * and cardBytes take both.
 */
import { base64urlnopad } from "@scure/base";
import { RojError } from "../errors.ts";
import {
  CARD_MAGIC,
  CARD_TEXT_PREFIX,
  CARD_V2_MAGIC,
  CARD_V2_TEXT_PREFIX,
  type Certificate,
  NAMESPACES,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signPacked,
  unpackSigned,
  verifySshsig,
} from "../identity/mod.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { checkCardV2, MAX_CARD_V2_BYTES } from "./card_v2.ts";

/** Largest card, in bytes (a card holds two keys, a name and a signature: ~400). */
export const MAX_CARD_BYTES = 1024;
/** Largest card text accepted (a v2 card's base64url and its prefix fit). */
export const MAX_CARD_TEXT = 3500;

export interface Card {
  /** The key that signed it: the introducer's person key, or one of their devices'. */
  readonly introducer: Uint8Array;
  readonly person: Uint8Array;
  readonly name: string;
  readonly expires: number;
  /** 16 bytes. */
  readonly id: Uint8Array;
  /** A v2 card: the introducer's person key, which `introducer` speaks for (certified). */
  readonly by?: Uint8Array;
  /** A v2 card signed on a device: that device's certificate (checked, valid when opened). */
  readonly signerCertificate?: Certificate;
  /** A v2 card: certificates of the person's devices (checked, valid when opened). */
  readonly devices?: readonly Certificate[];
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
  let card: Card | undefined;
  try {
    if (bytes.length > MAX_CARD_V2_BYTES) throw new Error("too large");
    ({ payload, sig } = unpackSigned(bytes, "card"));
    const r = new WireReader(payload, "card");
    const magic = r.text();
    if (magic === CARD_MAGIC) {
      if (bytes.length > MAX_CARD_BYTES) throw new Error("too large");
      const introducer = parsePublicKeyBlob(r.string()).slice();
      const person = parsePublicKeyBlob(r.string()).slice();
      const name = r.text();
      const expires = Number(r.u64());
      const id = r.string().slice();
      r.end();
      if (id.length !== 16 || name.length === 0 || name.length > 40) throw new Error("fields");
      card = { introducer, person, name, expires, id };
    } else if (magic !== CARD_V2_MAGIC) throw new Error("magic");
  } catch (err) {
    throw new RojError("bad_input", "this card is damaged or incomplete", { cause: err });
  }
  if (!card) {
    const v2 = await checkCardV2(payload, sig, now);
    card = {
      introducer: v2.signer,
      person: v2.person,
      name: v2.name,
      expires: v2.expires,
      id: v2.id,
      by: v2.by,
      devices: v2.devices,
      ...(v2.signerCertificate ? { signerCertificate: v2.signerCertificate } : {}),
    };
  } else if (!await verifySshsig(sig, NAMESPACES.intro, payload, { publicKey: card.introducer })) {
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

/** Whether a card's bytes are a v2 card's (by its magic; unchecked). */
export function isCardV2(bytes: Uint8Array): boolean {
  try {
    return new WireReader(unpackSigned(bytes, "card").payload, "card").text() === CARD_V2_MAGIC;
  } catch {
    return false;
  }
}

/** A card as shareable text: "rojcard1:" or, for a v2 card, "rojcard2:". */
export function cardText(bytes: Uint8Array): string {
  return (isCardV2(bytes) ? CARD_V2_TEXT_PREFIX : CARD_TEXT_PREFIX) + base64urlnopad.encode(bytes);
}

/** The card's bytes from its text (either prefix). @throws {RojError} bad_input */
export function cardBytes(text: string): Uint8Array {
  const t = text.trim();
  const prefix = [CARD_TEXT_PREFIX, CARD_V2_TEXT_PREFIX].find((p) => t.startsWith(p));
  if (t.length > MAX_CARD_TEXT || !prefix) {
    throw new RojError(
      "bad_input",
      "this is not a Roj card (it should start with rojcard1: or rojcard2:)",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = base64urlnopad.decode(t.slice(prefix.length));
  } catch (err) {
    throw new RojError("bad_input", "this card is damaged or incomplete", { cause: err });
  }
  // The prefix says the version: a v1 card under "rojcard2:" (or the reverse) was tampered with.
  if (isCardV2(bytes) !== (prefix === CARD_V2_TEXT_PREFIX)) {
    throw new RojError("bad_input", "this card's text does not match its version");
  }
  return bytes;
}
