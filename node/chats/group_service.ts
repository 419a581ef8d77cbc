/**
 * Group chats on a running node: founding and changing membership, taking in
 * entries from members (refolding membership, showing them, passing them on)
 * and adopting a group that names us a member, offered by a peer or pointed
 * out through an anchor's mailbox.
 */
import type { GroupStateView, GroupView } from "../api/mod.ts";
import type { Clock, TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import {
  type Group,
  GROUP_OPS,
  type GroupBook,
  isGroupOp,
  JoinCandidate,
  MAX_GROUPS,
  SELF_NAME_RE,
} from "../groups/mod.ts";
import { fingerprint, type Signer, type VerifierPool } from "../identity/mod.ts";
import { type ChatLog, type Entry, type RawEntry, toHex } from "../log/mod.ts";
import { encodeB64, type ParamsOf } from "../protocol/mod.ts";
import type { GroupMailbox } from "../mailbox/mod.ts";
import { groupView } from "../views/mod.ts";
import { type ChatDirectory, groupRef } from "./chat_directory.ts";
import type { ChatService } from "./chat_service.ts";
import type { SessionSyncs } from "./session_syncs.ts";

/** Who brought a group we joined: a member's offer, or an anchor's mailbox. */
export interface JoinedVia {
  readonly via: "offer" | "mailbox";
  /** The contact, or the anchor. */
  readonly from: string;
}

/** How long a member waits before passing received group entries on (see #forwardLater). */
const FORWARD_DELAY_MS = 100;

export interface GroupServiceDeps {
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly groups: GroupBook;
  readonly verifier: VerifierPool;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly syncs: SessionSyncs;
  readonly mailbox: GroupMailbox;
  readonly bus: EventBus;
  readonly clock: Clock;
}

export class GroupService {
  readonly #d: GroupServiceDeps;
  /** Per group, the message events still being prepared (decrypted) for display. */
  readonly #showing = new Map<string, Promise<void>>();
  /** Per group, a forward of received entries waiting (see #forwardLater). */
  readonly #forwarding = new Map<string, TimerId>();
  #closed = false;
  /**
   * On a device of a person: membership changes go to the device with the
   * person key (node/device_sync group_sync.ts), which makes them and hands
   * the result back; resolves with the group's id.
   */
  delegate: ((op: ParamsOf<"devsync.gop">) => Promise<string>) | undefined;

  constructor(deps: GroupServiceDeps) {
    this.#d = deps;
  }

  /** On a device: has the person key's node make `op`, and shows the group as it is then. */
  async #delegated(op: ParamsOf<"devsync.gop">): Promise<GroupView> {
    const id = await this.delegate!(op);
    // The entries are in the log by now (maybe through a member first): fold them.
    if (this.#d.groups.get(id)) await this.#d.groups.refresh(id);
    const g = this.#d.groups.get(id);
    if (!g) throw new RojError("internal", "your other device made the change; it is not here yet");
    return this.view(g);
  }

  #onDevice(): boolean {
    return this.#d.groups.onDevice && this.delegate !== undefined;
  }

  view(g: Group): GroupView {
    const latest = this.#d.groups.get(g.id) ?? g;
    return groupView(latest, this.#d.me, this.#d.chats.memberName(latest));
  }

  async create(name: string): Promise<GroupView> {
    if (this.#onDevice()) return await this.#delegated({ op: "create", name, members: [] });
    const g = await this.#d.groups.create(this.#d.signer, name, this.#d.directory.takenNames());
    this.#d.bus.say(`created group ${g.name} (${g.id})`);
    await this.#hello(g.id);
    return this.view(g);
  }

  async add(group: string, names: readonly string[]): Promise<GroupView> {
    const g = this.#d.directory.group(group);
    const people = names.map((n) => {
      const c = this.#d.directory.contact(n);
      return { key: c.publicKey, name: c.name };
    });
    if (this.#onDevice()) {
      const members = people.map((p) => ({ key: encodeB64(p.key), name: p.name.slice(0, 64) }));
      return await this.#delegated({ op: "add", group: g.id, members });
    }
    return await this.#changed(g.id, await this.#d.groups.add(this.#d.signer, g.id, people));
  }

  async remove(group: string, member: string): Promise<GroupView> {
    const g = this.#d.directory.group(group);
    if (this.#onDevice()) return await this.#delegated(this.#memberOp("remove", g, member));
    const e = await this.#d.groups.remove(this.#d.signer, g.id, this.#memberByName(g, member));
    return await this.#changed(g.id, [e]);
  }

  async promote(group: string, member: string): Promise<GroupView> {
    const g = this.#d.directory.group(group);
    if (this.#onDevice()) return await this.#delegated(this.#memberOp("promote", g, member));
    const e = await this.#d.groups.promote(this.#d.signer, g.id, this.#memberByName(g, member));
    return await this.#changed(g.id, [e]);
  }

  async leave(group: string): Promise<{ left: string }> {
    const g = this.#d.directory.group(group);
    if (this.#onDevice()) {
      await this.#delegated({ op: "leave", group: g.id, members: [] });
      return { left: g.name };
    }
    await this.#changed(g.id, [await this.#d.groups.leave(this.#d.signer, g.id)]);
    return { left: g.name };
  }

  /** Whether this node is still in `group`; if not, how it left and whether it is deleted from the list. */
  async state(group: string): Promise<GroupStateView> {
    const g = this.#d.directory.group(group);
    const me = toHex(this.#d.me);
    const gone = await this.#d.groups.departure(g.id, me);
    return {
      name: g.name,
      id: g.id,
      member: g.membership.members.has(me),
      departed: gone?.op === "remove" ? "removed" : gone ? "left" : null,
      by: gone?.op === "remove" ? this.#d.chats.memberName(g)(toHex(gone.entry.author)) : null,
      at: gone?.entry.ts ?? null,
      hidden: this.#d.directory.hidden?.has(g.id) ?? false,
    };
  }

  /**
   * Deletes a group this node is out of from the list (its history stays, readable by name).
   * @throws {RojError} refused while a member
   */
  async forget(group: string): Promise<{ forgot: string }> {
    const g = this.#d.directory.group(group);
    if (g.membership.members.has(toHex(this.#d.me))) {
      throw new RojError("refused", `you are a member of ${g.name}: leave it first`);
    }
    if (!this.#d.directory.hidden) throw new RojError("internal", "no list of deleted groups");
    await this.#d.directory.hidden.hide(g.id);
    this.#d.bus.say(`deleted group ${g.name} from the list`);
    return { forgot: g.name };
  }

  /**
   * A current member of `g` by the name shown here, their fingerprint, or
   * (for someone not a contact) the name they were added under.
   * @throws {RojError} not_found
   */
  #memberByName(g: Group, wanted: string): Uint8Array {
    const name = this.#d.chats.memberName(g);
    const lower = wanted.toLowerCase();
    for (const [hex, m] of g.membership.members) {
      if (name(hex).toLowerCase() === lower || fingerprint(m.key) === wanted) return m.key;
    }
    throw new RojError(
      "not_found",
      `${JSON.stringify(wanted.slice(0, 40))} is not a member of ${g.name}`,
    );
  }

  #memberOp(op: "remove" | "promote", g: Group, member: string): ParamsOf<"devsync.gop"> {
    const key = this.#memberByName(g, member);
    const name = this.#d.chats.memberName(g)(toHex(key)).slice(0, 64) || "member";
    return { op, group: g.id, members: [{ key: encodeB64(key), name }] };
  }

  /** After a local membership change: show it and push it to everyone concerned. */
  async #changed(id: string, entries: Entry[]): Promise<GroupView> {
    const g = this.#d.groups.get(id)!;
    for (const v of await this.#d.chats.views(groupRef(g), entries)) {
      this.#d.bus.emit({ type: "message", message: v });
      this.#d.bus.say(`group ${g.name}: ${v.body}`);
    }
    this.reconcile(id);
    return this.view(g);
  }

  /** Brings sessions and the anchors' mailboxes in line with group `id`. */
  reconcile(id: string): void {
    this.#d.mailbox.changed(id);
    this.#d.syncs.reconcile(id);
  }

  /**
   * A peer pushed group entries we did not have: refold if membership moved
   * (before the push is answered), then show them and pass them on.
   */
  async stored(id: string, entries: Entry[]): Promise<void> {
    if (entries.some((e) => isGroupOp(e.type))) {
      const { before, after } = await this.#d.groups.refresh(id);
      const me = toHex(this.#d.me);
      const g = this.#d.groups.get(id);
      if (g && before.members.has(me) && !after.members.has(me)) {
        this.#d.bus.say(`you are no longer a member of group ${g.name}`);
        this.#d.bus.emit({ type: "group", op: "removed", group: g.name, id });
      }
      this.reconcile(id);
    } else this.#forwardLater(id);
    const ref = this.#d.directory.byId(id);
    if (!ref) return;
    // Not awaited: decrypting needs the chat's history, and the peer need not wait for it.
    // Queued per group, so events keep the order the entries arrived in.
    const shown = (this.#showing.get(id) ?? Promise.resolve())
      .then(() => this.#d.chats.show(ref, entries))
      .catch(() => {});
    this.#showing.set(id, shown);
    shown.then(() => {
      if (this.#showing.get(id) === shown) this.#showing.delete(id);
    });
  }

  /**
   * Passes entries received from one member on to the others, a moment later
   * and only what each lacks: first their heads, then a push of the rest. In
   * a well-connected group the author's own push has reached nearly everyone
   * by then, so a forward costs one small request instead of every member
   * re-sending (and every receiver re-verifying) every entry to every other;
   * in a 20-member full mesh that flood took a message ~2 s to reach all
   * (bench group; ~0.3 s with this). Costs the entries that do need a forwarder up to
   * 2 x FORWARD_DELAY_MS per hop.
   */
  #forwardLater(id: string): void {
    if (this.#forwarding.has(id) || this.#closed) return;
    this.#d.mailbox.due(id);
    const delay = FORWARD_DELAY_MS * (1 + this.#d.clock.random());
    this.#forwarding.set(
      id,
      this.#d.clock.setTimeout(() => {
        this.#forwarding.delete(id);
        if (this.#closed) return;
        this.#d.mailbox.received(id);
        this.#d.syncs.forward(id);
      }, delay),
    );
  }

  /** Takes in a group that names us a member: its entries, its registration, the news. */
  async adopt(id: string, name: string | null, raws: RawEntry[], how: JoinedVia): Promise<void> {
    await this.#d.log.merge(id, raws);
    const g = this.#d.groups.get(id)
      ? (await this.#d.groups.refresh(id), this.#d.groups.get(id)!)
      : await this.#d.groups.register(id, name ?? "group", this.#d.directory.takenNames());
    await this.#d.directory.hidden?.show(id); // added again: back on the list
    const by = how.via === "offer" ? `offered by ${how.from}` : `through ${how.from}`;
    this.#d.bus.say(`joined group ${g.name} (${id}), ${by}`);
    this.#d.bus.emit({ type: "group", op: "joined", group: g.name, id, ...how });
    await this.#d.chats.show(groupRef(g), await this.#d.log.read(id, { last: 50 }));
    this.reconcile(id);
    await this.#hello(id);
  }

  /**
   * Tells the other members the name this node's person gives themself (a
   * group.hello), once a member and whenever it is not the one on record, so
   * that members who do not have them as a contact see a name, not a fingerprint.
   */
  async #hello(id: string): Promise<void> {
    const g = this.#d.groups.get(id);
    const me = toHex(this.#d.me);
    // A device's hello would not count (the person is the member): the person key's node says it.
    if (!g?.membership.members.has(me) || this.#d.groups.onDevice) return;
    const name = this.#d.chats.memberName(g)(me);
    if (g.membership.selfNames.get(me) === name || !SELF_NAME_RE.test(name)) return;
    const e = await this.#d.log.append(
      id,
      this.#d.signer,
      GROUP_OPS.hello,
      JSON.stringify({ name }),
    );
    await this.#d.groups.refresh(id);
    await this.#changed(id, [e]);
  }

  /**
   * A group an anchor holds mail for, pointed out to us by a member: adopt it
   * if its entries name us a member (checked in a scratch log, as an offered group is).
   */
  async joinFromMailbox(id: string, raws: RawEntry[], anchor: string): Promise<boolean> {
    const me = toHex(this.#d.me);
    if (this.#d.groups.get(id)?.membership.members.has(me)) return true;
    if (!this.#d.groups.get(id) && this.#d.groups.size >= MAX_GROUPS) return false;
    const candidate = await JoinCandidate.open(id, this.#d.verifier, await this.#d.syncs.known(id));
    try {
      await candidate.merge(raws);
      const m = await candidate.membership();
      if (!m.members.has(me)) return false;
      await this.adopt(
        id,
        m.name,
        await candidate.raws(new Set(m.ever.keys())),
        { via: "mailbox", from: anchor },
      );
      return true;
    } finally {
      candidate.close();
    }
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#forwarding.values()) this.#d.clock.clearTimeout(t);
    this.#forwarding.clear();
  }
}
