/**
 * What the subsystem adapters in this folder take from the node: its
 * identity, its books, its session manager and its published addresses.
 * Built once by node.ts; subsystems that start later (the relay, the
 * cascade, the UDP endpoint) are reached through getters.
 */
import type { OwnAddresses } from "../addresses/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { AgreeKeyOf, Contact, ContactBook } from "../contacts/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { fingerprint, type KeyPair, type SyncSigner } from "../identity/mod.ts";
import type { Relay } from "../relay/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";

export interface NodeParts {
  readonly keyPair: KeyPair;
  /** The X25519 keys we and our contacts published (contacts/agreeKeys). */
  readonly agreeKeyOf: AgreeKeyOf;
  /** The person's name, as the hello and the log give it. */
  readonly name: string;
  readonly signer: SyncSigner;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  readonly addresses: OwnAddresses;
  readonly passive: boolean;
  readonly relay: () => Relay;
  readonly discovery: () => Discovery;
}

/** How a key is shown in this node's log: petname or fingerprint. */
export function nameOf(p: NodeParts, peer: Uint8Array): string {
  return p.contacts.get(peer)?.name ?? fingerprint(peer);
}

/** An accepted contact. @throws {RojError} not_found */
export function acceptedContact(p: NodeParts, peer: Uint8Array): Contact {
  const c = p.contacts.accepted(peer);
  if (!c) throw new RojError("not_found", `${fingerprint(peer)} is not a contact`);
  return c;
}
