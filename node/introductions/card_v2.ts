/**
 * A card that carries device certificates (issue 13: several devices per
 * person, feature `intro2`). A v1 card (card.ts) names only the key that
 * signed it and the person's key: signed on a device, it is taken only by
 * someone who met that device; of a person reached at a device, it says
 * nothing of that device. A v2 card names the introducer's person key, and
 * carries what ties every key to its person:
 *
 *   card    = string payload, string sshsig
 *   payload = string "roj-card-v2"
 *             string  introducer's person public key blob
 *             string  person public key blob
 *             string  person name (UTF-8, 1..40), as the introducer names them
 *             uint32  device count (0..MAX_CARD_DEVICES), then that many strings:
 *                     the person's device certificates, signed by the person key
 *             uint64  expiry, ms since the epoch
 *             string  id, 16 random bytes: the introduction it belongs to
 *   sshsig  = SSHSIG over payload, namespace "roj-intro", by the introducer's
 *             person key, or by one of their devices' keys carrying its
 *             certificate (stock `ssh-keygen -Y verify` checks it with
 *             `cert-authority` and the introducer's person key)
 *
 * As text: "rojcard2:" base64url(card). Each certificate is checked here
 * (signed by its person's key, for a device, valid now); whether one was
 * revoked only the receiver's device book says (intro_people.ts).
 */
import { checkDeviceCertificate } from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import {
  CARD_V2_MAGIC,
  type Certificate,
  NAMESPACES,
  parseCertificate,
  parsePublicKeyBlob,
  publicKeyBlob,
  type Signer,
  signSshsig,
  verifySshsig,
} from "../identity/mod.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";

/** Device certificates of the card's person one card carries at most (the newest ones). */
export const MAX_CARD_DEVICES = 3;
/**
 * Largest v2 card, in bytes: a v1 card's ~400, the signer's certificate in
 * the SSHSIG (~350) and MAX_CARD_DEVICES more (~350 each), with room.
 */
export const MAX_CARD_V2_BYTES = 2560;

/** What a v2 card says, once checked. */
export interface CardV2Fields {
  /** The introducer's person key. */
  readonly by: Uint8Array;
  readonly person: Uint8Array;
  readonly name: string;
  /** Certificates of the person's devices (each the person's, valid when checked). */
  readonly devices: readonly Certificate[];
  readonly expires: number;
  /** 16 bytes. */
  readonly id: Uint8Array;
}

/**
 * Signs a v2 card as `signer`: the person key (`signer.publicKey` equals
 * `by`) or a device of theirs (`signer.certificate`, which the SSHSIG carries).
 */
export async function signCardV2(signer: Signer, card: CardV2Fields): Promise<Uint8Array> {
  if (card.id.length !== 16) throw new RangeError("a card's id must be 16 bytes");
  const own = bytesEqual(signer.publicKey, card.by);
  if (!own && !signer.certificate) {
    throw new RangeError("a card is signed by its introducer's person key or a certified device");
  }
  const devices = card.devices.slice(0, MAX_CARD_DEVICES);
  const w = new WireWriter().string(CARD_V2_MAGIC).string(publicKeyBlob(card.by))
    .string(publicKeyBlob(card.person)).string(card.name).u32(devices.length);
  for (const c of devices) w.string(c.blob);
  const payload = w.u64(card.expires).string(card.id).bytes();
  const sig = await signSshsig(
    signer,
    NAMESPACES.intro,
    payload,
    own ? undefined : signer.certificate,
  );
  return new WireWriter().string(payload).string(sig).bytes();
}

/** A v2 card opened: its fields, the key that signed it and, for a device, its certificate. */
export interface OpenedV2 extends CardV2Fields {
  readonly signer: Uint8Array;
  readonly signerCertificate?: Certificate;
}

/** Reads a v2 payload's fields, unchecked. @throws {Error} when it does not parse */
export function readCardV2(payload: Uint8Array): CardV2Fields {
  const r = new WireReader(payload, "card");
  if (r.text() !== CARD_V2_MAGIC) throw new Error("magic");
  const by = parsePublicKeyBlob(r.string()).slice();
  const person = parsePublicKeyBlob(r.string()).slice();
  const name = r.text();
  const count = r.u32();
  if (count > MAX_CARD_DEVICES) throw new Error("devices");
  const devices: Certificate[] = [];
  for (let i = 0; i < count; i++) devices.push(parseCertificate(r.string().slice()));
  const expires = Number(r.u64());
  const id = r.string().slice();
  r.end();
  if (id.length !== 16 || name.length === 0 || name.length > 40) throw new Error("fields");
  return { by, person, name, devices, expires, id };
}

/**
 * Checks a v2 card's signature and certificates at `now` (not its expiry:
 * card.ts does that for both versions).
 * @throws {RojError} bad_input: forged or altered, a certificate not its person's now
 */
export async function checkCardV2(
  payload: Uint8Array,
  sig: Uint8Array,
  now: number,
): Promise<OpenedV2> {
  let card: CardV2Fields;
  try {
    card = readCardV2(payload);
  } catch (err) {
    throw new RojError("bad_input", "this card is damaged or incomplete", { cause: err });
  }
  const checked = await verifySshsig(sig, NAMESPACES.intro, payload);
  if (!checked) {
    throw new RojError(
      "bad_input",
      "this card's signature does not match: it was forged or altered",
    );
  }
  const cert = checked.certificate;
  if (!cert && !bytesEqual(checked.publicKey, card.by)) {
    throw new RojError("bad_input", "this card is not signed by its introducer");
  }
  if (cert) {
    const problem = await checkDeviceCertificate(cert, card.by, now);
    if (problem !== null) {
      throw new RojError(
        "bad_input",
        `this card was signed by a key that is not its introducer's device now (${problem})`,
      );
    }
  }
  for (const c of card.devices) {
    const problem = bytesEqual(c.publicKey, card.person)
      ? "the person's own key"
      : await checkDeviceCertificate(c, card.person, now);
    if (problem !== null) {
      throw new RojError(
        "bad_input",
        `a device in this card is not ${card.name}'s now (${problem}); ask for a new card`,
      );
    }
  }
  return { ...card, signer: checked.publicKey, ...(cert ? { signerCertificate: cert } : {}) };
}
