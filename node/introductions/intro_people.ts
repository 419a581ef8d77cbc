/**
 * Which card to make, and whom a card speaks for (issue 13: a person with
 * several devices). A v1 card (card.ts) is made as before unless a v2 card
 * (card_v2.ts) is needed, and its receiver takes v2 (`intro2`): needed when
 * it is signed on a device (a receiver that never met that device could not
 * tell it is the introducer's), or when the person it names has devices (so
 * the receiver knows them as that person's before it ever meets one).
 */
import { type DeviceBook, speaksForPerson } from "../devices/mod.ts";
import { type Certificate, type Signer, unpackSigned } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { type Card, isCardV2, signCard } from "./card.ts";
import { MAX_CARD_DEVICES, readCardV2, signCardV2 } from "./card_v2.ts";
import type { IntroDeps } from "./introducer.ts";

/** The certificates a card of `book`'s person carries: valid now, not revoked, the latest-ending first. */
export function cardDevices(book: DeviceBook, now: number): Certificate[] {
  return [...book.devices.values()]
    .filter((r) => r.certificate !== undefined && speaksForPerson(book, r.key, now))
    .map((r) => r.certificate!)
    .sort((x, y) => y.validBefore - x.validBefore)
    .slice(0, MAX_CARD_DEVICES);
}

/** What making a card needs of the node. */
export type CardMaker = Pick<IntroDeps, "me" | "signer" | "devicesOf">;

/** The fields of a card, whichever version it is made in. */
export interface CardFields {
  readonly person: Uint8Array;
  readonly name: string;
  readonly expires: number;
  readonly id: Uint8Array;
}

/** Whether a card by `signer` of `person` needs v2: signed on a device, or of a person with devices. */
export function needsV2(signer: Signer, devices: readonly Certificate[]): boolean {
  return signer.certificate !== undefined || devices.length > 0;
}

/** A card of `f.person`, v2 when it is needed and `v2` (the receiver lists intro2, or is unknown). */
export async function makeCard(d: CardMaker, f: CardFields, v2: boolean): Promise<Uint8Array> {
  const devices = d.devicesOf(f.person);
  if (!v2 || !needsV2(d.signer, devices)) return await signCard(d.signer, f);
  return await signCardV2(d.signer, { ...f, by: d.me, devices });
}

/** What telling whom a card speaks for needs of the node. */
export type CardReader = Pick<IntroDeps, "me" | "contacts" | "personOf" | "learnDevice">;

/**
 * The person a card's signer speaks for. A v1 card's key counts as a person's
 * only when it is one of theirs known here (personOf). A v2 card names the
 * person and carries the signing device's certificate (checked in openCard):
 * for ourselves or a contact it is taken into their device book first, so a
 * revocation known here still counts (personOf then says the key is nobody's);
 * of anyone else, the certificate is all there is to go by.
 */
export async function introducerOf(d: CardReader, card: Card): Promise<Uint8Array> {
  if (!card.by) return d.personOf(card.introducer);
  if (!card.signerCertificate) return card.by;
  const known = bytesEqual(card.by, d.me) || d.contacts.get(card.by) !== undefined;
  if (!known) return card.by;
  await d.learnDevice(card.by, card.signerCertificate);
  return d.personOf(card.introducer);
}

/**
 * A v2 card's person became our contact: their devices it carries go into
 * their device book (each checked there to be theirs, valid now), so a
 * session from one of them is theirs before it ever showed its certificate.
 */
export async function learnCardDevices(
  d: Pick<IntroDeps, "learnDevice">,
  person: Uint8Array,
  bytes: Uint8Array,
): Promise<void> {
  if (!isCardV2(bytes)) return;
  let devices: readonly Certificate[];
  try {
    devices = readCardV2(unpackSigned(bytes, "card").payload).devices;
  } catch {
    return; // checked when it came; a damaged copy names no device
  }
  for (const c of devices) await d.learnDevice(person, c);
}
