/**
 * The node's mail through anchors besides group mail, wired apart from
 * wiring.ts (at its size cap): 1:1 mail for contacts who are offline
 * (mailbox/direct_mail.ts), and mail between the person's own devices that
 * are never online together (mailbox/own_mail.ts). Services built after
 * these are reached through `late`, called only once the node runs.
 */
import type { ChatDirectory, ChatService } from "./chats/mod.ts";
import type { AgreeKeyOf, ContactBook } from "./contacts/mod.ts";
import { type Pair, pairwise } from "./discovery/mod.ts";
import {
  admitsEntry,
  type ContactDeviceBooks,
  type DeviceSync,
  type OwnDevices,
  withOwnDevices,
} from "./device_sync/mod.ts";
import type { EventBus } from "./events.ts";
import type { Clock } from "./clock/mod.ts";
import type { KeyPair } from "./identity/mod.ts";
import type { ChatLog, Entry, RawEntry } from "./log/mod.ts";
import {
  contactRecords,
  DirectMail,
  directMailEvent,
  inviteRecords,
  OwnMail,
  ownMailEvent,
  prefsRecords,
} from "./mailbox/mod.ts";
import { encodeB64 } from "./protocol/mod.ts";
import type { SessionManager } from "./sessions/mod.ts";
import type { DeliveryMarks } from "./sync/mod.ts";
import { bytesEqual } from "./wire/mod.ts";

export interface MailDeps {
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly keyPair: KeyPair;
  readonly agreeKeyOf: AgreeKeyOf;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly contacts: ContactBook;
  readonly marks: DeliveryMarks;
  readonly chats: ChatService;
  readonly directory: ChatDirectory;
  readonly own: OwnDevices;
  readonly pair: (them: Uint8Array) => Pair;
  readonly contactName: (k: Uint8Array) => string;
  /** What is built after the mail (closures reach it at run time). */
  readonly late: () => {
    readonly sessions: SessionManager;
    readonly devsync: DeviceSync;
    /** The contacts' device books (linking/device_sessions.ts). */
    readonly devices: ContactDeviceBooks;
    readonly pushDirect: (chat: string, peer: Uint8Array) => void;
  };
}

/** Builds both; nothing starts here (session_hooks.ts attaches them to anchors' sessions). */
export function wireMail(d: MailDeps): { directMail: DirectMail; ownMail: OwnMail } {
  const contacts = () =>
    d.contacts.all().filter((c) => !c.blocked && !c.anchor).map((c) => c.publicKey);
  const me = d.keyPair.publicKey;
  const books = withOwnDevices(d.own, () => d.late().devices);
  // On a device, contacts seal the record we look for to the person's agreement key (RecordSeals).
  const devicePairs = new WeakMap<KeyPair, (them: Uint8Array) => Pair>();
  const recordPair = (peer: Uint8Array) => {
    const mine = d.late().sessions.personAgree?.devicePair();
    if (!mine) return d.pair(peer);
    let pair = devicePairs.get(mine);
    if (!pair) devicePairs.set(mine, pair = pairwise(mine, d.agreeKeyOf));
    return pair(peer);
  };
  const directMail = new DirectMail({
    log: d.log,
    kv: d.kv,
    keyPair: d.keyPair,
    agreeKeyOf: d.agreeKeyOf,
    person: d.own.person,
    // The contact's entries, or its devices' that spoke for it then (never ours: not filed by it).
    admit: async (contact, raws) => {
      await books.learn(contact, raws);
      const speaks = (k: Uint8Array, at: number) => !d.own.has(k) && books.speaksAt(contact, k, at);
      return raws.filter((r) => admitsEntry(r.signed, [contact], speaks));
    },
    clock: d.clock,
    contacts,
    online: (peer) => d.late().sessions.get(peer) !== undefined,
    delivered: (chat, peer) => d.marks.get(chat, peer),
    anchored: async (chat, peer, seq) => {
      await d.chats.markAnchored(chat, peer, seq);
    },
    recordTag: (peer) => encodeB64(recordPair(peer).tag(peer)),
    receipt: async (chat, _peer, seq) => {
      const ref = d.directory.byId(chat);
      if (ref) await d.chats.markDelivered(ref, seq);
    },
    stored: async (chat, _peer, entries) => {
      const ref = d.directory.byId(chat);
      if (ref) await d.chats.show(ref, entries);
      // Our other devices get it too: directly, else through an anchor (none without devices).
      d.late().devsync.siblings.notify(chat);
      ownMail.written(chat);
    },
    say: (line) => d.bus.say(line),
    note: (n) => d.bus.emit(directMailEvent(n, d.contactName)),
  });
  const ownMail = new OwnMail({
    log: d.log,
    kv: d.kv,
    keyPair: d.keyPair,
    person: d.own.person,
    clock: d.clock,
    // The person key's node and every device of ours that speaks for us now, but this one.
    siblings: () => {
      const now = d.clock.now();
      return [d.own.person, ...d.own.keys()].filter((k, i, all) =>
        !bytesEqual(k, me) && d.own.speaksAt(k, now) &&
        all.findIndex((x) => bytesEqual(x, k)) === i
      );
    },
    online: (k) => d.late().devsync.siblings.online().some((s) => bytesEqual(s, k)),
    contacts,
    admit: async (contact: Uint8Array, raws: RawEntry[]) => {
      await books.learn(contact, raws);
      const speaks = (k: Uint8Array, at: number) => books.speaksAt(contact, k, at);
      return raws.filter((r) => admitsEntry(r.signed, [contact, d.own.person], speaks));
    },
    // The person's records, taken through the same paths as on a sibling session.
    records: [
      contactRecords(d.kv, () => d.late().devsync.siblings.contacts),
      prefsRecords(d.kv, () => d.late().devsync.siblings.prefs),
      inviteRecords(d.kv, () => d.clock.now(), () => d.late().devsync.siblings.invites),
    ],
    stored: async (chat: string, contact: Uint8Array, entries: Entry[]) => {
      const ref = d.directory.byId(chat);
      if (ref) await d.chats.show(ref, entries);
      d.late().pushDirect(chat, contact);
    },
    say: (line) => d.bus.say(line),
    note: (n) => d.bus.emit(ownMailEvent(n, d.contactName)),
  });
  return { directMail, ownMail };
}
