/**
 * Read receipts in groups (feature `greceipts`): the group form of
 * receipts.ts's. When the person reads a group, each member with a session
 * up here (a contact) is told "I have read your entries in this group up to
 * your #seq" (`chat.read` with the group's id), and again when a session
 * comes up (the newest only). A member's receipt for our entries is kept and
 * shown as "read" on our messages it covers: read by at least one member
 * (receipts travel only between contacts, so "read by everyone" could not be
 * known). The receipts settings apply as in direct chats: off for everyone or
 * for one contact, none are sent to them and none of theirs are shown.
 * Session frames only, never entries in a log, never through anchors.
 */
import type { EventBus } from "../events.ts";
import { RojError } from "../errors.ts";
import type { GroupBook } from "../groups/mod.ts";
import { toHex } from "../log/mod.ts";
import { GROUP_RECEIPTS_FEATURE, peerHas } from "../protocol/mod.ts";
import type { PeerSession } from "../peers/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { ChatDirectory } from "./chat_directory.ts";

export interface GroupReceiptsDeps {
  readonly me: Uint8Array;
  readonly store: Store;
  readonly bus: EventBus;
  readonly groups: GroupBook;
  readonly directory: ChatDirectory;
  /** Whether receipts go to and come from `peer` (receipts.ts on). */
  on(peer: Uint8Array): boolean;
  session(peer: Uint8Array): (PeerSession & { readonly anchor: boolean }) | undefined;
}

const k = (group: string, hex: string) => `${group}/${hex}`;

export class GroupReceipts {
  readonly #d: GroupReceiptsDeps;
  /** group/member hex → highest seq of our entries they read. */
  readonly #readBy = new Map<string, number>();

  private constructor(deps: GroupReceiptsDeps) {
    this.#d = deps;
  }

  static async open(deps: GroupReceiptsDeps): Promise<GroupReceipts> {
    const r = new GroupReceipts(deps);
    for await (const e of deps.store.kv.list<number>({ prefix: keys.groupReadByAll() })) {
      const [, group, member] = e.key;
      if (
        typeof group === "string" && member instanceof Uint8Array && typeof e.value === "number"
      ) {
        r.#readBy.set(k(group, toHex(member)), e.value);
      }
    }
    return r;
  }

  /** The highest seq of our entries in group `id` some member whose receipts are on read. */
  readUpTo(id: string): number {
    const g = this.#d.groups.get(id);
    let best = 0;
    for (const [hex, m] of g?.membership.members ?? []) {
      const seq = this.#readBy.get(k(id, hex));
      if (seq !== undefined && seq > best && this.#d.on(m.key)) best = seq;
    }
    return best;
  }

  /** The person read group `id`, up to these seqs (author hex → seq): keep them, tell the members. */
  async read(id: string, heads: ReadonlyMap<string, number>): Promise<void> {
    const g = this.#d.groups.get(id);
    const me = toHex(this.#d.me);
    if (!g?.membership.members.has(me)) return;
    for (const [hex, m] of g.membership.members) {
      const seq = heads.get(hex);
      if (hex === me || seq === undefined) continue;
      const key = keys.groupReadOf(id, m.key);
      const had = (await this.#d.store.kv.get<number>(key)).value ?? 0;
      if (seq <= had) continue;
      await this.#d.store.kv.set(key, seq);
      this.#send(m.key, id, seq);
    }
  }

  /** A session came up: our newest receipt for each group both are in. */
  async up(peer: Uint8Array): Promise<void> {
    const me = toHex(this.#d.me);
    const hex = toHex(peer);
    for (const g of this.#d.groups.all()) {
      if (!g.membership.members.has(me) || !g.membership.members.has(hex)) continue;
      const seq = (await this.#d.store.kv.get<number>(keys.groupReadOf(g.id, peer))).value;
      if (typeof seq === "number" && seq > 0) this.#send(peer, g.id, seq);
    }
  }

  #send(peer: Uint8Array, id: string, seq: number): void {
    const s = this.#d.session(peer);
    if (!s || s.anchor || s.rpc.closed || !this.#d.on(peer)) return;
    if (!peerHas(s.rpc.peerHello, GROUP_RECEIPTS_FEATURE)) return;
    s.rpc.request("chat.read", { chat: id, seq }).catch(() => {}); // the next session sends it again
  }

  /**
   * `peer`'s receipt for our entries in group `id`, which both must be in.
   * @throws {RojError} not_found for any other chat
   */
  async took(peer: Uint8Array, id: string, seq: number): Promise<void> {
    const g = this.#d.groups.get(id);
    const hex = toHex(peer);
    if (!g?.membership.members.has(hex) || !g.membership.members.has(toHex(this.#d.me))) {
      throw new RojError("not_found", "no such chat");
    }
    if (seq <= (this.#readBy.get(k(id, hex)) ?? 0)) return;
    // Kept while off but not shown (readUpTo skips them): turned on again, it shows.
    this.#readBy.set(k(id, hex), seq);
    await this.#d.store.kv.set(keys.groupReadBy(id, peer), seq);
    const ref = this.#d.directory.byId(id);
    if (ref && this.#d.on(peer)) this.#d.bus.emit({ type: "read", chat: ref.name, seq });
  }
}
