/**
 * A person's groups in step between the person's own devices (issue 13 item
 * 4, groups; item 6, their rekey at a removal), feature devgroups1, over the
 * sibling session (sibling_sync.ts: the other side is checked to be the
 * person key or a device the person certified, so the session authenticates).
 *
 * The member of a group is the person's key; a device signs with its own
 * key, certified by the person, so members take its entries as the person's
 * (SessionSyncs.groupAuthors, GroupBook.speaksFor). But the epoch keys are
 * sealed to the person's key, which a device does not hold: the node with
 * the person key opens them and hands them over (`devsync.groups`: the
 * group, its name, its newest MAX_HANDED_EPOCHS keys), at session up and
 * whenever the group moves, to each sibling that lists devgroups1 and still
 * speaks for the person. The group chat then syncs on every sibling session
 * like a direct chat, both ways (between two devices too).
 *
 * A membership change signed by a device would not count (the fold knows
 * members, not devices), so a device asks the node with the person key to
 * make it (`devsync.gop`), which answers once the sibling holds the result.
 *
 * When a device of ours is removed, the node with the person key rotates
 * every group the person is in (a `group.rekey` sealed to the members'
 * keys): the removed device is handed nothing after its removal, so it
 * cannot read what is written with the new key. Which removals were rekeyed
 * is kept (`keys.groupsRekeyed`), so a removal made while the node stopped
 * short is rekeyed at the next start.
 */
import type { Clock } from "../clock/mod.ts";
import { parseRevocation } from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Group, GroupBook } from "../groups/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import type { ChatLog, Entry } from "../log/mod.ts";
import {
  decodeB64,
  DEVSYNC_GROUPS_FEATURE,
  encodeB64,
  type ParamsOf,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { ChatSync, type ChatSyncOptions } from "../sync/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { admitsEntry, type OwnDevices } from "./own_devices.ts";

/** Epoch keys handed per group (the newest; the schema's cap, methods.ts). */
export const MAX_HANDED_EPOCHS = 64;
/** Groups per devsync.groups request (the schema's cap). */
export const MAX_HANDED_GROUPS = 16;

/** A membership change asked of the node with the person key. */
export type GroupOp = ParamsOf<"devsync.gop">;

export interface GroupSyncDeps {
  readonly kv: Deno.Kv;
  readonly own: OwnDevices;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly log: ChatLog;
  readonly groups: GroupBook;
  /** Whose entries group `id` takes on a session with `peer` (SessionSyncs.groupAuthors). */
  authors(id: string, peer: Uint8Array): Pick<ChatSyncOptions, "members" | "prepare" | "admits">;
  /** A sibling's entries of group `id` were stored (GroupService.stored). */
  stored(id: string, entries: Entry[]): Promise<void>;
  /** Registers a group handed by a sibling under a free local name. */
  register(id: string, name: string): Promise<Group>;
  /** On the node with the person key: makes a device's change (GroupService); the group's id. */
  perform(op: GroupOp): Promise<string>;
  /** On the node with the person key: a new epoch for group `id`, pushed to its members. */
  rekey(id: string): Promise<void>;
  /**
   * On the node with the person key, after the devices were reloaded and before any group is
   * rekeyed: the person's agreement key moves on past a removal (devagree1, agree_sync.ts).
   */
  rotated?(): Promise<void>;
}

/**
 * Whose entries a sibling's group sync takes: the members' (and their
 * devices'), and always the person's own. A group just handed to a device
 * has no entries yet, so no members: its founding entries, the person's,
 * would be refused, and with nobody else up it would stay empty.
 */
function withPerson(
  authors: ReturnType<GroupSyncDeps["authors"]>,
  person: Uint8Array,
): ReturnType<GroupSyncDeps["authors"]> {
  const { members, admits } = authors;
  return {
    ...authors,
    ...(members
      ? {
        members: () => {
          const all = members();
          return all.some((k) => bytesEqual(k, person)) ? all : [person, ...all];
        },
      }
      : {}),
    ...(admits
      ? {
        admits: () => {
          const check = admits();
          return check && ((signed) => admitsEntry(signed, [person], () => false) || check(signed));
        },
      }
      : {}),
  };
}

interface Sibling {
  readonly key: Uint8Array;
  readonly rpc: RpcSession;
  /** By group id. */
  readonly syncs: Map<string, ChatSync>;
  /** The epochs handed to it on this session, by group id. */
  readonly handed: Map<string, Set<string>>;
  attached: boolean;
}

export class GroupSync {
  readonly #d: GroupSyncDeps;
  /** Sibling sessions served (attached once checked and devgroups1 listed). */
  readonly #siblings = new Map<RpcSession, Sibling>();
  /** Handing keys, one run per sibling at a time. */
  readonly #handing = new Map<string, Promise<void>>();
  #rekeying: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;
  #closing = false;

  constructor(deps: GroupSyncDeps) {
    this.#d = deps;
  }

  /** Whether this node holds the person key (the one that signs membership changes). */
  get #personNode(): boolean {
    return !this.#d.groups.onDevice;
  }

  start(): void {
    this.#unsubscribe = this.#d.bus.subscribe((e) => {
      if (e.type === "group-push") this.changed(e.id);
      else if (e.type === "device" && e.op === "revoked") this.#rekeyRemoved();
    });
    this.#rekeyRemoved();
  }

  close(): void {
    this.#closing = true;
    this.#unsubscribe?.();
    this.#siblings.clear();
  }

  /** Registers what a sibling session serves (sibling_sync.ts holds requests until it checked out). */
  serve(rpc: RpcSession, key: Uint8Array): void {
    const s: Sibling = { key, rpc, syncs: new Map(), handed: new Map(), attached: false };
    this.#siblings.set(rpc, s);
    rpc.onClose(() => this.#siblings.delete(rpc));
    rpc.handle("devsync.groups", (p) => this.#take(s, p.groups));
    rpc.handle("devsync.gop", async (p) => {
      if (!this.#personNode) throw new RojError("refused", "this device does not hold the key");
      const group = await this.#d.perform(p);
      await this.#queueHand(s, [group]); // the device holds the result when it hears back
      return { group };
    });
  }

  /** The session with sibling `key` is kept and it lists devgroups1: hand it every group. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    const s = this.#siblings.get(rpc);
    if (!s || !bytesEqual(s.key, key) || !peerHas(rpc.peerHello, DEVSYNC_GROUPS_FEATURE)) return;
    s.attached = true;
    this.#queueHand(s, this.#ours().map((g) => g.id));
  }

  /** The sync of group `chat` on a sibling session (sibling_sync.ts routes group chat ids here). */
  syncFor(rpc: RpcSession, chat: string): ChatSync | undefined {
    const s = this.#siblings.get(rpc);
    if (!s || !this.#d.groups.get(chat)) return undefined;
    const known = s.syncs.get(chat);
    if (known) return known;
    const sync = new ChatSync(this.#d.log, s.rpc, chat, {
      ...withPerson(this.#d.authors(chat, s.key), this.#d.own.person),
      onStored: (entries) => this.#d.stored(chat, entries),
      log: (line) => this.#d.bus.say(`your device ${fingerprint(s.key)}: group ${chat}: ${line}`),
    });
    s.syncs.set(chat, sync);
    if (s.attached) this.#run(sync);
    return sync;
  }

  /** Group `id` moved here (written, or entries from anyone): siblings get its keys and entries. */
  changed(id: string): void {
    for (const s of this.#siblings.values()) {
      if (!s.attached || s.rpc.closed) continue;
      this.#queueHand(s, [id]);
    }
  }

  /**
   * On a device: asks the node with the person key (a sibling up that lists
   * devgroups1) to make a membership change; resolves with the group's id
   * once this device holds the result.
   * @throws {RojError} refused when no such sibling is up.
   */
  async delegate(op: GroupOp): Promise<string> {
    const s = [...this.#siblings.values()].find((x) =>
      x.attached && !x.rpc.closed && bytesEqual(x.key, this.#d.own.person)
    );
    if (!s) {
      throw new RojError(
        "refused",
        "group changes are made by your device that holds your key, and it is not online",
        { retryable: true },
      );
    }
    const { group } = await s.rpc.request("devsync.gop", op);
    return group;
  }

  /** The groups the person is a current member of. */
  #ours(): Group[] {
    const me = toHex(this.#d.own.person);
    return this.#d.groups.all().filter((g) => g.membership.members.has(me));
  }

  /** Hands `s` groups `ids` after what is being handed to that device already. */
  #queueHand(s: Sibling, ids: string[]): Promise<void> {
    const k = toHex(s.key);
    const run = (this.#handing.get(k) ?? Promise.resolve()).then(() => this.#hand(s, ids))
      .catch(() => {});
    this.#handing.set(k, run);
    run.then(() => {
      if (this.#handing.get(k) === run) this.#handing.delete(k);
    });
    return run;
  }

  /**
   * Hands sibling `s` the keys of groups `ids` it lacks, then syncs each.
   * Only the person key's node hands keys (a device passing on what it was
   * handed could reach a removed device before the removal reached it), and
   * only while the sibling speaks for the person: never to a removed device.
   */
  async #hand(s: Sibling, ids: string[]): Promise<void> {
    if (!this.#d.own.speaksAt(s.key, this.#d.clock.now()) || s.rpc.closed) return;
    if (this.#personNode) await this.#handKeys(s, ids);
    // Each group's entries follow (the sibling registered the groups first).
    for (const id of new Set(ids)) {
      const sync = this.syncFor(s.rpc, id);
      if (sync) await (sync.started ? sync.notify() : sync.start()).catch(() => {});
    }
  }

  async #handKeys(s: Sibling, ids: string[]): Promise<void> {
    const me = toHex(this.#d.own.person);
    const due: ParamsOf<"devsync.groups">["groups"] = [];
    const sent: { id: string; epochs: string[] }[] = [];
    for (const id of new Set(ids)) {
      const g = this.#d.groups.get(id);
      if (!g || !g.membership.members.has(me)) continue;
      const have = s.handed.get(id);
      const opened = await this.#d.groups.openedKeys(id, MAX_HANDED_EPOCHS);
      const fresh = opened.filter((o) => !have?.has(o.epoch));
      if (have && fresh.length === 0) continue;
      due.push({
        id,
        name: g.name.slice(0, 64) || "group",
        epochs: fresh.map((o) => ({ e: o.epoch, k: encodeB64(o.key) })),
      });
      sent.push({ id, epochs: fresh.map((o) => o.epoch) });
    }
    for (let i = 0; i < due.length; i += MAX_HANDED_GROUPS) {
      await s.rpc.request("devsync.groups", { groups: due.slice(i, i + MAX_HANDED_GROUPS) });
    }
    for (const { id, epochs } of sent) {
      let have = s.handed.get(id);
      if (!have) s.handed.set(id, have = new Set());
      for (const e of epochs) have.add(e);
    }
  }

  /** A sibling's devsync.groups: on a device, each group registered and its keys kept. */
  async #take(s: Sibling, groups: ParamsOf<"devsync.groups">["groups"]) {
    // Its own keys open on the person key's node; a device takes them only from that node.
    if (this.#personNode || !bytesEqual(s.key, this.#d.own.person)) return {};
    for (const h of groups) {
      let g = this.#d.groups.get(h.id);
      if (!g) {
        try {
          g = await this.#d.register(h.id, h.name);
        } catch {
          continue; // MAX_GROUPS: refused, as an offered group is
        }
        this.#d.bus.say(`your other device handed you group ${g.name} (${h.id})`);
      }
      const fresh = await this.#d.groups.takeKeys(
        h.id,
        h.epochs.map((x) => ({ epoch: x.e, key: decodeB64(x.k) })),
      );
      if (fresh.length > 0) {
        this.#d.bus.say(`group ${g.name}: ${fresh.length} keys from your device`);
      }
      const sync = this.syncFor(s.rpc, h.id);
      if (sync && s.attached) this.#run(sync);
    }
    return {};
  }

  #run(sync: ChatSync): void {
    (sync.started ? sync.notify() : sync.start()).catch(() => {});
  }

  /** On the node with the person key: every group rotated once for each device removed. */
  #rekeyRemoved(): void {
    if (!this.#personNode || this.#closing) return;
    this.#rekeying = this.#rekeying.then(async () => {
      await this.#d.own.reload();
      await this.#d.rotated?.().catch(() => {});
      const now = this.#d.clock.now();
      for (const bytes of this.#d.own.revocations()) {
        const device = await parseRevocation(bytes, this.#d.own.person).then((r) => r.device)
          .catch(() => null);
        if (!device) continue;
        const done = await this.#d.kv.get(keys.groupsRekeyed(device));
        if (done.value !== null || this.#closing) continue;
        let failed = 0;
        for (const g of this.#ours()) {
          try {
            await this.#d.rekey(g.id);
          } catch (err) {
            failed++;
            this.#d.bus.say(`group ${g.name}: no new key yet: ${(err as Error).message}`);
          }
        }
        // Not kept when one failed (ssh-agent away, say): all are rotated again at the next try.
        if (failed > 0) continue;
        await this.#d.kv.set(keys.groupsRekeyed(device), now);
        this.#d.bus.say(`renewed the key of your groups: device ${fingerprint(device)} is out`);
      }
    }).catch(() => {});
  }
}
