/**
 * The groups this node belongs to: a registry in the store (`keys.chat(id)`:
 * the local name), each group's membership as folded from its log, and the
 * epoch keys opened so far. Writes membership changes and encrypted messages
 * to the log; the node pushes them to peers.
 *
 * Which epoch a message uses: the newest one sealed to exactly the current
 * members (writeEpoch). When none is, the writer first appends a
 * `group.rekey` with a fresh key for exactly the current members. So a writer
 * who has seen a removal never again encrypts to a key the removed member
 * holds. Messages written concurrently with a removal (before the writer saw
 * it) may use an older epoch that the removed member can still open.
 */
import { base64 } from "@scure/base";
import { RojError } from "../errors.ts";
import { type KeyPair, publicKeyLine, type Signer } from "../identity/mod.ts";
import { type ChatLog, compareEntries, type Entry, MAX_BODY_BYTES, toHex } from "../log/mod.ts";
import { CONTENT_TYPES } from "../messages/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import type { GroupBookDevice, SpeaksFor } from "./handed_keys.ts";
import { describe } from "./describe.ts";
import { GROUP_NONCE_BYTES, groupChatId, isGroupChatId } from "./group_id.ts";
import {
  encryptGroupMessage,
  GROUP_FILE_TYPE,
  newGroupKey,
  openGroupKey,
  openGroupMessage,
  parseGroupMessage,
  sealGroupKey,
} from "./group_crypto.ts";
import {
  carriedKeys,
  epochId,
  GROUP_OPS,
  isGroupOp,
  MAX_GROUP_NAME,
  MAX_MEMBERS,
  members,
  type Membership,
  MembershipFold,
  writeEpoch,
} from "./membership.ts";

/** Most groups one node keeps; a contact cannot push more into its store. */
export const MAX_GROUPS = 256;

/** How a write goes: a re-base's (node/identity_guard) keeps a message's time and passes the gate. */
export interface WriteOptions {
  readonly ts?: number;
  readonly ungated?: boolean;
}

/** What is stored under keys.chat(id) for a group. */
interface GroupRecord {
  kind: "group";
  name: string;
}

function isGroupRecord(v: unknown): v is GroupRecord {
  const r = v as GroupRecord;
  return typeof v === "object" && v !== null && r.kind === "group" && typeof r.name === "string";
}

export interface Group {
  readonly id: string;
  /** The name on this node (unique among chats here). */
  readonly name: string;
  readonly membership: Membership;
}

/** A group entry as a person reads it. */
export interface GroupLine {
  readonly entry: Entry;
  /** The message text, or a sentence for a membership change. */
  readonly text: string;
}

const EMPTY: Membership = {
  name: null,
  founder: null,
  members: new Map(),
  admins: new Set(),
  ever: new Map(),
  names: new Map(),
  selfNames: new Map(),
  epochs: [],
};

export class GroupBook {
  readonly #store: Store;
  readonly #log: ChatLog;
  readonly #keyPair: KeyPair;
  readonly #agreeKeyOf: (k: Uint8Array) => Uint8Array | undefined;
  readonly #me: string;
  readonly #device: GroupBookDevice | undefined;
  /** Whether a member's device wrote an entry for them (set by the node once its device books exist). */
  speaksFor: SpeaksFor = () => false;
  /** What a key sealed to us opens with: ours, then the person's agreement keys (devagree1). */
  openers: () => readonly KeyPair[] = () => [this.#keyPair];
  readonly #groups = new Map<string, Group>();
  /** Opened epoch keys per group (null: sealed to us but did not open, or not sealed to us). */
  readonly #keys = new Map<string, Map<string, Uint8Array | null>>();
  readonly #refreshing = new Map<string, Promise<unknown>>();
  /**
   * Per group, the keys carried by every membership entry, counted or not
   * (epoch id → recipient hex → sealed): what readers may open.
   */
  readonly #carried = new Map<string, Map<string, ReadonlyMap<string, string>>>();
  /** Per group, its membership entries in display order, as of the last refresh. */
  readonly #ops = new Map<string, readonly Entry[]>();

  private constructor(
    store: Store,
    log: ChatLog,
    keyPair: KeyPair,
    agreeKeyOf: (k: Uint8Array) => Uint8Array | undefined,
    device: GroupBookDevice | undefined,
  ) {
    this.#store = store;
    this.#log = log;
    this.#keyPair = keyPair;
    this.#agreeKeyOf = agreeKeyOf;
    this.#device = device && !bytesEqual(device.person, keyPair.publicKey) ? device : undefined;
    this.#me = toHex(this.#device?.person ?? keyPair.publicKey);
  }

  /**
   * Loads the registry and folds every group's log. `agreeKeyOf`: the X25519
   * key a member published (contacts/agreeKeys), to seal group keys to.
   * `device`: on a device of a person, whose groups these are.
   */
  static async open(
    store: Store,
    log: ChatLog,
    keyPair: KeyPair,
    agreeKeyOf: (k: Uint8Array) => Uint8Array | undefined = () => undefined,
    device?: GroupBookDevice,
  ): Promise<GroupBook> {
    const book = new GroupBook(store, log, keyPair, agreeKeyOf, device);
    for await (const res of store.kv.list<unknown>({ prefix: keys.chats() })) {
      const id = res.key[1];
      if (typeof id !== "string" || !isGroupChatId(id) || !isGroupRecord(res.value)) continue;
      book.#groups.set(id, { id, name: res.value.name, membership: EMPTY });
    }
    for (const id of book.#groups.keys()) await book.refresh(id);
    return book;
  }

  get size(): number {
    return this.#groups.size;
  }

  all(): Group[] {
    return [...this.#groups.values()];
  }

  get(id: string): Group | undefined {
    return this.#groups.get(id);
  }

  /** A group by its local name, ignoring case (as contacts are found). */
  byName(name: string): Group | undefined {
    const lower = name.toLowerCase();
    for (const g of this.#groups.values()) if (g.name.toLowerCase() === lower) return g;
    return undefined;
  }

  /** Whether `who` (raw key) is a current member of group `id` as this node sees it. */
  isMember(id: string, who: Uint8Array): boolean {
    return this.#groups.get(id)?.membership.members.has(toHex(who)) ?? false;
  }

  /** Everyone who was ever a member: whose entries belong in the chat. */
  everMembers(id: string): Uint8Array[] {
    return [...(this.#groups.get(id)?.membership.ever.values() ?? [])];
  }

  /** The groups in which `who` is a current member (and so is this node). */
  sharedWith(who: Uint8Array): Group[] {
    const k = toHex(who);
    return this.all().filter((g) =>
      g.membership.members.has(k) && g.membership.members.has(this.#me)
    );
  }

  /**
   * Registers a group under a local name unique among `taken` and the other groups.
   * @throws {RojError} refused when this node already keeps MAX_GROUPS groups.
   */
  async register(id: string, wanted: string, taken: Iterable<string>): Promise<Group> {
    const known = this.#groups.get(id);
    if (known) return known;
    if (this.#groups.size >= MAX_GROUPS) {
      throw new RojError("refused", `this node keeps at most ${MAX_GROUPS} groups`);
    }
    const used = new Set(
      [...taken, ...[...this.#groups.values()].map((g) => g.name)].map((n) => n.toLowerCase()),
    );
    const base = wanted.replace(/[^\p{L}\p{N}._ -]/gu, "").trim().slice(0, 40) || "group";
    let name = base;
    for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base.slice(0, 36)}-${i}`;
    const record: GroupRecord = { kind: "group", name };
    await this.#store.kv.set(keys.chat(id), record);
    const g: Group = { id, name, membership: EMPTY };
    this.#groups.set(id, g);
    await this.refresh(id);
    return this.#groups.get(id)!;
  }

  /**
   * Refolds a group's membership from its log (serialised per group).
   * Resolves with the membership before and after.
   */
  refresh(id: string): Promise<{ before: Membership; after: Membership }> {
    const prior = this.#refreshing.get(id) ?? Promise.resolve();
    const run = prior.then(async () => {
      const g = this.#groups.get(id);
      if (!g) return { before: EMPTY, after: EMPTY };
      const ops = (await this.#log.read(id)).filter((e) => isGroupOp(e.type));
      const after = members(ops, id);
      const carried = new Map<string, ReadonlyMap<string, string>>();
      for (const e of ops) {
        const k = carriedKeys(e);
        if (k) carried.set(epochId(e), k);
      }
      this.#carried.set(id, carried);
      this.#ops.set(id, ops);
      const latest = this.#groups.get(id);
      if (latest) this.#groups.set(id, { ...latest, membership: after });
      return { before: g.membership, after };
    });
    const settled = run.catch(() => {});
    this.#refreshing.set(id, settled);
    settled.then(() => {
      if (this.#refreshing.get(id) === settled) this.#refreshing.delete(id);
    });
    return run;
  }

  /**
   * The key of an epoch, when it was sealed to this node. For reading, the
   * entry that carried it need not have counted (a concurrent change may have
   * voided it after a writer used its key); for writing, see writeEpoch.
   */
  async epochKey(id: string, epoch: string): Promise<Uint8Array | null> {
    const handed = this.#device?.handed.get(id, epoch);
    if (handed) return handed;
    let cache = this.#keys.get(id);
    if (!cache) this.#keys.set(id, cache = new Map());
    if (cache.has(epoch)) return cache.get(epoch)!;
    const keys = this.#groups.get(id)?.membership.epochs.find((e) => e.id === epoch)?.keys ??
      this.#carried.get(id)?.get(epoch);
    if (!keys) return null; // maybe not folded yet: not cached
    const sealed = keys.get(this.#me);
    const key = sealed ? await openGroupKey(this.openers(), id, sealed) : null;
    // Not kept while the key agreement waits for ssh-agent, nor on a device (its agreement key may come).
    if (key !== null || (seedReady(this.#keyPair) && !this.#device)) cache.set(epoch, key);
    return key;
  }

  /**
   * What lines() needs to read `entries`: the group's membership entries
   * and `entries`, in display order, without reading the whole log (a
   * catch-up shows thousands of entries, a batch at a time).
   */
  context(id: string, entries: readonly Entry[]): Entry[] {
    const ops = this.#ops.get(id) ?? [];
    const known = new Set(ops.map((e) => toHex(e.hash)));
    return [...ops, ...entries.filter((e) => !known.has(toHex(e.hash)))].sort(compareEntries);
  }

  /** Whether the key of `epoch` was sealed to `hex` (so they may read what it encrypts). */
  sealedTo(id: string, epoch: string, hex: string): boolean {
    const keys = this.#groups.get(id)?.membership.epochs.find((e) => e.id === epoch)?.keys ??
      this.#carried.get(id)?.get(epoch);
    return keys?.has(hex) ?? false;
  }

  /**
   * The entry that ended `hex`'s membership of group `id` — an admin's
   * removal, or their own leave — when they are out; null while they are in
   * (or never were).
   */
  async departure(
    id: string,
    hex: string,
  ): Promise<{ entry: Entry; op: "remove" | "leave" } | null> {
    const g = this.#groups.get(id);
    if (!g?.membership.ever.has(hex) || g.membership.members.has(hex)) return null;
    const fold = new MembershipFold(id);
    let last: { entry: Entry; op: "remove" | "leave" } | null = null;
    for (const e of await this.#log.read(id)) {
      if (!isGroupOp(e.type)) continue;
      const v = fold.apply(e);
      if (!v.ok) continue;
      if (v.change.op === "remove" && v.change.member === hex) last = { entry: e, op: "remove" };
      else if (v.change.op === "leave" && v.change.author === hex) {
        last = { entry: e, op: "leave" };
      } else if (v.change.op === "add" && v.change.member === hex) last = null;
    }
    return last;
  }

  /** Whether this node is a device of the person (it signs, the person is the member). */
  get onDevice(): boolean {
    return this.#device !== undefined;
  }

  /** The epoch keys of group `id` that open here, oldest first, the newest `max`: for a device. */
  async openedKeys(id: string, max: number): Promise<{ epoch: string; key: Uint8Array }[]> {
    const out: { epoch: string; key: Uint8Array }[] = [];
    const epochs = this.#groups.get(id)?.membership.epochs ?? [];
    const ids = [
      ...new Set([...epochs.map((e) => e.id), ...(this.#carried.get(id)?.keys() ?? [])]),
    ];
    for (const epoch of ids) {
      const key = await this.epochKey(id, epoch);
      if (key) out.push({ epoch, key });
    }
    return out.slice(-max);
  }

  /** On a device: keeps epoch keys handed by the person key's node; resolves with those new here. */
  async takeKeys(
    id: string,
    handed: ReadonlyArray<{ epoch: string; key: Uint8Array }>,
  ): Promise<string[]> {
    if (!this.#device) return [];
    const fresh = await this.#device.handed.take(id, handed);
    for (const epoch of fresh) this.#keys.get(id)?.delete(epoch);
    return fresh;
  }

  /** A membership change signed by a device would not count (the person is the member). */
  #notOnDevice(): void {
    const why = "group changes are made by your device that holds your key; none is online";
    if (this.#device) throw new RojError("refused", why, { retryable: true });
  }

  // ---- writing ------------------------------------------------------------

  /** Founds a group with this node as its only member and admin. */
  async create(signer: Signer, name: string, taken: Iterable<string>): Promise<Group> {
    this.#notOnDevice();
    const clean = name.trim();
    if (clean === "" || clean.length > MAX_GROUP_NAME) {
      throw new RojError("bad_input", `a group name is 1 to ${MAX_GROUP_NAME} characters`);
    }
    if (this.#groups.size >= MAX_GROUPS) {
      throw new RojError("refused", `this node keeps at most ${MAX_GROUPS} groups`);
    }
    const nonce = crypto.getRandomValues(new Uint8Array(GROUP_NONCE_BYTES));
    const id = groupChatId(signer.publicKey, nonce);
    const body = {
      name: clean,
      nonce: base64.encode(nonce),
      keys: await sealGroupKey(id, newGroupKey(), [signer.publicKey], this.#agreeKeyOf),
    };
    await this.#log.append(id, signer, GROUP_OPS.create, JSON.stringify(body));
    return await this.register(id, clean, taken);
  }

  #mustBe(id: string, admin: boolean): Group {
    const g = this.#groups.get(id);
    if (!g) throw new RojError("not_found", "no such group");
    if (!g.membership.members.has(this.#me)) {
      throw new RojError("refused", `you are no longer a member of ${g.name}`);
    }
    if (admin && !g.membership.admins.has(this.#me)) {
      throw new RojError("refused", `only an admin of ${g.name} may do that`);
    }
    return g;
  }

  /** Appends a membership change carrying a fresh key for `recipients`. */
  async #change(
    signer: Signer,
    id: string,
    type: string,
    body: Record<string, unknown>,
    recipients: Iterable<Uint8Array> | null,
    opts: WriteOptions = {},
  ): Promise<Entry> {
    this.#notOnDevice();
    const withKeys = recipients
      ? { ...body, keys: await sealGroupKey(id, newGroupKey(), recipients, this.#agreeKeyOf) }
      : body;
    const e = await this.#write(id, signer, type, JSON.stringify(withKeys), opts);
    await this.refresh(id);
    return e;
  }

  /**
   * Adds people; each add starts an epoch sealed to the members after it.
   * People already in the group are skipped.
   * @throws {RojError} refused when not an admin, or the group would be too big.
   */
  async add(
    signer: Signer,
    id: string,
    people: ReadonlyArray<{ key: Uint8Array; name: string }>,
    opts: WriteOptions = {},
  ): Promise<Entry[]> {
    const g = this.#mustBe(id, true);
    const fresh = people.filter((p, i) =>
      !g.membership.members.has(toHex(p.key)) &&
      people.findIndex((q) => toHex(q.key) === toHex(p.key)) === i
    );
    if (g.membership.members.size + fresh.length > MAX_MEMBERS) {
      throw new RojError("refused", `a group has at most ${MAX_MEMBERS} members`);
    }
    const out: Entry[] = [];
    for (const p of fresh) {
      const now = this.#groups.get(id)!.membership;
      const recipients = [...[...now.members.values()].map((m) => m.key), p.key];
      out.push(
        await this.#change(
          signer,
          id,
          GROUP_OPS.add,
          {
            member: publicKeyLine(p.key),
            name: p.name.slice(0, MAX_GROUP_NAME),
          },
          recipients,
          opts,
        ),
      );
    }
    return out;
  }

  /** Removes a member; the new epoch is sealed to everyone else. @throws {RojError} */
  remove(signer: Signer, id: string, member: Uint8Array, opts: WriteOptions = {}): Promise<Entry> {
    const g = this.#mustBe(id, true);
    const k = toHex(member);
    if (!g.membership.members.has(k)) throw new RojError("not_found", "not a member");
    if (k === this.#me) throw new RojError("bad_input", "to leave the group, use leave");
    const rest = [...g.membership.members.entries()].filter(([h]) => h !== k).map(([, m]) => m.key);
    return this.#change(
      signer,
      id,
      GROUP_OPS.remove,
      { member: publicKeyLine(member) },
      rest,
      opts,
    );
  }

  /** Makes a member an admin. @throws {RojError} */
  promote(signer: Signer, id: string, member: Uint8Array, opts: WriteOptions = {}): Promise<Entry> {
    const g = this.#mustBe(id, true);
    const k = toHex(member);
    if (!g.membership.members.has(k)) throw new RojError("not_found", "not a member");
    if (g.membership.admins.has(k)) throw new RojError("exists", "already an admin");
    const body = { member: publicKeyLine(member) };
    return this.#change(signer, id, GROUP_OPS.promote, body, null, opts);
  }

  /** Leaves the group. @throws {RojError} refused when not a member. */
  leave(signer: Signer, id: string, opts: WriteOptions = {}): Promise<Entry> {
    this.#mustBe(id, false);
    return this.#change(signer, id, GROUP_OPS.leave, {}, null, opts);
  }

  /** Starts a new epoch sealed to the current members. @throws {RojError} refused when not a member. */
  rekey(signer: Signer, id: string, opts: WriteOptions = {}): Promise<Entry> {
    const g = this.#mustBe(id, false);
    const recipients = [...g.membership.members.values()].map((m) => m.key);
    return this.#change(signer, id, GROUP_OPS.rekey, {}, recipients, opts);
  }

  #write(id: string, signer: Signer, type: string, body: string, opts: WriteOptions) {
    const item = { type, body, ...(opts.ts !== undefined ? { ts: opts.ts } : {}) };
    const ungated = opts.ungated ? { ungated: true } : {};
    return this.#log.appendMany(id, signer, [item], ungated).then(([e]) => e!);
  }

  /**
   * The key of `epoch` from the sealed keys `entries` carry (entries no
   * longer in the log: a re-base's set-aside ones), when sealed to this node.
   */
  async epochKeyIn(
    id: string,
    epoch: string,
    entries: readonly Entry[],
  ): Promise<Uint8Array | null> {
    const known = await this.epochKey(id, epoch);
    if (known) return known;
    const e = entries.find((x) => isGroupOp(x.type) && epochId(x) === epoch);
    const sealed = e && carriedKeys(e)?.get(this.#me);
    return sealed ? await openGroupKey(this.openers(), id, sealed) : null;
  }

  /**
   * Appends an encrypted message (or, with `type`, a reply, edit, retraction
   * or reaction: messages/, encrypted the same way), first a rekey when no
   * epoch is sealed to exactly the current members. Resolves with the
   * entries appended.
   * @throws {RojError} refused when not a member, bad_input when too long.
   */
  async send(
    signer: Signer,
    id: string,
    text: string,
    type = "msg",
    opts: WriteOptions = {},
  ): Promise<Entry[]> {
    const out: Entry[] = [];
    for (let attempt = 0;; attempt++) {
      // Entries from peers may change the members at any await: judge afresh each time.
      const g = this.#mustBe(id, false);
      const epoch = writeEpoch(g.membership, this.#me);
      const key = epoch && await this.epochKey(id, epoch.id);
      if (epoch && key) {
        const body = encryptGroupMessage(key, id, signer.publicKey, epoch.id, text);
        if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
          throw new RojError(
            "bad_input",
            "the message is too long for a group (about 48 KB at most)",
          );
        }
        out.push(await this.#write(id, signer, type, body, opts));
        return out;
      }
      if (this.#device) {
        // Its rekey would not count: it waits for the key from the device with the person key.
        throw new RojError("busy", "waiting for this group's key from your other device", {
          retryable: true,
        });
      }
      if (attempt >= 3) {
        throw new RojError("busy", "the group's members keep changing; try again", {
          retryable: true,
        });
      }
      // No key sealed to exactly the members (or ours does not open): start one.
      const recipients = [...g.membership.members.values()].map((m) => m.key);
      out.push(await this.#change(signer, id, GROUP_OPS.rekey, {}, recipients, opts));
    }
  }

  // ---- reading --------------------------------------------------------------

  /**
   * Entries as a person reads them: messages decrypted ("(cannot decrypt)"
   * when this node holds no key for their epoch), membership changes as
   * sentences. `name` shows a member (hex) by the name this node uses.
   */
  async lines(
    id: string,
    entries: readonly Entry[],
    name: (hex: string) => string,
    options: { all?: readonly Entry[] } = {},
  ): Promise<GroupLine[]> {
    // Whether an author was a member at their message needs the fold up to it.
    const all = options.all ?? entries;
    const fold = new MembershipFold(id);
    const wanted = new Set(entries.map((e) => toHex(e.hash)));
    const out: GroupLine[] = [];
    for (const e of all) {
      let text: string;
      const shown = wanted.has(toHex(e.hash));
      if (isGroupOp(e.type)) {
        const v = fold.apply(e);
        text = v.ok ? describe(v.change, name) : `(${name(toHex(e.author))}: ignored, ${v.reason})`;
      } else if (!shown) continue;
      // A file's text is its manifest (files/group_file_crypto.ts), encrypted like a message.
      else if (!CONTENT_TYPES.has(e.type) && e.type !== GROUP_FILE_TYPE) text = `(${e.type})`;
      else if (!this.#authorIn(id, fold, e)) text = "(written by someone not in the group)";
      else {
        // Parsed once for its epoch and its text (a catch-up shows thousands).
        const m = parseGroupMessage(e.body);
        const key = m && (this.#keys.get(id)?.get(m.epoch) ?? await this.epochKey(id, m.epoch));
        text = (key && m && openGroupMessage(key, id, e.author, m)) ?? "(cannot decrypt)";
      }
      if (shown) out.push({ entry: e, text });
    }
    return out;
  }

  /** Whether an entry's author is a member at that point, or a device that spoke for one then. */
  #authorIn(id: string, fold: MembershipFold, e: Entry): boolean {
    if (fold.isMember(toHex(e.author))) return true;
    for (const [hex, key] of this.#groups.get(id)?.membership.ever ?? []) {
      if (fold.isMember(hex) && this.speaksFor(key, e.author, e.ts)) return true;
    }
    return false;
  }
}

function seedReady(kp: KeyPair): boolean {
  try {
    return kp.seed.length === 32;
  } catch {
    return false;
  }
}
