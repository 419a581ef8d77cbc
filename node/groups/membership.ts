/**
 * Group membership as a pure fold over the group's own chat log.
 *
 * Membership changes are signed entries in the group chat, like messages:
 *
 *   group.create   {name, nonce, keys}     founds the group; the chat id is
 *                                           groupChatId(author, nonce)
 *   group.add      {member, name, keys}    member: OpenSSH public key line
 *   group.remove   {member, keys}
 *   group.leave    {}
 *   group.promote  {member}
 *   group.rekey    {keys}                  a new epoch key, same members
 *   group.hello    {name}                  the name the author gives themself (on joining)
 *
 * `keys` maps each recipient (lowercase hex of the raw ed25519 key) to the
 * epoch's group key sealed to it (base64); see group_crypto.ts.
 *
 * The rule for concurrent changes is deterministic: entries are folded in
 * display order (Lamport, author, seq) — the order ChatLog.read returns — and
 * each one is judged against the state the entries before it produced:
 *
 * - the first `group.create` whose author and nonce hash to the chat id founds
 *   the group: its author is the first member and the first admin. Anything
 *   before it, and any later create, is ignored;
 * - add, remove and promote count only when their author is an admin at that
 *   point; add needs a non-member (re-adding someone removed is fine), remove
 *   and promote a current member; an admin cannot remove themself (they leave);
 * - leave counts when its author is a current member. When the last admin
 *   leaves, the longest-standing remaining member becomes admin, so a group
 *   with members always has one;
 * - rekey counts when its author is a current member;
 * - hello counts when its author is a current member: the name they give
 *   themself (the profile name's rule: 1-40 letters, digits, spaces, . _ @ + -),
 *   shown to members who do not have them as a contact. Older nodes store it
 *   like any entry and show it as "(group.hello)";
 * - create, add, remove and rekey that count start a new epoch, identified by
 *   the hash of their entry (stable on every node, unlike a counter, which two
 *   admins changing the group at once would both claim).
 *
 * Entries that do not count are still stored (they are signed and chained);
 * they just change nothing. Two concurrent changes therefore resolve the same
 * way everywhere: e.g. an admin removed "at the same time" as they add someone
 * adds nobody if the removal sorts first.
 *
 * Known limit of Lamport order: an author chooses its own clock, so a removed
 * admin can still write a change that sorts *before* its removal (backdating).
 * Members see it in the log; it does not let the removed admin read anything
 * written after the removal (they get no later epoch key).
 */
import { z } from "zod";
import { parsePublicKeyLine } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { base64 } from "@scure/base";
import { GROUP_NONCE_BYTES, groupChatId } from "./group_id.ts";

/** Entry types that change a group. */
export const GROUP_OPS = {
  create: "group.create",
  add: "group.add",
  remove: "group.remove",
  leave: "group.leave",
  promote: "group.promote",
  rekey: "group.rekey",
  hello: "group.hello",
} as const;

/** Most members a group may have (each membership change carries a sealed key per member). */
export const MAX_MEMBERS = 200;
/** Longest group or member name kept from an entry, in characters. */
export const MAX_GROUP_NAME = 64;

/** What the fold reads of an entry. */
export interface FoldEntry {
  readonly author: Uint8Array;
  readonly seq: number;
  readonly lamport: number;
  readonly type: string;
  readonly body: string;
  /** SHA-256 of the entry's signed bytes: names the epoch it may start. */
  readonly hash: Uint8Array;
}

export interface Member {
  readonly key: Uint8Array;
  /** The name the adder gave (the founder's own name for the founder). */
  readonly name: string;
  /** Position of the join in the fold; smaller joined earlier. */
  readonly joined: number;
}

/** One group key generation. */
export interface Epoch {
  /** Hex of the first 16 bytes of the hash of the entry that started it. */
  readonly id: string;
  /** Author (hex) of that entry. */
  readonly author: string;
  readonly lamport: number;
  /** Recipient (hex) → the key sealed to them (base64). */
  readonly keys: ReadonlyMap<string, string>;
  /** The members (hex) right after the entry that started it. */
  readonly members: ReadonlySet<string>;
}

export interface Membership {
  /** The name from group.create; null before a valid create. */
  readonly name: string | null;
  /** The founder (hex); null before a valid create. */
  readonly founder: string | null;
  /** Current members by hex key. */
  readonly members: ReadonlyMap<string, Member>;
  /** Current admins (hex), always members. */
  readonly admins: ReadonlySet<string>;
  /** Everyone who was ever a member (hex → key): whose entries belong in the chat. */
  readonly ever: ReadonlyMap<string, Uint8Array>;
  /** The name each of them was last added under (hex → name). */
  readonly names: ReadonlyMap<string, string>;
  /** The name each gave themself in their latest group.hello (hex → name). */
  readonly selfNames: ReadonlyMap<string, string>;
  /** Every epoch, oldest first (fold order). */
  readonly epochs: readonly Epoch[];
}

/** What one entry did. */
export type Change =
  | { readonly op: "create"; readonly author: string; readonly name: string }
  | { readonly op: "add"; readonly author: string; readonly member: string; readonly name: string }
  | { readonly op: "remove"; readonly author: string; readonly member: string }
  | { readonly op: "leave"; readonly author: string; readonly promoted: string | null }
  | { readonly op: "promote"; readonly author: string; readonly member: string }
  | { readonly op: "rekey"; readonly author: string }
  | { readonly op: "hello"; readonly author: string; readonly name: string };

export type Verdict =
  | { readonly ok: true; readonly change: Change; readonly epoch: Epoch | null }
  | { readonly ok: false; readonly reason: string };

const hexKey = z.string().regex(/^[0-9a-f]{64}$/);
const sealedKeys = z.record(hexKey, z.string().min(1).max(400)).refine(
  (r) => Object.keys(r).length <= MAX_MEMBERS + 1,
  "too many keys",
);
const keyLine = z.string().min(1).max(600);
const name = z.string().min(1).max(MAX_GROUP_NAME);
/** A name someone gives themself: the rule of a profile's name (home/profile.ts checkName). */
export const SELF_NAME_RE = /^[\p{L}\p{N} ._@+-]{1,40}$/u;

const bodies = {
  [GROUP_OPS.create]: z.object({ name, nonce: z.string().max(64), keys: sealedKeys.optional() }),
  [GROUP_OPS.add]: z.object({
    member: keyLine,
    name: name.optional(),
    keys: sealedKeys.optional(),
  }),
  [GROUP_OPS.remove]: z.object({ member: keyLine, keys: sealedKeys.optional() }),
  [GROUP_OPS.leave]: z.object({}),
  [GROUP_OPS.promote]: z.object({ member: keyLine }),
  [GROUP_OPS.rekey]: z.object({ keys: sealedKeys }),
  [GROUP_OPS.hello]: z.object({ name: z.string().max(40).regex(SELF_NAME_RE) }),
} as const;

type Op = keyof typeof bodies;

/** Whether an entry type is a membership change (and so worth refolding for). */
export function isGroupOp(type: string): boolean {
  return Object.hasOwn(bodies, type);
}

function parseBody<T extends Op>(type: T, body: string): z.infer<(typeof bodies)[T]> | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const res = bodies[type].safeParse(json);
  return res.success ? res.data as z.infer<(typeof bodies)[T]> : null;
}

function parseMember(line: string): { key: Uint8Array; comment: string } | null {
  try {
    const { publicKey, comment } = parsePublicKeyLine(line);
    return { key: publicKey, comment };
  } catch {
    return null;
  }
}

const no = (reason: string): Verdict => ({ ok: false, reason });

/**
 * The fold, one entry at a time; `members()` runs it over a whole log. Feed
 * entries in display order. Also tells, between entries, who is a member at
 * that point (for showing messages by someone removed).
 */
export class MembershipFold {
  readonly #chat: string | undefined;
  #name: string | null = null;
  #founder: string | null = null;
  readonly #members = new Map<string, Member>();
  readonly #admins = new Set<string>();
  readonly #ever = new Map<string, Uint8Array>();
  readonly #names = new Map<string, string>();
  readonly #selfNames = new Map<string, string>();
  readonly #epochs: Epoch[] = [];
  #joins = 0;

  /** With `chat`, a create counts only when its author and nonce hash to it. */
  constructor(chat?: string) {
    this.#chat = chat;
  }

  isMember(hex: string): boolean {
    return this.#members.has(hex);
  }

  isAdmin(hex: string): boolean {
    return this.#admins.has(hex);
  }

  /** Judges one entry against the state so far and applies it if it counts. */
  apply(e: FoldEntry): Verdict {
    if (!isGroupOp(e.type)) return no("not a membership change");
    const type = e.type as Op;
    const author = toHex(e.author);
    if (this.#founder === null) {
      if (type !== GROUP_OPS.create) return no("the group is not founded yet");
      const body = parseBody(GROUP_OPS.create, e.body);
      if (!body) return no("malformed group.create");
      let nonce: Uint8Array;
      try {
        nonce = base64.decode(body.nonce);
      } catch {
        return no("malformed group.create nonce");
      }
      if (nonce.length !== GROUP_NONCE_BYTES) return no("malformed group.create nonce");
      if (this.#chat !== undefined && groupChatId(e.author, nonce) !== this.#chat) {
        return no("group.create does not match the chat id");
      }
      this.#name = body.name;
      this.#founder = author;
      this.#join(author, e.author, body.name);
      this.#admins.add(author);
      return this.#changed(e, { op: "create", author, name: body.name }, body.keys);
    }
    switch (type) {
      case GROUP_OPS.create:
        return no("the group is already founded");
      case GROUP_OPS.add: {
        if (!this.#admins.has(author)) return no("only an admin may add members");
        const body = parseBody(type, e.body);
        const m = body && parseMember(body.member);
        if (!body || !m) return no("malformed group.add");
        const hex = toHex(m.key);
        if (this.#members.has(hex)) return no("already a member");
        if (this.#members.size >= MAX_MEMBERS) return no(`the group is full (${MAX_MEMBERS})`);
        const shown = body.name ?? m.comment.slice(0, MAX_GROUP_NAME);
        this.#join(hex, m.key, shown || hex.slice(0, 8));
        return this.#changed(
          e,
          { op: "add", author, member: hex, name: this.#members.get(hex)!.name },
          body.keys,
        );
      }
      case GROUP_OPS.remove: {
        if (!this.#admins.has(author)) return no("only an admin may remove members");
        const body = parseBody(type, e.body);
        const m = body && parseMember(body.member);
        if (!body || !m) return no("malformed group.remove");
        const hex = toHex(m.key);
        if (!this.#members.has(hex)) return no("not a member");
        if (hex === author) return no("an admin leaves rather than removing themself");
        this.#members.delete(hex);
        this.#admins.delete(hex);
        return this.#changed(e, { op: "remove", author, member: hex }, body.keys);
      }
      case GROUP_OPS.leave: {
        if (!this.#members.has(author)) return no("not a member");
        if (!parseBody(type, e.body)) return no("malformed group.leave");
        this.#members.delete(author);
        this.#admins.delete(author);
        let promoted: string | null = null;
        if (this.#admins.size === 0 && this.#members.size > 0) {
          // The longest-standing member takes over, so the group is never headless.
          promoted = [...this.#members.entries()].sort((a, b) => a[1].joined - b[1].joined)[0]![0];
          this.#admins.add(promoted);
        }
        return this.#changed(e, { op: "leave", author, promoted }, undefined);
      }
      case GROUP_OPS.promote: {
        if (!this.#admins.has(author)) return no("only an admin may promote");
        const body = parseBody(type, e.body);
        const m = body && parseMember(body.member);
        if (!body || !m) return no("malformed group.promote");
        const hex = toHex(m.key);
        if (!this.#members.has(hex)) return no("not a member");
        if (this.#admins.has(hex)) return no("already an admin");
        this.#admins.add(hex);
        return this.#changed(e, { op: "promote", author, member: hex }, undefined);
      }
      case GROUP_OPS.rekey: {
        if (!this.#members.has(author)) return no("only a member may rekey");
        const body = parseBody(type, e.body);
        if (!body) return no("malformed group.rekey");
        return this.#changed(e, { op: "rekey", author }, body.keys);
      }
      case GROUP_OPS.hello: {
        if (!this.#members.has(author)) return no("not a member");
        const body = parseBody(type, e.body);
        if (!body) return no("malformed group.hello");
        this.#selfNames.set(author, body.name);
        return this.#changed(e, { op: "hello", author, name: body.name }, undefined);
      }
    }
  }

  #join(hex: string, key: Uint8Array, name: string): void {
    this.#members.set(hex, { key, name, joined: this.#joins++ });
    this.#ever.set(hex, key);
    this.#names.set(hex, name);
  }

  #changed(e: FoldEntry, change: Change, keys: Record<string, string> | undefined): Verdict {
    let epoch: Epoch | null = null;
    if (keys !== undefined) {
      epoch = {
        id: epochId(e),
        author: change.author,
        lamport: e.lamport,
        keys: new Map(Object.entries(keys)),
        members: new Set(this.#members.keys()),
      };
      this.#epochs.push(epoch);
    }
    return { ok: true, change, epoch };
  }

  /** The state after the entries applied so far (copies). */
  snapshot(): Membership {
    return {
      name: this.#name,
      founder: this.#founder,
      members: new Map(this.#members),
      admins: new Set(this.#admins),
      ever: new Map(this.#ever),
      names: new Map(this.#names),
      selfNames: new Map(this.#selfNames),
      epochs: this.#epochs.slice(),
    };
  }
}

/**
 * Folds a group's entries, given in display order, into its membership.
 * Non-membership entries (messages) are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { members } from "./membership.ts";
 *
 * assert.equal(members([]).members.size, 0);
 * ```
 */
export function members(entries: Iterable<FoldEntry>, chat?: string): Membership {
  const fold = new MembershipFold(chat);
  for (const e of entries) if (isGroupOp(e.type)) fold.apply(e);
  return fold.snapshot();
}

/** The epoch id an entry would start: hex of the first 16 bytes of its hash. */
export function epochId(e: Pick<FoldEntry, "hash">): string {
  return toHex(e.hash.subarray(0, 16));
}

/**
 * The sealed keys a membership entry carries (recipient hex → base64), valid
 * change or not; null when it carries none. Readers may open a key from an
 * entry that did not count: the writer who used it chose its recipients.
 */
export function carriedKeys(e: FoldEntry): ReadonlyMap<string, string> | null {
  if (!isGroupOp(e.type)) return null;
  try {
    const keys = (JSON.parse(e.body) as { keys?: unknown })?.keys;
    const res = sealedKeys.safeParse(keys);
    return res.success ? new Map(Object.entries(res.data)) : null;
  } catch {
    return null;
  }
}

/** Whether two sets of hex keys are equal. */
function sameSet(a: ReadonlySet<string> | Iterable<string>, b: ReadonlySet<string>): boolean {
  let n = 0;
  for (const x of a) {
    if (!b.has(x)) return false;
    n++;
  }
  return n === b.size;
}

/**
 * The epoch a member writes with: the newest whose key was sealed to exactly
 * the current members (so nobody removed can open it and every member can),
 * and to `me`. Null when there is none: the writer then starts one with a
 * `group.rekey` (any member may).
 *
 * This is stricter than "the newest epoch": two admins changing the group at
 * once may each seal a key to a member list the other's change made stale;
 * such an epoch is never used to write, so a removed member never receives a
 * key to anything written after the writer saw the removal.
 */
export function writeEpoch(m: Membership, me: string): Epoch | null {
  if (!m.members.has(me)) return null;
  const current = new Set(m.members.keys());
  for (let i = m.epochs.length - 1; i >= 0; i--) {
    const e = m.epochs[i]!;
    if (e.keys.has(me) && sameSet(e.keys.keys(), current)) return e;
  }
  return null;
}
