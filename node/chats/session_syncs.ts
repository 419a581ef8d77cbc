/**
 * Which chats sync on which session (see groups/mod.ts for the group rules).
 *
 * Per session with a contact: a ChatSync of our direct chat; one per group in
 * which both of us are current members (as this node sees it), created when
 * either side first needs it; scratch logs for groups the peer offers that we
 * are not in (groups/join_candidate.ts); and "farewells": the history up to a
 * departure, pushed to whoever left or was removed, and nothing after it.
 * Syncs start only once the session manager keeps the session (`up`).
 */
import { RojError } from "../errors.ts";
import type { ContactBook } from "../contacts/mod.ts";
import type { EventBus } from "../events.ts";
import {
  CandidateBudget,
  type GroupBook,
  isGroupChatId,
  JoinCandidate,
  MAX_CANDIDATES_PER_SESSION,
  MAX_GROUPS,
} from "../groups/mod.ts";
import { fingerprint, type VerifierPool } from "../identity/mod.ts";
import {
  type ChatLog,
  compareEntries,
  directChatId,
  type Entry,
  type RawEntry,
  toHex,
} from "../log/mod.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { PeerSession } from "../peers/mod.ts";
import type { Clock } from "../clock/mod.ts";
import { ChatSync, type ChatSyncOptions, type OwnChainReport } from "../sync/mod.ts";
import { admitsEntry } from "../device_sync/mod.ts";
import { RepeatThrottle } from "../text/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import type { CatchUpProgress } from "./catch_up_progress.ts";
import type { ChatDirectory } from "./chat_directory.ts";
import type { ChatService } from "./chat_service.ts";
import type { RestoreGate } from "./restore_gate.ts";
import type { JoinedVia } from "./group_service.ts";

/** The chat syncs of one session. */
interface Syncs {
  readonly peer: Uint8Array;
  readonly direct: ChatSync;
  /** Group syncs (by chat id) while the peer is a member, as this node sees it. */
  readonly groups: Map<string, ChatSync>;
  /** Groups the peer pushes that we are not (yet) in. */
  readonly pending: Map<string, { candidate: JoinCandidate; sync: ChatSync }>;
  /** What those scratch logs hold between them (groups/MAX_SESSION_CANDIDATE_BYTES). */
  readonly budget: CandidateBudget;
  /** Set once the session is kept; syncs start only then. */
  attached: boolean;
}

export interface SessionSyncsDeps {
  readonly me: Uint8Array;
  readonly restoreGate: RestoreGate;
  readonly log: ChatLog;
  readonly groups: GroupBook;
  readonly contacts: ContactBook;
  readonly verifier: VerifierPool;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly progress: CatchUpProgress;
  readonly bus: EventBus;
  readonly clock: Clock;
  /** Told what a peer holds of our own chain, and when entries of ours come from a peer. */
  readonly ownChain: {
    seen(report: OwnChainReport, peer: string): void;
    diverged(chat: string, seq: number, peer: string, fork?: number): void;
    ownArrived(chat: string): void;
  };
  /** The live sessions (session manager). */
  sessions(): readonly PeerSession[];
  /**
   * On a device of a person, its own signing key (`me` is then the person's,
   * which names the chats). @default me
   */
  readonly author?: Uint8Array;
  /** A contact's devices (node/linking): their keys, and whether one spoke for them at a time. */
  readonly devices?: {
    keys(person: Uint8Array): Uint8Array[];
    speaksAt(person: Uint8Array, key: Uint8Array, at: number): boolean;
    /** Takes in the device certificates pushed entries carry (node/device_sync). */
    learn?(person: Uint8Array, raws: readonly RawEntry[]): Promise<void>;
  };
  /** A contact's session stored entries in our direct chat (our other devices get them). */
  readonly directStored?: (chat: string) => void;
}

/** Whose entries a group's sync takes (SessionSyncs.groupAuthors): ChatSync's options. */
export type GroupAuthors = Pick<ChatSyncOptions, "members" | "prepare" | "admits">;

/** What the group service does with what arrives (wired by node.ts). */
export interface GroupArrivals {
  /** A peer pushed group entries we did not have. */
  stored(id: string, entries: Entry[]): Promise<void>;
  /** A group offered to us names us a member: take it in. */
  adopt(id: string, name: string | null, raws: RawEntry[], how: JoinedVia): Promise<void>;
}

export class SessionSyncs {
  readonly #d: SessionSyncsDeps;
  readonly #bySession = new WeakMap<RpcSession, Syncs>();
  /** Syncs whose start() is under way. */
  readonly #starting = new WeakSet<ChatSync>();
  /** Departures told to a peer (group/peer/departure entry), see #farewell. */
  readonly #farewells = new Set<string>();
  #arrivals: GroupArrivals = { stored: () => Promise.resolve(), adopt: () => Promise.resolve() };
  /** A sync's repeated lines (refusals on every pass and session) are said once, with a count. */
  readonly #repeats = new RepeatThrottle();

  constructor(deps: SessionSyncsDeps) {
    this.#d = deps;
  }

  /** Says a sync's line, unless it was said lately (then it is counted, see RepeatThrottle). */
  #say(line: string): void {
    const said = this.#repeats.admit(line, this.#d.clock.now());
    if (said !== null) this.#d.bus.say(said);
  }

  set arrivals(a: GroupArrivals) {
    this.#arrivals = a;
  }

  #deviceAdmits(peer: Uint8Array, signed: Uint8Array): boolean {
    return admitsEntry(
      signed,
      [peer, this.#d.me, this.#d.author],
      (key, at) => this.#d.devices!.speaksAt(peer, key, at),
    );
  }

  #peerName(peer: Uint8Array): string {
    return this.#d.contacts.get(peer)?.name ?? fingerprint(peer);
  }

  /**
   * Serves the peer's sync requests on `rpc` for the chats we share. Done
   * before anything else is said on the session, so the peer's first request
   * never arrives before its handler.
   */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    if (this.#bySession.has(rpc)) return;
    const chatId = directChatId(this.#d.me, peer);
    const name = () => this.#peerName(peer);
    const chat = () =>
      this.#d.directory.byId(chatId) ?? { id: chatId, kind: "direct" as const, name: name() };
    const progress = this.#d.progress.forSync(chatId, name, rpc);
    const direct = new ChatSync(this.#d.log, rpc, chatId, {
      members: () => [
        this.#d.me,
        peer,
        ...(this.#d.author ? [this.#d.author] : []),
        ...(this.#d.devices?.keys(peer) ?? []),
      ],
      // An entry by one of the contact's devices counts if the device spoke for them when it was written.
      ...(this.#d.devices
        ? {
          prepare: (raws: readonly RawEntry[]) =>
            this.#d.devices?.learn?.(peer, raws) ?? Promise.resolve(),
          admits: () =>
            this.#d.devices!.keys(peer).length === 0
              ? undefined
              : (signed: Uint8Array) => this.#deviceAdmits(peer, signed),
        }
        : {}),
      own: {
        // Our own chain is our signing key's: on a device, not the person's (the laptop's).
        me: this.#d.author ?? this.#d.me,
        peer,
        seen: (report) => this.#d.ownChain.seen(report, name()),
        diverged: (seq) => this.#d.ownChain.diverged(chatId, seq, name()),
      },
      onPeerHeads: (heads) => {
        progress.heads(heads);
        const mine = heads.get(toHex(this.#d.author ?? this.#d.me));
        if (mine) this.#d.chats.markDelivered(chat(), mine.seq).catch(() => {});
        this.#d.restoreGate.heard(chatId, mine?.seq ?? 0, this.#d.log).catch(() => {});
      },
      onStored: (entries) => {
        progress.stored(entries.length);
        this.#d.restoreGate.stored(chatId, this.#d.log).catch(() => {});
        if (entries.some((e) => bytesEqual(e.author, this.#d.me))) {
          this.#d.ownChain.ownArrived(chatId);
        }
        // Replies, edits and reactions show as the messages they change (chats.show).
        this.#d.chats.show(chat(), entries).catch(() => {});
        this.#d.directStored?.(chatId);
      },
      log: (line) => this.#say(`${name()}: ${line}`),
    });
    const st: Syncs = {
      peer,
      direct,
      groups: new Map(),
      pending: new Map(),
      budget: new CandidateBudget(),
      attached: false,
    };
    /** Requests about one group chat we are not in, one at a time (see #offered). */
    const offers = new Map<string, Promise<unknown>>();
    /** Groups offered by this peer that we dropped: asked again, they get not_found. */
    const dropped = new Set<string>();
    const route = <T>(id: string, answer: (sync: ChatSync) => Promise<T>): Promise<T> => {
      if (id === chatId) return answer(direct);
      if (!isGroupChatId(id)) throw new RojError("not_found", "no such chat");
      const sync = this.#groupRoute(rpc, st, id);
      if (sync) return answer(sync);
      if (dropped.has(id)) throw new RojError("not_found", "no such chat");
      const prior = offers.get(id) ?? Promise.resolve();
      const run = prior.then(() => this.#offered(rpc, st, id, dropped, answer));
      const settled = run.catch(() => {});
      offers.set(id, settled);
      settled.then(() => {
        if (offers.get(id) === settled) offers.delete(id);
      });
      return run;
    };
    rpc.handle("sync.heads", (p) => route(p.chat, (sync) => sync.answerHeads()));
    rpc.handleBulk("sync.push", (p) => route(p.chat, (sync) => sync.answerPush(p)));
    rpc.handle("sync.own", (p) => route(p.chat, (sync) => sync.answerOwn(p)));
    rpc.onClose(() => {
      for (const { candidate } of st.pending.values()) candidate.close();
      st.pending.clear();
    });
    this.#bySession.set(rpc, st);
  }

  /**
   * The session is kept: start syncing the direct chat and every group we
   * share, and tell the peer of departures it may have missed.
   */
  up(s: PeerSession, name: string): void {
    const st = this.#bySession.get(s.rpc);
    if (!st) return;
    st.attached = true;
    const peer = s.peer;
    st.direct.start().catch((err) => {
      if (!s.rpc.closed) this.#d.bus.say(`sync with ${name} failed: ${(err as Error).message}`);
    });
    // Groups the peer asked about before the session was kept, then every group we share.
    for (const sync of st.groups.values()) this.#startSync(sync, peer);
    for (const g of this.#d.groups.sharedWith(peer)) {
      if (!st.groups.has(g.id)) this.#startSync(this.#groupSync(s.rpc, st, g.id), peer);
    }
    // Departures they may have missed: theirs from groups we are in, ours from groups they are in.
    const me = toHex(this.#d.me);
    const k = toHex(peer);
    for (const g of this.#d.groups.all()) {
      const m = g.membership;
      if (m.members.has(me) && m.ever.has(k) && !m.members.has(k)) {
        this.#farewell(s.rpc, g.id, peer, peer).catch(() => {});
      } else if (!m.members.has(me) && m.ever.has(me) && m.members.has(k)) {
        this.#farewell(s.rpc, g.id, peer, this.#d.me).catch(() => {});
      }
    }
  }

  /** Local entries changed in direct chat `chat`: push them on the peer's session, if one is up. */
  pushDirect(chat: string, session: PeerSession | undefined): void {
    const st = session && this.#bySession.get(session.rpc);
    if (st?.attached && st.direct.chat === chat) st.direct.notify().catch(() => {});
  }

  /** Our entries `made` of direct chat `chat` are signed, their commit under way: push them now. */
  pushEarly(
    chat: string,
    session: PeerSession | undefined,
    made: Entry[],
    committed: Promise<void>,
  ): void {
    const st = session && this.#bySession.get(session.rpc);
    if (st?.attached && st.direct.chat === chat) {
      st.direct.early(this.#d.author ?? this.#d.me, made, committed);
    }
  }

  /**
   * Hands the peer of direct chat `chat` (the members, in a group) our entry
   * `seq` there although it holds another one: the other node with our key
   * learns of the fork from it.
   */
  async evidence(chat: string, seq: number): Promise<void> {
    for (const s of this.#d.sessions()) {
      const st = this.#bySession.get(s.rpc);
      const sync = st?.direct.chat === chat ? st.direct : st?.groups.get(chat);
      if (!st?.attached || !sync?.started || s.rpc.closed) continue;
      const e = await this.#d.log.entryAt(chat, this.#d.me, seq);
      if (e) await sync.offer([{ seq, signed: e.signed, sig: e.sig }]).catch(() => {});
    }
  }

  /** Pushes group `id` again on every session that syncs it (after entries from one member). */
  forward(id: string): void {
    const peers: string[] = [];
    for (const s of this.#d.sessions()) {
      const sync = this.#bySession.get(s.rpc)?.groups.get(id);
      if (sync?.started && !s.rpc.closed) {
        sync.start().catch(() => {});
        peers.push(this.#peerName(s.peer));
      }
    }
    this.#pushed(id, "forward", peers);
  }

  /** Says to whom group `id`'s entries went (see the "group-push" event). */
  #pushed(id: string, reason: "change" | "forward" | "farewell", peers: string[]): void {
    const group = this.#d.directory.byId(id)?.name ?? id;
    this.#d.bus.emit({ type: "group-push", group, id, reason, peers });
  }

  /**
   * Brings every live session in line with group `id`: a sync with each peer
   * who is a member (started, or notified of new entries) while we are one;
   * a last push, then none, for peers who are not (any more).
   */
  reconcile(id: string): void {
    const g = this.#d.groups.get(id);
    const me = toHex(this.#d.me);
    const meIn = g?.membership.members.has(me) ?? false;
    const peers: string[] = [];
    for (const s of this.#d.sessions()) {
      const st = this.#bySession.get(s.rpc);
      if (!st?.attached || s.rpc.closed) continue;
      const want = meIn && g!.membership.members.has(toHex(s.peer));
      const sync = st.groups.get(id);
      if (want) {
        this.#startSync(sync ?? this.#groupSync(s.rpc, st, id), s.peer);
        peers.push(this.#peerName(s.peer));
      } else {
        if (sync) st.groups.delete(id);
        // Our leaving (or removal) goes to the members; their removal goes to them.
        if (!meIn && g?.membership.members.has(toHex(s.peer))) {
          this.#farewell(s.rpc, id, s.peer, this.#d.me).catch(() => {});
        } else if (sync && meIn) this.#farewell(s.rpc, id, s.peer, s.peer).catch(() => {});
      }
    }
    this.#pushed(id, "change", peers);
  }

  /**
   * The sync serving group `id` with this session's peer, when we are a
   * member and so is the peer (as this node sees it); created on first use.
   */
  #groupRoute(rpc: RpcSession, st: Syncs, id: string): ChatSync | undefined {
    const g = this.#d.groups.get(id);
    const me = toHex(this.#d.me);
    if (!g || !g.membership.members.has(me) || !g.membership.members.has(toHex(st.peer))) {
      return undefined;
    }
    let sync = st.groups.get(id);
    if (!sync) {
      sync = this.#groupSync(rpc, st, id);
      // The peer syncs with us, so it counts us in: if our side had not started, start it.
      if (st.attached) this.#startSync(sync, st.peer);
    }
    return sync;
  }

  /** A ChatSync for group `id` on this session; entries by anyone who was ever a member. */
  #groupSync(rpc: RpcSession, st: Syncs, id: string): ChatSync {
    const peerName = () => this.#peerName(st.peer);
    const progress = this.#d.progress.forSync(id, peerName, rpc);
    const sync = new ChatSync(this.#d.log, rpc, id, {
      ...this.groupAuthors(id, st.peer),
      // Our own chain checked against each member's copy, as in a direct chat (feature own-chain).
      own: {
        me: this.#d.author ?? this.#d.me, // a device's own chain is its key's (as in direct chats)
        peer: st.peer,
        seen: (report) => this.#d.ownChain.seen(report, peerName()),
        diverged: (seq, fork) => this.#d.ownChain.diverged(id, seq, peerName(), fork),
      },
      onPeerHeads: (heads) => {
        progress.heads(heads);
        const mine = heads.get(toHex(this.#d.author ?? this.#d.me));
        const ref = this.#d.directory.byId(id);
        if (mine && ref) this.#d.chats.markDelivered(ref, mine.seq).catch(() => {});
      },
      onStored: (entries) => {
        progress.stored(entries.length);
        const ours = entries.some((e) => bytesEqual(e.author, this.#d.me));
        return this.#arrivals.stored(id, entries).catch((err) =>
          this.#d.bus.say(`group ${id}: ${(err as Error).message}`)
        ).finally(() => {
          // Once the refold saw them: a re-base waiting on the members' chain of ours may go.
          if (ours) this.#d.ownChain.ownArrived(id);
        });
      },
      log: (line) => this.#say(`${peerName()}: ${line}`),
    });
    st.groups.set(id, sync);
    return sync;
  }

  /**
   * Whose entries group `id` takes: everyone who was ever a member, and the
   * devices of theirs this node knows, each counted when it spoke for its
   * person at the entry's time (GroupBook.speaksFor); certificates in a push
   * from `peer` are learnt first.
   */
  groupAuthors(id: string, peer: Uint8Array): GroupAuthors {
    const devices = this.#d.devices;
    const groups = this.#d.groups;
    if (!devices) return { members: () => groups.everMembers(id) };
    const people = () => groups.everMembers(id);
    return {
      members: () => {
        const out = new Map(people().map((k) => [toHex(k), k]));
        for (const p of people()) for (const d of devices.keys(p)) out.set(toHex(d), d);
        return [...out.values()];
      },
      prepare: (raws) => devices.learn?.(peer, raws) ?? Promise.resolve(),
      admits: () => {
        const ps = people(); // once per push
        // Nobody's devices known: members' own entries only, which `members` checks already.
        if (!ps.some((p) => devices.keys(p).length > 0)) return undefined;
        return (signed) =>
          admitsEntry(signed, ps, (k, at) => ps.some((p) => groups.speaksFor(p, k, at)));
      },
    };
  }

  /** Starts (or restarts, after a refusal) a sync; a failure is logged and left for the next kick. */
  #startSync(sync: ChatSync, peer: Uint8Array): void {
    if (sync.started) {
      sync.notify().catch(() => {});
      return;
    }
    if (this.#starting.has(sync)) return;
    this.#starting.add(sync);
    sync.start().catch((err) => {
      // A member who does not count us in yet answers not_found; they sync with us once they do.
      if (!(err instanceof RojError && err.code === "not_found")) {
        this.#d.bus.say(
          `sync of ${sync.chat} with ${this.#peerName(peer)} failed: ${(err as Error).message}`,
        );
      }
    }).finally(() => this.#starting.delete(sync));
  }

  /**
   * A peer syncs a group we are not in (a new member learning of it, or
   * someone re-added): keep its entries in a scratch log until they make us a
   * member, then adopt the group. Runs one request at a time per group.
   */
  async #offered<T>(
    rpc: RpcSession,
    st: Syncs,
    id: string,
    dropped: Set<string>,
    answer: (sync: ChatSync) => Promise<T>,
  ): Promise<T> {
    const adopted = this.#groupRoute(rpc, st, id);
    if (adopted) return await answer(adopted);
    let pending = st.pending.get(id);
    if (!pending) {
      if (
        st.pending.size >= MAX_CANDIDATES_PER_SESSION ||
        (!this.#d.groups.get(id) && this.#d.groups.size >= MAX_GROUPS) || rpc.closed
      ) throw new RojError("not_found", "no such chat");
      const candidate = await JoinCandidate.open(
        id,
        this.#d.verifier,
        await this.known(id),
        st.budget,
      );
      if (rpc.closed) {
        candidate.close();
        throw new RojError("not_found", "no such chat");
      }
      const sync = new ChatSync(candidate.log, rpc, id, {
        onStored: (entries) => candidate.took(entries),
      });
      pending = { candidate, sync };
      st.pending.set(id, pending);
    }
    const result = await answer(pending.sync);
    const { candidate } = pending;
    const from = this.#peerName(st.peer);
    if (await candidate.overflowing()) {
      st.pending.delete(id);
      candidate.close();
      dropped.add(id);
      const why = "too much history before it named us a member";
      this.#d.bus.say(`dropped group ${id} offered by ${from}: ${why}`);
      this.#d.bus.emit({
        type: "group",
        op: "dropped",
        group: id,
        id,
        from,
        reason: "too-much-history",
      });
      return result;
    }
    const m = await candidate.membership();
    if (!m.members.has(toHex(this.#d.me))) return result;
    // We are a member: move everything by its members into the store.
    const raws = await candidate.raws(new Set(m.ever.keys()));
    st.pending.delete(id);
    candidate.close();
    await this.#arrivals.adopt(id, m.name, raws, { via: "offer", from });
    return result;
  }

  /** The entries of group `id` this node already holds (to seed a scratch log), if any. */
  async known(id: string): Promise<RawEntry[]> {
    return this.#d.groups.get(id)
      ? (await this.#d.log.read(id)).map((e) => ({ signed: e.signed, sig: e.sig }))
      : [];
  }

  /**
   * Tells `peer` that `who` is out of group `id` (them: an admin removed
   * them; us: we left or were removed), by pushing the group's history up to
   * that departure and nothing after it (no later member, message or key).
   * Once per peer and departure while this node runs.
   */
  async #farewell(rpc: RpcSession, id: string, peer: Uint8Array, who: Uint8Array): Promise<void> {
    const d = await this.#d.groups.departure(id, toHex(who));
    // Someone who left knows it; a member removed may not.
    if (!d || rpc.closed || (d.op === "leave" && toHex(who) === toHex(peer))) return;
    const k = `${id}/${toHex(peer)}/${toHex(d.entry.hash)}`;
    if (this.#farewells.has(k)) return;
    this.#farewells.add(k);
    const sync = new ChatSync(this.#d.log, rpc, id, {
      members: () => this.#d.groups.everMembers(id),
      until: (e) => compareEntries(e, d.entry) <= 0,
    });
    try {
      await sync.start();
      if (!rpc.closed) this.#pushed(id, "farewell", [this.#peerName(peer)]);
    } catch {
      this.#farewells.delete(k); // they may count us out already, or the session failed
    }
  }
}
