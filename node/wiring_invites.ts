/**
 * The invite flow (node/invites), built for wiring.ts: on a person's device,
 * its invites name the person and list its siblings (the person's other
 * devices, where device sync last heard each listens), and accepting a
 * device's invite checks that device's certificate with the contacts' device
 * books.
 */
import type { OwnAddresses } from "./addresses/mod.ts";
import type { ChatDirectory } from "./chats/mod.ts";
import type { Books } from "./wiring.ts";
import type { Verifications } from "./contacts/mod.ts";
import type { Discovery } from "./discovery/mod.ts";
import type { OwnDevices } from "./device_sync/mod.ts";
import type { EventBus } from "./events.ts";
import type { Profile } from "./home/mod.ts";
import type { Certificate } from "./identity/mod.ts";
import { InviteFlow, type Sibling } from "./invites/mod.ts";
import type { Network } from "./network.ts";
import type { ResolvedOptions } from "./options.ts";
import type { SessionManager } from "./sessions/mod.ts";
import { keys } from "./store/mod.ts";
import { contactView } from "./views/mod.ts";
import { bytesEqual } from "./wire/mod.ts";

export function wireInvites(d: {
  readonly o: ResolvedOptions;
  readonly profile: Profile;
  readonly b: Books;
  readonly bus: EventBus;
  readonly sessions: SessionManager;
  readonly addresses: OwnAddresses;
  readonly directory: ChatDirectory;
  readonly verifications: Verifications;
  readonly own: OwnDevices;
  readonly discovery: () => Discovery;
  readonly network: () => Network;
  /** The contacts' device books (linking/device_sessions.ts `vouch`), built later. */
  readonly vouch: (
    p: Uint8Array,
    k: Uint8Array,
    c: string | undefined,
  ) => Promise<Certificate | string>;
}): InviteFlow {
  const { o, profile, b, bus, own } = d;
  const me = profile.keyPair.publicKey;
  const { clock } = o;
  return new InviteFlow({
    me,
    person: own.person,
    name: profile.name,
    signer: b.signer,
    clock,
    bus,
    contacts: b.contacts,
    invites: b.invites,
    sessions: d.sessions,
    passive: o.passive,
    addresses: () => d.addresses.listenAddresses(),
    inviteAddresses: () => d.addresses.published(),
    reservedNames: () => d.directory.reservedNames(),
    added: (c) => {
      d.discovery().refresh();
      bus.emit({
        type: "contact",
        contact: contactView(c, true, clock.now(), d.verifications.isVerified(c.publicKey)),
      });
    },
    running: () => d.network().listening !== undefined,
    siblings: async () => {
      const out: Sibling[] = [];
      const now = clock.now();
      for await (const e of profile.store.kv.list<string[]>({ prefix: keys.siblingsAddresses() })) {
        const key = e.key[2];
        if (!(key instanceof Uint8Array) || bytesEqual(key, me) || !Array.isArray(e.value)) {
          continue;
        }
        if (!own.speaksAt(key, now)) continue; // a removed device is no one's address now
        const certificate = own.certificate(key);
        out.push({ key, addresses: e.value, ...(certificate ? { certificate } : {}) });
      }
      // The person key's node first: it is the one most often up.
      return out.sort((x, y) =>
        Number(bytesEqual(y.key, own.person)) - Number(bytesEqual(x.key, own.person))
      );
    },
    vouch: d.vouch,
  });
}
