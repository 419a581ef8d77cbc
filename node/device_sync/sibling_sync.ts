/**
 * A person's own devices keep their chats in step with each other directly
 * (issue 13 item 4, the chat core), feature `devsync1`.
 *
 * One session per other device of ours ("sibling"), whoever dialled:
 *
 *   SSH, logged in with the device's own key as `dev-<our person's key>`,
 *   host key checked (a dial expects the sibling's key) → the hello → the
 *   other side's key is our person's: the person key itself, or a device key
 *   whose hello `cert` the person signed, for that key, valid now, not revoked
 *   (own_devices.ts `check`) → only then is a request served (held till then).
 *
 * On it, every direct chat both know (the person's key's with a contact's)
 * syncs with ChatSync, both ways, so each device holds what the contact and
 * every device wrote there. Entries by our devices count when the device
 * spoke for the person at the entry's time (revoked: not after); a contact's
 * devices likewise by the contact's device book. What arrives is shown and
 * pushed on to the contact (`stored`); what arrives from a contact or is
 * written here goes on to each sibling (`notify`).
 *
 * Each side tells the other where it listens (`devsync.addresses`), kept in
 * the store: a device dials the siblings it knows (the linking node's
 * addresses come with the link code), again with back-off while none answers.
 * The person key's node hands its revocations to every sibling
 * (`device.revoke`), and a sibling that is revoked is dropped at once; a
 * device hands those it holds on to each contact it meets (device_sync.ts).
 */
import { hex } from "@scure/base";
import type { Clock } from "../clock/mod.ts";
import type { Contact, ContactBook, InviteRegistry } from "../contacts/mod.ts";
import type { EventBus } from "../events.ts";
import { fingerprint } from "../identity/mod.ts";
import { TwinSessions } from "../identity_guard/mod.ts";
import { type ChatLog, directChatId, type Entry } from "../log/mod.ts";
import {
  decodeB64,
  DEVSYNC_AGREE_FEATURE,
  DEVSYNC_CONTACTS_FEATURE,
  DEVSYNC_FEATURE,
  DEVSYNC_GROUPS_FEATURE,
  DEVSYNC_INVITES_FEATURE,
  DEVSYNC_PREFS_FEATURE,
  encodeB64,
  type Hello,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { keys } from "../store/mod.ts";
import { ChatSync } from "../sync/mod.ts";
import { type InboundPeer, parseEndpoint, type SshClient } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { RojError } from "../errors.ts";
import { admitsEntry, type ContactDevices, type OwnDevices } from "./own_devices.ts";
import { ContactSync } from "./contact_sync.ts";
import { SiblingSeen } from "./sibling_rows.ts";
import { DeviceList } from "./device_list.ts";
import type { PrefsSync } from "./prefs_sync.ts";
import { InviteSync } from "./invite_sync.ts";
import type { AgreeSync } from "./agree_sync.ts";
import type { GroupSync } from "./group_sync.ts";
import { isGroupChatId } from "../groups/mod.ts";
import { Redial } from "./redial.ts";
import { forgetSiblings } from "./removed_devices.ts";

/** Addresses kept per sibling (what `devsync.addresses` carries at most). */
export const MAX_SIBLING_ADDRESSES = 8;

/** The node's parts a sibling session uses. */
export interface SiblingParts {
  /** This node's key (the person's, or this device's). */
  readonly me: Uint8Array;
  readonly own: OwnDevices;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly log: ChatLog;
  readonly sessions: SessionManager;
}

/** What else it uses. */
export interface SiblingSyncDeps {
  readonly kv: Deno.Kv;
  readonly contacts: ContactBook;
  /** A contact's devices (node/linking): their keys, and whether one spoke for them at a time. */
  readonly contactDevices: ContactDevices;
  /** A sibling's entries in the direct chat with `contact` were stored here. */
  stored(chat: string, contact: Uint8Array, entries: Entry[]): void;
  /** Where this node listens, for its siblings to dial it. */
  addresses(): string[];
  /**
   * Where sibling `key` is now, by the sealed copy of its record a holder
   * keeps for us (sibling_finder.ts): asked when none of its last addresses answers.
   */
  find?(key: Uint8Array): Promise<{ addresses: string[] } | undefined>;
  /** The invites the person issued, in step with siblings that list devinvites1 (invite_sync.ts). */
  readonly invites?: InviteRegistry;
  /** Mail for siblings that are not connected (mailbox/own_mail.ts): told what it needs. */
  readonly mail?: SiblingMail;
  /** Removes or blocks a contact as the person does here (contact_sync.ts). */
  forget(c: Contact, how: "remove" | "block"): Promise<void>;
}

/** What own mail learns from the siblings' sessions. */
export interface SiblingMail {
  /** A sibling's session checked out, with its hello (what it reads, its agree key). */
  met(key: Uint8Array, hello: Hello): void;
  /** Direct chat `chat` changed here (an entry of ours or a contact's). */
  written(chat: string): void;
  /** The person changed a contact, chat setting, read mark or invite here, or took a sibling's. */
  recordsChanged(): void;
  /** A sibling holds these heads of direct chat `chat` (nothing of them need go by anchor). */
  held(
    key: Uint8Array,
    chat: string,
    heads: Map<string, { author: Uint8Array; seq: number }>,
  ): void;
}

interface Sibling {
  readonly key: Uint8Array;
  readonly rpc: RpcSession;
  readonly direction: "in" | "out";
  /** By chat id: the direct chat with a contact. */
  readonly syncs: Map<string, ChatSync>;
  attached: boolean;
}

export class SiblingSync {
  readonly #d: SiblingParts & SiblingSyncDeps;
  readonly #user: string;
  /** The session kept per sibling key (hex). */
  readonly #live = new Map<string, Sibling>();
  readonly #redial: Redial;
  readonly #dialling = new Set<string>();
  readonly #twins = new TwinSessions();
  /** When each sibling's session was last up (`roj devices`' last seen). */
  readonly #seen: SiblingSeen;
  /** The person's devices made known to each sibling that lists devlist1. */
  readonly #list: DeviceList;
  /** The person's contacts in step with each sibling that lists devcontacts1. */
  readonly #contacts: ContactSync;
  /** Chat settings and read marks in step with each sibling that lists devprefs1 (usePrefs). */
  #prefs: PrefsSync | undefined;
  /** The person's issued invites in step with each sibling that lists devinvites1. */
  readonly #invites: InviteSync | undefined;
  /** The person's groups in step with each sibling that lists devgroups1 (set before start). */
  groups: GroupSync | undefined;
  /** The person's agreement key handed to each sibling that lists devagree1 (set before start). */
  agree: AgreeSync | undefined;
  #closing = false;
  #unsubscribe: (() => void) | undefined;

  constructor(parts: SiblingParts, deps: SiblingSyncDeps) {
    this.#d = { ...parts, ...deps };
    this.#user = `dev-${toHex(parts.own.person)}`;
    this.#seen = new SiblingSeen(deps.kv);
    this.#list = new DeviceList({
      ...parts,
      kv: deps.kv,
      isLive: (k) => this.isLive(k),
      reach: (k, a) => this.reach(k, a),
    });
    this.#contacts = new ContactSync({
      ...this.#d,
      contactsChanged: () => this.#d.mail?.recordsChanged(),
      own: (key) =>
        bytesEqual(key, parts.me) || bytesEqual(key, parts.own.person) ||
        parts.own.keys().some((k) => bytesEqual(k, key)),
    });
    this.#invites = deps.invites && new InviteSync({
      invites: deps.invites,
      clock: parts.clock,
      revoked: (key) => parts.own.revokedAt(key, parts.clock.now()),
      changed: () => this.#d.mail?.recordsChanged(),
    });
    this.#redial = new Redial(parts.clock, (k) => {
      const key = hex.decode(k);
      this.#d.kv.get<string[]>(keys.siblingAddresses(key)).then((r) => {
        if (r.value) return this.#dialSibling(key, r.value);
      }).catch(() => {});
    });
  }

  /** Syncs chat settings and read marks too (wiring_prefs.ts); before start. */
  usePrefs(prefs: PrefsSync): void {
    this.#prefs = prefs;
  }

  /** The person's contact records, kept for the siblings (own mail sends and takes them too). */
  get contacts(): ContactSync {
    return this.#contacts;
  }

  /** A record own mail carries was kept here (prefs_sync.ts): it files it for siblings not up. */
  recordsChanged(): void {
    this.#d.mail?.recordsChanged();
  }

  /** Chat settings and read marks, likewise (undefined before usePrefs). */
  get prefs(): PrefsSync | undefined {
    return this.#prefs;
  }

  /** The person's issued invites, likewise (undefined without an invite registry). */
  get invites(): InviteSync | undefined {
    return this.#invites;
  }

  /** Whether `username` is the one our own devices log in with. */
  authorize(username: string): boolean {
    return !this.#closing && username === this.#user;
  }

  /** Whether a `dev-<hex>` login names our own person. */
  isOwn(personHex: string): boolean {
    return personHex === toHex(this.#d.own.person);
  }

  /** The siblings with a session up (keys). */
  online(): Uint8Array[] {
    return [...this.#live.values()].filter((s) => s.attached).map((s) => s.key);
  }

  /** When sibling `key`'s session was last up (ms), if it ever was since this was recorded. */
  lastSeen(key: Uint8Array): number | undefined {
    return this.#seen.seen(key);
  }

  /** Whether sibling `key` has a session up. */
  isLive(key: Uint8Array): boolean {
    return this.#live.get(toHex(key))?.attached === true;
  }

  /** Dials sibling `key` at addresses found for it (a holder's copy), unless it is up or being dialled. */
  reach(key: Uint8Array, addresses: readonly string[]): void {
    this.#dialSibling(key, addresses, false).catch(() => {});
  }

  /** Dials every sibling known; follows links and removals made here. */
  start(): void {
    this.#unsubscribe = this.#d.bus.subscribe((e) => {
      if (e.type === "device" && (e.op === "linked" || e.op === "revoked")) {
        this.#d.own.reload().then(() => {
          this.#recheck();
          this.#invites?.sweep(); // a removed device's invites are withdrawn everywhere
        }).catch(() => {});
      }
    });
    this.#seen.load().catch(() => {});
    this.#contacts.start();
    this.#prefs?.start();
    this.#invites?.start();
    this.groups?.start();
    this.#dialAll().catch(() => {});
  }

  close(): void {
    this.#closing = true;
    this.#unsubscribe?.();
    this.#contacts.close();
    this.#list.close();
    this.#prefs?.close();
    this.#invites?.close();
    this.groups?.close();
    this.#redial.close();
    for (const s of this.#live.values()) s.rpc.close("node stopping");
  }

  /** Entries of direct chat `chat` changed here: each sibling gets what it lacks. */
  notify(chat: string): void {
    // A sibling not connected finds it at the anchors (contacts' entries too: it may never meet them).
    this.#d.mail?.written(chat);
    for (const s of this.#live.values()) {
      if (!s.attached || s.rpc.closed) continue;
      const sync = s.syncs.get(chat) ?? this.#syncFor(s, chat);
      if (sync) this.#run(sync);
    }
  }

  /** A session the SSH server accepted from a key that logged in as one of our devices. */
  inbound(rpc: RpcSession, peer: InboundPeer, remote: string): void {
    rpc.onClose(() => peer.close());
    const s = this.#serve(rpc, peer.publicKey, "in");
    rpc.ready.then((hello) => this.#checked(s, hello, remote)).catch(() => rpc.close("no hello"));
  }

  /** Dials sibling `key` at `address`; true when a session is kept. */
  async dial(key: Uint8Array, address: string): Promise<boolean> {
    let client: SshClient | undefined;
    try {
      client = await this.#d.sessions.dial({
        to: parseEndpoint(address),
        expect: key,
        expectName: `your device ${fingerprint(key)}`,
        username: this.#user,
      });
      const rpc = this.#d.sessions.rpc(await client.openRoj());
      rpc.hold();
      const c = client;
      rpc.onClose(() => c.close());
      const s = this.#serve(rpc, key, "out");
      await this.#checked(s, await rpc.ready, address);
      return this.#live.get(toHex(key)) === s;
    } catch {
      client?.close();
      return false;
    }
  }

  /** Registers what a sibling session serves (held until its key checked out). */
  #serve(rpc: RpcSession, key: Uint8Array, direction: "in" | "out"): Sibling {
    const s: Sibling = { key, rpc, direction, syncs: new Map(), attached: false };
    const route = (chat: string) => {
      const sync = s.syncs.get(chat) ?? this.#syncFor(s, chat);
      if (!sync) throw new RojError("not_found", "no such chat");
      // The sibling syncs it with us: our side runs too.
      if (s.attached && !sync.started) this.#run(sync);
      return sync;
    };
    rpc.handle("sync.heads", (p) => route(p.chat).answerHeads());
    rpc.handleBulk("sync.push", (p) => route(p.chat).answerPush(p));
    rpc.handle("sync.own", (p) => route(p.chat).answerOwn(p));
    rpc.handle("devsync.addresses", async (p) => {
      const ok = p.addresses.filter((a) => {
        try {
          parseEndpoint(a);
          return true;
        } catch {
          return false;
        }
      }).slice(0, MAX_SIBLING_ADDRESSES);
      if (ok.length > 0) {
        await this.#d.kv.set(keys.siblingAddresses(key), ok);
        this.#list.moved(key); // its siblings that never met it learn where it is
      }
      return {};
    });
    rpc.handle("devsync.contacts", (p) => this.#contacts.take(key, p.changes));
    rpc.handle("devsync.devices", (p) => this.#list.take(key, p.devices));
    rpc.handle("devsync.prefs", (p) => {
      if (!this.#prefs) throw new RojError("not_found", "chat settings are not synced here");
      return this.#prefs.take(key, p.changes);
    });
    rpc.handle("devsync.invites", (p) => {
      if (!this.#invites) throw new RojError("not_found", "no invites here");
      return this.#invites.take(p.invites);
    });
    this.groups?.serve(rpc, key);
    this.agree?.serve(rpc, key);
    rpc.handle("device.revoke", async (p) => {
      const rev = await this.#d.own.revoke(decodeB64(p.revocation));
      if (!rev) return {};
      const fp = fingerprint(rev.device);
      this.#d.bus.say(`your device ${fp} was removed`);
      this.#d.bus.emit({ type: "device", op: "revoked", fingerprint: fp });
      this.#recheck();
      return {};
    });
    return s;
  }

  /** The other side's hello came: keep the session if its key is our person's, else close it. */
  async #checked(s: Sibling, hello: Hello, remote: string): Promise<void> {
    const fp = fingerprint(s.key);
    const why = bytesEqual(s.key, this.#d.me)
      ? "it is this node's own key"
      : !peerHas(hello, DEVSYNC_FEATURE)
      ? "it does not sync devices (devsync1)"
      : await this.#d.own.check(s.key, hello.cert);
    if (why !== null) {
      this.#d.bus.say(`refused a device of yours (${fp}) at ${remote}: ${why}`);
      this.#d.bus.emit({ type: "own-device", op: "refused", fingerprint: fp, reason: why });
      s.rpc.close(`device refused: ${why}`);
      return;
    }
    // A dial that completed while this node stops must not outlive it (the other side would
    // keep a session with a node that is gone).
    if (this.#closing) s.rpc.close("node stopping");
    if (s.rpc.closed || this.#closing) return;
    const k = toHex(s.key);
    const old = this.#live.get(k);
    // Two nodes on one device key (a copied folder) would replace each other for ever: the one
    // up stays (identity_guard/twin_sessions.ts).
    const upInstance = old && !old.rpc.closed ? old.rpc.peerHello?.i : undefined;
    if (this.#twins.judge(k, hello.i, upInstance, this.#d.clock.now())) {
      const why = "this device key has a live session here from another node";
      this.#d.bus.emit({ type: "own-device", op: "refused", fingerprint: fp, reason: why });
      s.rpc.close(why);
      return;
    }
    if (old && !old.rpc.closed && this.#prefer(old, s) === old) {
      s.rpc.close("duplicate session");
      return;
    }
    this.#live.set(k, s);
    old?.rpc.close("duplicate session");
    s.attached = true;
    this.#redial.reached(k);
    s.rpc.onClose((reason) => {
      if (this.#live.get(k) !== s) return;
      this.#live.delete(k);
      this.#seen.mark(s.key, this.#d.clock.now()).catch(() => {});
      this.#d.bus.emit({
        type: "own-device",
        op: "down",
        fingerprint: fp,
        reason: reason ?? "closed",
      });
      // A removed device is not dialled again (#recheck forgets it).
      if (!this.#closing && !this.#d.own.revokedAt(s.key, this.#d.clock.now())) {
        this.#redial.schedule(k);
      }
    });
    this.#seen.mark(s.key, this.#d.clock.now()).catch(() => {});
    this.#d.bus.say(`in step with your device ${fp} (${remote})`);
    this.#d.bus.emit({ type: "own-device", op: "up", fingerprint: fp, direction: s.direction });
    s.rpc.admit();
    this.#d.mail?.met(s.key, hello);
    if (peerHas(hello, DEVSYNC_CONTACTS_FEATURE)) this.#contacts.attach(s.key, s.rpc);
    if (peerHas(hello, DEVSYNC_PREFS_FEATURE)) this.#prefs?.attach(s.key, s.rpc);
    if (peerHas(hello, DEVSYNC_INVITES_FEATURE)) this.#invites?.attach(s.key, s.rpc);
    if (peerHas(hello, DEVSYNC_AGREE_FEATURE)) this.agree?.attach(s.key, s.rpc);
    if (peerHas(hello, DEVSYNC_GROUPS_FEATURE)) this.groups?.attach(s.key, s.rpc);
    this.#list.attach(s.key, s.rpc);
    const addresses = this.#d.addresses().slice(0, MAX_SIBLING_ADDRESSES);
    if (addresses.length > 0) {
      s.rpc.request("devsync.addresses", { addresses }).catch(() => {});
    }
    for (const r of this.#d.own.revocations()) {
      s.rpc.request("device.revoke", { revocation: encodeB64(r) }).catch(() => {});
    }
    for (const c of this.#d.contacts.all()) {
      const sync = this.#syncFor(s, directChatId(this.#d.own.person, c.publicKey));
      if (sync) this.#run(sync);
    }
  }

  /** Of two sessions with one sibling: the one the smaller key opened (both sides agree); else the newer. */
  #prefer(old: Sibling, next: Sibling): Sibling {
    if (old.direction === next.direction) return next;
    const opener = (s: Sibling) => (s.direction === "out" ? this.#d.me : s.key);
    const a = toHex(opener(old)), b = toHex(opener(next));
    return a <= b ? old : next;
  }

  /** The sync of direct chat `chat` on this session, if it is one with a contact of ours. */
  #syncFor(s: Sibling, chat: string): ChatSync | undefined {
    if (isGroupChatId(chat)) return this.groups?.syncFor(s.rpc, chat);
    const person = this.#d.own.person;
    const contact = this.#d.contacts.all().find((c) =>
      !c.blocked && !c.anchor && directChatId(person, c.publicKey) === chat
    )?.publicKey;
    if (!contact) return undefined;
    const fp = fingerprint(s.key);
    const sync = new ChatSync(this.#d.log, s.rpc, chat, {
      members: () => [
        person,
        contact,
        ...this.#d.own.keys(),
        ...this.#d.contactDevices.keys(contact),
      ],
      prepare: (raws) => this.#d.contactDevices.learn(contact, raws),
      admits: () => (signed) => this.#admits(contact, signed),
      onStored: (entries) => this.#d.stored(chat, contact, entries),
      onPeerHeads: (heads) => this.#d.mail?.held(s.key, chat, heads),
      log: (line) => this.#d.bus.say(`your device ${fp}: ${line}`),
    });
    s.syncs.set(chat, sync);
    return sync;
  }

  /** Whether an entry's author spoke for its person when it was written. */
  #admits(contact: Uint8Array, signed: Uint8Array): boolean {
    return admitsEntry(
      signed,
      [contact, this.#d.own.person],
      (key, at) => this.#d.contactDevices.speaksAt(contact, key, at),
    );
  }

  #run(sync: ChatSync): void {
    (sync.started ? sync.notify() : sync.start()).catch(() => {
      // not_found: the sibling does not know that contact; a failed session redials.
    });
  }

  /**
   * After the book changed: sessions of siblings that no longer speak for us
   * end, and what we kept per removed sibling goes (forgetSiblings).
   */
  #recheck(): void {
    const now = this.#d.clock.now();
    this.#forgetRemoved().catch(() => {});
    for (const s of this.#live.values()) {
      if (!this.#d.own.speaksAt(s.key, now)) s.rpc.close("device revoked");
      else {
        for (const r of this.#d.own.revocations()) {
          s.rpc.request("device.revoke", { revocation: encodeB64(r) }).catch(() => {});
        }
      }
    }
  }

  /** Forgets every sibling of ours removed by now: its pending redial and its store keys. */
  async #forgetRemoved(): Promise<void> {
    const now = this.#d.clock.now();
    const gone = this.#d.own.keys().filter((k) => this.#d.own.revokedAt(k, now));
    for (const k of gone) this.#redial.forget(toHex(k));
    await forgetSiblings(this.#d.kv, gone);
  }

  /** Dials each sibling known that has no session. */
  async #dialAll(): Promise<void> {
    await this.#forgetRemoved(); // a removal that reached us before a crash, say
    for await (const e of this.#d.kv.list<string[]>({ prefix: keys.siblingsAddresses() })) {
      const key = e.key[2];
      if (key instanceof Uint8Array) this.#dialSibling(key, e.value).catch(() => {});
    }
  }

  /**
   * Dials sibling `key` at `addresses` in turn; when none answers, at the
   * addresses of the newest copy of its record our holders keep (`find`:
   * it moved), unless `find` is false; then again after a back-off.
   */
  async #dialSibling(key: Uint8Array, addresses: readonly string[], find = true): Promise<void> {
    const k = toHex(key);
    if (this.#closing || this.#live.has(k) || this.#dialling.has(k)) return;
    if (bytesEqual(key, this.#d.me) || !this.#d.own.speaksAt(key, this.#d.clock.now())) return;
    this.#dialling.add(k);
    try {
      for (const a of addresses) {
        if (await this.dial(key, a)) return;
        if (this.#closing || this.#live.has(k)) return;
      }
      const found = find ? await this.#d.find?.(key) : undefined;
      for (const a of found?.addresses.filter((a) => !addresses.includes(a)) ?? []) {
        if (await this.dial(key, a)) return;
        if (this.#closing || this.#live.has(k)) return;
      }
      this.#redial.schedule(k);
    } finally {
      this.#dialling.delete(k);
    }
  }
}
