/**
 * A person's contacts in step between the person's own devices (issue 13
 * item 4, contacts), feature devcontacts1, over the sibling session
 * (sibling_sync.ts: the other side is already checked to be the person key
 * or a device the person certified, so the session itself authenticates).
 *
 * Every change the person makes here (a contact added, renamed, blocked,
 * unblocked, made an anchor, removed; ContactBook.onPersonChange) becomes
 * this device's record of that contact, dated by our clock and numbered by a
 * local `seq`; records are kept in the store, tombstones too (at most
 * MAX_CONTACT_TOMBSTONES), so a removal survives restarts. Each sibling gets
 * the records numbered above the highest it took (kept per sibling), in
 * `devsync.contacts` requests of at most MAX_CONTACT_CHANGES: at session up
 * (the whole book the first time) and at each change while it is up. What a
 * sibling sends is merged by contact_merge.ts (last writer wins per contact)
 * and applied to the contact book, and then goes on to our other siblings
 * like a change made here. A contact's addresses travel only on these
 * sessions, to the person's own devices.
 */
import type { Clock } from "../clock/mod.ts";
import { type Contact, type ContactBook, mergeAddresses } from "../contacts/mod.ts";
import type { EventBus } from "../events.ts";
import { RojError } from "../errors.ts";
import { decodeB64, encodeB64, type ParamsOf, type RpcSession } from "../protocol/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { keys } from "../store/mod.ts";
import { parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { SiblingFeed } from "./sibling_feed.ts";
import {
  type ContactRecord,
  type ContactState,
  mergeChange,
  resolveName,
  stampLocal,
  tombstonesOver,
} from "./contact_merge.ts";

/** Contact changes per devsync.contacts request (the schema's cap, methods.ts). */
export const MAX_CONTACT_CHANGES = 64;
/** Names that chats use besides contacts: a contact from a sibling never takes them. */
const RESERVED = ["notes"];

/** A record as this device keeps it: numbered here, and from which sibling it came. */
interface Kept extends ContactRecord {
  readonly seq: number;
  /** The sibling it came from (key hex): not sent back there. */
  readonly from?: string;
}

const STATES: readonly string[] = ["live", "blocked", "removed"];

function isKept(v: unknown): v is Kept {
  const r = v as Kept;
  return typeof v === "object" && v !== null && r.key instanceof Uint8Array &&
    r.key.length === 32 && STATES.includes(r.state) && typeof r.name === "string" &&
    Array.isArray(r.addresses) && typeof r.anchor === "boolean" &&
    typeof r.at === "number" && typeof r.seq === "number";
}

export interface ContactSyncDeps {
  readonly kv: Deno.Kv;
  readonly contacts: ContactBook;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly sessions: SessionManager;
  /** Whether a key is the person's or one of the person's devices': never a contact. */
  readonly own: (key: Uint8Array) => boolean;
  /** A record was kept (own mail hands it to siblings that are not connected). */
  readonly contactsChanged?: () => void;
  /**
   * Removes or blocks a contact as `roj remove`/`roj block` do here
   * (handlers/forget.ts): its sessions, relay list, verified mark, sealed
   * copies and introductions go with it.
   */
  forget(c: Contact, how: "remove" | "block"): Promise<void>;
}

type Change = ParamsOf<"devsync.contacts">["changes"][number];

export class ContactSync {
  readonly #d: ContactSyncDeps;
  /** By contact key hex. */
  readonly #records = new Map<string, Kept>();
  #seq = 0;
  /** The records loaded (at start: a passive anchor never starts one). */
  #ready: Promise<void> = Promise.resolve();
  /** Contacts being changed by a sibling's record: not a change of the person's here. */
  readonly #applying = new Set<string>();
  /** The siblings with a session up that list devcontacts1, and what each took. */
  readonly #feed: SiblingFeed<Change>;
  /** Applying a sibling's changes, one request at a time. */
  #taking: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: ContactSyncDeps) {
    this.#d = deps;
    this.#feed = new SiblingFeed(deps.kv, {
      ready: () => this.#ready,
      changesAfter: (sibling, after) => this.changesAfter(sibling, after),
      send: (rpc, changes) => rpc.request("devsync.contacts", { changes }),
      ackKey: (key) => keys.contactAck(key),
    });
  }

  /** Loads the records, and starts recording the person's changes here. */
  start(): void {
    this.#ready = this.#load();
    this.#ready.catch(() => {});
    this.#unsubscribe = this.#d.contacts.onPersonChange((key) => {
      if (this.#applying.has(toHex(key))) return;
      const c = this.#d.contacts.get(key);
      this.#local(key, c).catch(() => {});
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.#feed.clear();
  }

  /** A sibling's session is up and it lists devcontacts1: it gets what it has not taken. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    this.#feed.attach(key, rpc);
  }

  /** A sibling's `devsync.contacts`: merged and applied in order. */
  take(from: Uint8Array, changes: readonly Change[]): Promise<Record<string, never>> {
    const run = this.#taking.then(() => this.#take(toHex(from), changes));
    this.#taking = run.catch(() => {});
    return run;
  }

  async #take(from: string, changes: readonly Change[]): Promise<Record<string, never>> {
    await this.#ready;
    for (const c of changes) {
      const key = decodeB64(c.key);
      if (key.length !== 32) throw new RojError("bad_input", "devsync.contacts: a key is 32 bytes");
      if ((c.state !== "removed" && c.name.trim() === "") || this.#d.own(key)) continue;
      const change: ContactRecord = {
        key,
        state: c.state,
        name: c.state === "removed" ? "" : c.name.trim(),
        addresses: c.addresses.filter(isEndpoint),
        anchor: c.anchor,
        at: c.at,
      };
      const next = mergeChange(this.#records.get(toHex(key)), change, this.#d.clock.now());
      if (!next) continue;
      await this.#apply(next);
      await this.#keep(next, from);
    }
    return {};
  }

  async #load(): Promise<void> {
    for await (const e of this.#d.kv.list<unknown>({ prefix: keys.contactRecords() })) {
      if (!isKept(e.value)) continue; // not ours to fail a node over: the book is the truth
      this.#records.set(toHex(e.value.key), e.value);
      this.#seq = Math.max(this.#seq, e.value.seq);
    }
    // Contacts from before this feature (or copied at linking): recorded as of when they were added.
    for (const c of this.#d.contacts.all()) {
      if (!this.#records.has(toHex(c.publicKey))) await this.#keep(recordOf(c, c.addedAt));
    }
  }

  async #local(key: Uint8Array, c: Contact | undefined): Promise<void> {
    await this.#ready;
    const prev = this.#records.get(toHex(key));
    await this.#keep(recordOf(c, stampLocal(prev, this.#d.clock.now()), key));
  }

  /** Keeps a record as our newest change, and hands it to the siblings up. */
  async #keep(r: ContactRecord, from?: string): Promise<void> {
    const kept: Kept = {
      key: r.key,
      state: r.state,
      name: r.name,
      addresses: r.addresses.slice(0, 8),
      anchor: r.anchor,
      at: r.at,
      seq: ++this.#seq,
      ...(from ? { from } : {}),
    };
    this.#records.set(toHex(r.key), kept);
    await this.#d.kv.set(keys.contactRecord(r.key), kept);
    for (const old of tombstonesOver(this.#records.values())) {
      this.#records.delete(toHex(old.key));
      await this.#d.kv.delete(keys.contactRecord(old.key));
    }
    this.#feed.pushAll();
    this.#d.contactsChanged?.();
  }

  /** Makes the contact book say what record `r` says. */
  async #apply(r: ContactRecord): Promise<void> {
    const { contacts, clock, bus } = this.#d;
    const k = toHex(r.key);
    this.#applying.add(k);
    try {
      const c = contacts.get(r.key);
      if (r.state === "removed") {
        if (c) await this.#d.forget(c, "remove");
        return;
      }
      const others = contacts.all().filter((o) => !bytesEqual(o.publicKey, r.key))
        .map((o) => ({ key: o.publicKey, name: o.name }));
      const { name, displaced } = resolveName(r.key, r.name, others, RESERVED);
      if (displaced) {
        const d = toHex(displaced.key);
        this.#applying.add(d);
        try {
          await contacts.update(displaced.key, { name: displaced.name });
        } finally {
          this.#applying.delete(d);
        }
      }
      const base = c ?? await contacts.add(r.key, name, [...r.addresses], clock.now(), RESERVED);
      const next = await contacts.update(r.key, {
        name,
        anchor: r.anchor,
        addresses: mergeAddresses([...r.addresses], base.addresses),
        ...(r.state === "blocked" ? {} : { blocked: false }),
      });
      // Blocked as a local block does it (and only once: a blocked contact's later changes are not news).
      if (r.state === "blocked") {
        if (!base.blocked) await this.#d.forget(next, "block");
        return;
      }
      bus.say(
        c ? `your other device changed ${next.name}` : `your other device added ${next.name}`,
      );
      if (!c && !next.blocked) this.#dial(next).catch(() => {});
    } finally {
      this.#applying.delete(k);
    }
  }

  /** A contact new here: dialled at once, so a chat with them can start from this device. */
  async #dial(c: Contact): Promise<void> {
    for (const a of c.addresses) {
      if (this.#d.sessions.get(c.publicKey)) return;
      if (await this.#d.sessions.dialAt(c, a)) return;
    }
  }

  /**
   * The records numbered above `after` for `sibling`, oldest first, at most
   * MAX_CONTACT_CHANGES (those that came from it skipped), and the number up
   * to which they cover; its sessions and own mail (mailbox/own_mail.ts) send them.
   */
  async changesAfter(
    sibling: Uint8Array,
    after: number,
  ): Promise<{ changes: Change[]; upTo: number }> {
    await this.#ready;
    const k = toHex(sibling);
    const due: Kept[] = [...this.#records.values()].filter((r) => r.seq > after)
      .sort((a, b) => a.seq - b.seq).slice(0, MAX_CONTACT_CHANGES * 4);
    if (due.length === 0) return { changes: [], upTo: after };
    const batch: Kept[] = due.filter((r) => r.from !== k).slice(0, MAX_CONTACT_CHANGES);
    // Up to the last record sent (or skipped as the sibling's own) is covered.
    const upTo = batch.length === MAX_CONTACT_CHANGES ? batch.at(-1)!.seq : due.at(-1)!.seq;
    return { changes: batch.map(wire), upTo };
  }
}

function recordOf(c: Contact | undefined, at: number, key?: Uint8Array): ContactRecord {
  const state: ContactState = !c ? "removed" : c.blocked ? "blocked" : "live";
  return {
    key: c?.publicKey ?? key!,
    state,
    name: c?.name ?? "",
    addresses: c?.addresses.slice(0, 8) ?? [],
    anchor: c?.anchor ?? false,
    at,
  };
}

const wire = (r: ContactRecord): Change => ({
  key: encodeB64(r.key),
  state: r.state,
  name: r.name,
  addresses: [...r.addresses],
  anchor: r.anchor,
  at: r.at,
});

function isEndpoint(a: string): boolean {
  try {
    parseEndpoint(a);
    return true;
  } catch {
    return false;
  }
}
