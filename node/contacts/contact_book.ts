/**
 * The people this node accepted. Kept in memory (a person has tens, not
 * millions, of contacts) because SSH authentication asks synchronously, and
 * written through to the store.
 */
import { RojError } from "../errors.ts";
import { batchCommits, corrupt, keys, type Store } from "../store/mod.ts";
import { unmapAddress } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { type MemberIds, memberTag } from "./member_ids.ts";

export interface Contact {
  readonly publicKey: Uint8Array;
  /** The petname shown here; unique among contacts. */
  readonly name: string;
  /** Where to dial them, most recent first, "host:port". */
  readonly addresses: string[];
  readonly addedAt: number;
  readonly lastSeen: number | null;
  readonly blocked: boolean;
  /** A passive anchor: holds sealed records, runs no chats, never gets our address. */
  readonly anchor: boolean;
  /** Highest address record seq seen from them (0: none). */
  readonly recordSeq: number;
  /**
   * The X25519 key they published in their hello, to seal to instead of their
   * ed25519 key's (their key is in ssh-agent, which cannot do key agreement).
   */
  readonly agree?: Uint8Array;
}

function isContact(v: unknown): v is Contact {
  const c = v as Contact;
  return typeof v === "object" && v !== null && c.publicKey instanceof Uint8Array &&
    c.publicKey.length === 32 &&
    typeof c.name === "string" && Array.isArray(c.addresses) &&
    c.addresses.every((a) => typeof a === "string") &&
    typeof c.addedAt === "number" && (c.lastSeen === null || typeof c.lastSeen === "number") &&
    typeof c.blocked === "boolean" &&
    (c.agree === undefined || (c.agree instanceof Uint8Array && c.agree.length === 32));
}

/** What a passive anchor keeps of a member (under keys.member): no key, no name, no address. */
interface MemberRecord {
  readonly addedAt: number;
  readonly lastSeen: number | null;
  readonly blocked: boolean;
  readonly recordSeq: number;
}

function isMemberRecord(v: unknown): v is MemberRecord {
  const m = v as MemberRecord;
  return typeof v === "object" && v !== null && typeof m.addedAt === "number" &&
    (m.lastSeen === null || typeof m.lastSeen === "number") && typeof m.blocked === "boolean" &&
    typeof m.recordSeq === "number";
}

export class ContactBook {
  readonly #store: Store;
  /** Contacts by key hex; on a blind book, the members who logged in since it opened. */
  readonly #byKey = new Map<string, Contact>();
  /** A blind book (a passive anchor's): members by id hex; their keys are never stored. */
  readonly #ids: MemberIds | undefined;
  readonly #members = new Map<string, MemberRecord>();
  /** all()'s order, kept until a contact changes: the cascade asks at every step, with 1,000 contacts. */
  #sorted: Contact[] | null = null;
  #version = 0;
  /** Told of each change the person makes to a contact (see onPersonChange). */
  readonly #watchers = new Set<(publicKey: Uint8Array) => void>();

  private constructor(store: Store, ids: MemberIds | undefined) {
    this.#store = store;
    this.#ids = ids;
  }

  /**
   * Loads every contact. With `ids` (a passive anchor), the book is blind: it
   * stores members by id only (see member_ids.ts), and a contact list stored
   * the old way is converted and deleted here.
   * @throws {RojError} store_corrupt
   */
  static async open(store: Store, ids?: MemberIds): Promise<ContactBook> {
    const book = new ContactBook(store, ids);
    // A conversion writes each member and deletes its old row in one commit, many to a commit:
    // an anchor of 10,000 members converts in seconds, and a kill midway leaves each whole.
    const converted = batchCommits(store.kv);
    for await (const res of store.kv.list<unknown>({ prefix: keys.contacts() })) {
      if (!isContact(res.value)) throw corrupt(res.key, "contact");
      // Fields added after the first release default here.
      const c = res.value as Contact & Partial<Pick<Contact, "anchor" | "recordSeq">>;
      const contact = {
        ...c,
        anchor: c.anchor === true,
        recordSeq: typeof c.recordSeq === "number" ? c.recordSeq : 0,
      };
      if (!ids) book.#byKey.set(toHex(c.publicKey), contact);
      else {
        const [id, m] = book.#remember(contact);
        await converted.add((op) => op.set(keys.member(id), m).delete(res.key), 2);
      }
    }
    await converted.flush();
    if (ids) {
      for await (const res of store.kv.list<unknown>({ prefix: keys.members() })) {
        const [, id] = res.key;
        if (typeof id !== "string" || !isMemberRecord(res.value)) throw corrupt(res.key, "member");
        book.#members.set(id, res.value);
      }
    }
    return book;
  }

  /**
   * Calls `fn` (synchronously, once stored) after a contact is added,
   * renamed, blocked or unblocked, made an anchor or removed: what the
   * person's other devices learn (device_sync/contact_sync.ts). Not for
   * addresses, last seen or records. Never on a blind book. Returns the unsubscribe.
   */
  onPersonChange(fn: (publicKey: Uint8Array) => void): () => void {
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  #tell(publicKey: Uint8Array): void {
    if (this.#ids) return;
    for (const fn of this.#watchers) fn(publicKey);
  }

  /** Moves on at every change of a contact: what was built from all() is stale. */
  get version(): number {
    return this.#version;
  }

  /** Every contact, by name (a copy the caller may change); on a blind book, the members who logged in since it opened. */
  all(): Contact[] {
    return this.#byName().slice();
  }

  /** A contact came, went or changed: what was built from all() is stale. */
  #changed(): void {
    this.#sorted = null;
    this.#version++;
  }

  #byName(): readonly Contact[] {
    return this.#sorted ??= [...this.#byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Contacts not blocked, counting a blind book's members who have not logged in yet. */
  get acceptedCount(): number {
    const records = this.#ids ? [...this.#members.values()] : this.all();
    return records.filter((c) => !c.blocked).length;
  }

  /**
   * What other stores file a contact under: its key, or on a blind book its
   * member id (so an anchor's mailbox and sealed copies name no key either).
   */
  storedId(publicKey: Uint8Array): Uint8Array {
    return this.#ids ? this.#ids.id(publicKey) : publicKey;
  }

  get(publicKey: Uint8Array): Contact | undefined {
    const known = this.#byKey.get(toHex(publicKey));
    if (known || !this.#ids) return known;
    // A member logging in (or named by a peer): its record, by the hash of the key it presents.
    const id = this.#ids.hex(publicKey);
    const m = this.#members.get(id);
    if (!m) return undefined;
    const contact: Contact = {
      publicKey: publicKey.slice(),
      name: memberTag(id),
      addresses: [],
      addedAt: m.addedAt,
      lastSeen: m.lastSeen,
      blocked: m.blocked,
      anchor: false,
      recordSeq: m.recordSeq,
    };
    this.#byKey.set(toHex(publicKey), contact);
    this.#changed();
    return contact;
  }

  /** A contact that may log in and be dialled (known and not blocked). */
  accepted(publicKey: Uint8Array): Contact | undefined {
    const c = this.get(publicKey);
    return c && !c.blocked ? c : undefined;
  }

  byName(name: string): Contact | undefined {
    const lower = name.toLowerCase();
    // Names are unique: no order needed, and none of all()'s sorting (10,000 members at an anchor).
    for (const c of this.#byKey.values()) if (c.name.toLowerCase() === lower) return c;
    return undefined;
  }

  #uniqueName(wanted: string, self: Uint8Array, reserved: string[]): string {
    const taken = (n: string) =>
      reserved.some((r) => r.toLowerCase() === n.toLowerCase()) ||
      this.#byKey.values().some((c) =>
        c.name.toLowerCase() === n.toLowerCase() && !bytesEqual(c.publicKey, self)
      );
    if (!taken(wanted)) return wanted;
    for (let i = 2;; i++) {
      const n = `${wanted.slice(0, 36)}-${i}`;
      if (!taken(n)) return n;
    }
  }

  /**
   * Adds a contact, or refreshes one already known (keeping its name).
   * `reserved` are names that chats already use (e.g. "notes").
   */
  async add(
    publicKey: Uint8Array,
    name: string,
    addresses: string[],
    now: number,
    reserved: string[] = [],
  ): Promise<Contact> {
    const old = this.get(publicKey);
    const contact: Contact = old
      ? { ...old, addresses: mergeAddresses(addresses, old.addresses), blocked: false }
      : {
        publicKey: publicKey.slice(),
        name: this.#ids
          ? memberTag(this.#ids.hex(publicKey))
          : this.#uniqueName(name, publicKey, reserved),
        addresses: mergeAddresses(addresses, []),
        addedAt: now,
        lastSeen: null,
        blocked: false,
        anchor: false,
        recordSeq: 0,
      };
    await this.#put(contact);
    if (!old || old.blocked) this.#tell(publicKey);
    return contact;
  }

  /** Changes fields of a known contact. @throws {RojError} not_found */
  async update(
    publicKey: Uint8Array,
    patch:
      & Partial<
        Pick<Contact, "name" | "addresses" | "lastSeen" | "blocked" | "anchor" | "recordSeq">
      >
      & { agree?: Uint8Array | undefined },
  ): Promise<Contact> {
    const old = this.get(publicKey);
    if (!old) throw new RojError("not_found", "no such contact");
    let next: Contact = { ...old, ...patch } as Contact;
    if ("agree" in patch && patch.agree === undefined) {
      // It no longer publishes one (its key is in a file again).
      const { agree: _gone, ...rest } = next;
      next = rest;
    }
    await this.#put(next);
    if (next.name !== old.name || next.blocked !== old.blocked || next.anchor !== old.anchor) {
      this.#tell(publicKey);
    }
    return next;
  }

  /** Forgets a contact entirely. */
  async remove(publicKey: Uint8Array): Promise<void> {
    const known = this.#byKey.delete(toHex(publicKey));
    this.#changed();
    if (this.#ids) {
      const id = this.#ids.hex(publicKey);
      this.#members.delete(id);
      await this.#store.kv.delete(keys.member(id));
    } else {
      await this.#store.kv.delete(keys.contact(publicKey));
      if (known) this.#tell(publicKey);
    }
  }

  /**
   * Renames a contact. @throws {RojError} exists when another contact (or a reserved chat) has the name.
   */
  async rename(publicKey: Uint8Array, to: string, reserved: string[] = []): Promise<Contact> {
    if (this.#ids) {
      throw new RojError("refused", "this node is a passive anchor: it keeps no names of members");
    }
    const clash = this.byName(to);
    if (
      (clash && !bytesEqual(clash.publicKey, publicKey)) ||
      reserved.some((r) => r.toLowerCase() === to.toLowerCase())
    ) {
      throw new RojError("exists", `another chat is already called ${JSON.stringify(to)}`);
    }
    return await this.update(publicKey, { name: to });
  }

  async #put(c: Contact): Promise<void> {
    // Memory first, synchronously: a concurrent update (lastSeen as a session
    // starts, a record learnt) then builds on this one instead of overwriting
    // it. Writes to one KV are applied in the order they are made.
    this.#changed();
    if (!this.#ids) {
      this.#byKey.set(toHex(c.publicKey), c);
      await this.#store.kv.set(keys.contact(c.publicKey), c);
      return;
    }
    const [id, m] = this.#remember(c);
    await this.#store.kv.set(keys.member(id), m);
  }

  /** Blind: the member in memory (key, and no name or addresses); what to store, by id. */
  #remember(c: Contact): [string, MemberRecord] {
    const id = this.#ids!.hex(c.publicKey);
    const m: MemberRecord = {
      addedAt: c.addedAt,
      lastSeen: c.lastSeen,
      blocked: c.blocked,
      recordSeq: c.recordSeq,
    };
    this.#byKey.set(toHex(c.publicKey), { ...c, name: memberTag(id), addresses: [] });
    this.#members.set(id, m);
    this.#changed();
    return [id, m];
  }
}

/**
 * The newest addresses first, without duplicates, at most 8. An IPv4-mapped
 * one ("[::ffff:192.0.2.7]:7022", from an older node) is kept as plain IPv4.
 */
export function mergeAddresses(newer: string[], older: string[]): string[] {
  return [...new Set([...newer, ...older].map(unmapAddress))].slice(0, 8);
}
