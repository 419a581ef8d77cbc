/**
 * The identity guard at work: feeds guard.ts what the syncs learn about our
 * own chain, keeps its state in the store (a restart stays refused), tells
 * the person in one line and followers in an event, refuses local writes as
 * the state says (the log's gate), and carries out a resolve: set our entries
 * of a chat aside, sync afresh, and once a contact's head of our chain is in
 * our store, write the set-aside messages again on top of it.
 */
import type { IdentityConflictView, IdentityResolveView, IdentityView } from "../api/mod.ts";
import type { Clock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Signer } from "../identity/mod.ts";
import { type ChatLog, dropAside, entriesAside, type Entry, type Fork, toHex } from "../log/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import type { OwnChainReport } from "../sync/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import {
  type ChatConflict,
  EMPTY_GUARD,
  type GuardAction,
  type GuardEvent,
  type GuardState,
  stepGuard,
  writeBlock,
} from "./guard.ts";

export interface IdentityGuardDeps {
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  /** A chat's name here (its id when it has none). */
  chatName(id: string): string;
  /** Start the syncs of direct chat `id` afresh with its peer (after our entries went aside). */
  resync(id: string): void;
  /** Our entries in `id` changed: push them. */
  written(id: string): void;
  /** Hand the contact of `id` our entry `seq`, which it holds another of (evidence for the other node). */
  evidence(id: string, seq: number): void;
}

/** Set-aside messages written again per commit. */
const REBASE_BATCH = 200;

/** How to get out, pointing to the devices feature (one key per device) once it is there. */
const DEVICES = "one key per device comes with the devices feature";
const KEEP_ONE = `stop one of the two nodes (or give one an identity of its own; ${DEVICES}), ` +
  "then run `roj identity resolve` on the one you keep, and on the other when it runs again";
const HERE = `stop the other node (or give it an identity of its own; ${DEVICES}), ` +
  "then run `roj identity resolve` here";

export class IdentityGuard {
  readonly #d: IdentityGuardDeps;
  #state: GuardState;
  /** The last head of our chain a contact reported, per chat: a re-base waits for it to be ours. */
  /** `theirs` null: a peer without head hashes (then holding that many of ours is enough). */
  readonly #lastHead = new Map<string, { seq: number; theirs: string | null; peer: string }>();
  readonly #rebasing = new Set<string>();
  /** Serialises state changes (store writes in order). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(deps: IdentityGuardDeps, state: GuardState) {
    this.#d = deps;
    this.#state = state;
    deps.log.gate = (chat) => this.check(chat);
  }

  /** Opens the guard with its state from the store. */
  static async open(deps: IdentityGuardDeps): Promise<IdentityGuard> {
    const res = await deps.store.kv.get<GuardState>(keys.identityGuard());
    return new IdentityGuard(deps, isState(res.value) ? res.value : EMPTY_GUARD);
  }

  get state(): GuardState {
    return this.#state;
  }

  /** @throws {RojError} identity_conflict when local writes to `chat` are refused now. */
  check(chat: string): void {
    const block = writeBlock(this.#state, chat);
    if (!block) return;
    if (block.reason === "rebasing") {
      throw new RojError(
        "identity_conflict",
        `${this.#d.chatName(chat)}: this node's messages are being written again on top of ` +
          "the contact's copy of the chat, once it is in; try again then",
        { retryable: true },
      );
    }
    throw new RojError("identity_conflict", this.#message(block.conflict!));
  }

  /** A sync learnt what a peer (`peer`, its name) holds of our chain. */
  seen(report: OwnChainReport, peer: string): void {
    if (report.hashless) {
      // Nothing to check against; but once our entries are aside, all of ours we hold came from
      // the peer, so holding as many as it does means its copy is in.
      if (!this.#state.rebasing.includes(report.chat)) return;
      this.#lastHead.set(report.chat, { seq: report.seq, theirs: null, peer });
      return this.ownArrived(report.chat);
    }
    const hex = (b: Uint8Array | null) => (b ? toHex(b) : "");
    const head = { seq: report.seq, theirs: hex(report.theirs), peer };
    this.#lastHead.set(report.chat, head);
    // Our copy of that head may be committing right now (a push of the contact's racing this
    // answer): look again once it is in the store, whichever comes first.
    if (report.theirs !== null && report.mine === null) this.ownArrived(report.chat);
    this.#step({
      type: "own-head",
      chat: report.chat,
      peer,
      seq: report.seq,
      theirs: head.theirs,
      // A peer with none of ours: as good as agreeing (nothing to take in before a re-base).
      mine: report.theirs === null ? "" : report.mine ? toHex(report.mine) : null,
    });
    if (report.twin) {
      this.#step({
        type: "own-twin",
        chat: report.chat,
        peer,
        seq: report.twin.seq,
        twin: toHex(report.twin.hash),
        mine: report.twin.mine ? toHex(report.twin.mine) : null,
      });
    }
  }

  /** Our log recorded a fork: of our own chain, it is this guard's business. */
  forkSeen(fork: Fork, peer: string): void {
    if (!bytesEqual(fork.author, this.#d.me)) return;
    this.#step({
      type: "own-fork",
      chat: fork.chat,
      peer,
      seq: fork.seq,
      twin: toHex(fork.twin.hash),
    });
  }

  /** A contact pushed us entries of ours that do not fit our chain at `seq` of `chat`. */
  diverged(chat: string, seq: number, peer: string): void {
    this.#step({ type: "own-push", chat, peer, seq });
  }

  /** A contact (`peer`, its name) holds a live session of our key from another node. */
  elsewhere(peer: string, kept: boolean): void {
    this.#step({ type: "own-elsewhere", peer, kept });
  }

  /** Entries of ours came in from a peer in `chat`: a re-base may be able to go now. */
  ownArrived(chat: string): void {
    const head = this.#lastHead.get(chat);
    if (!head || !this.#state.rebasing.includes(chat)) return;
    const at = head.seq === 0
      ? Promise.resolve(null)
      : this.#d.log.entryAt(chat, this.#d.me, head.seq);
    at.then((e) => {
      if (!e && head.seq > 0) return;
      const mine = e ? toHex(e.hash) : "";
      this.#step({
        type: "own-head",
        chat,
        peer: head.peer,
        seq: head.seq,
        theirs: head.theirs ?? mine,
        mine,
      });
    }).catch(() => {});
  }

  /** `roj identity resolve`. */
  resolve(): Promise<IdentityResolveView> {
    return this.#serial(async () => {
      if (this.#state.conflicts.length === 0) return { rebasing: [], setAside: 0 }; // nothing to resolve
      const seconds = this.#state.conflicts.filter((c) => c.role === "second");
      let setAside = 0;
      // The entries go aside first: a resolve that fails halfway leaves the conflict on record.
      for (const c of seconds) setAside += await this.#d.log.setAside(c.chat, this.#d.me);
      const step = stepGuard(this.#state, { type: "resolved" }, this.#d.clock.now());
      await this.#apply(step.state, step.actions);
      return { rebasing: seconds.map((c) => this.#d.chatName(c.chat)), setAside };
    });
  }

  /** What status shows. */
  view(): IdentityView {
    const conflicts = this.#state.conflicts;
    const rebasing = this.#state.rebasing.map((c) => this.#d.chatName(c));
    if (conflicts.length === 0) return { rebasing };
    const second = conflicts.find((c) => c.role === "second");
    const shown = second ?? conflicts[0]!;
    return {
      conflict: {
        role: second ? "second" : "first",
        writesRefused: second !== undefined,
        message: this.#message(shown),
        chats: conflicts.map((c) => this.#conflictView(c)),
      },
      rebasing,
    };
  }

  #conflictView(c: ChatConflict): IdentityConflictView {
    return {
      chat: this.#d.chatName(c.chat),
      peer: c.peer,
      seq: c.seq,
      role: c.role,
      source: c.source,
      since: c.since,
    };
  }

  #message(c: ChatConflict): string {
    const what = "this identity is also running on another node (a copy of its data folder or key)";
    if (c.chat === "") {
      return `${what}: ${c.peer} has a live session of it from there too; ${KEEP_ONE}`;
    }
    const where = `${c.peer} holds another entry #${c.seq} of yours in the chat ${
      this.#d.chatName(c.chat)
    }`;
    return c.role === "second"
      ? `${what}: ${where}, so this node writes nothing until you ${HERE}; ` +
        "its messages are kept and sent again"
      : `${what}: ${where}; its messages there are not taken, yours are: ${KEEP_ONE}`;
  }

  #step(event: GuardEvent): void {
    this.#serial(async () => {
      const step = stepGuard(this.#state, event, this.#d.clock.now());
      if (step.state === this.#state && step.actions.length === 0) return;
      await this.#apply(step.state, step.actions);
    }).catch((err) => this.#d.bus.say(`identity guard: ${(err as Error).message}`));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #apply(state: GuardState, actions: readonly GuardAction[]): Promise<void> {
    if (state !== this.#state) {
      await this.#d.store.kv.set(keys.identityGuard(), state);
      this.#state = state;
    }
    for (const a of actions) {
      switch (a.type) {
        case "conflict":
          this.#d.bus.say(this.#message(a.conflict));
          this.#d.bus.emit({
            type: "identity",
            op: "conflict",
            conflict: this.#conflictView(a.conflict),
          });
          if (a.conflict.role === "second" && a.conflict.source === "own-head") {
            this.#d.evidence(a.conflict.chat, a.conflict.seq);
          }
          break;
        case "set-aside":
          // Only what a contact reports from now on counts: an older head may be behind its chain.
          this.#lastHead.delete(a.chat);
          this.#d.resync(a.chat);
          break;
        case "clear":
          this.#d.bus.say(
            state.rebasing.length > 0
              ? `identity conflict resolved: this node's messages in ${
                state.rebasing.map((c) => this.#d.chatName(c)).join(", ")
              } are written again once the contact's copy is in`
              : "identity conflict resolved",
          );
          this.#d.bus.emit({
            type: "identity",
            op: "resolved",
            rebasing: state.rebasing.map((c) => this.#d.chatName(c)),
          });
          break;
        case "rebase":
          this.#rebase(a.chat).catch((err) =>
            this.#d.bus.say(
              `re-basing ${this.#d.chatName(a.chat)} failed: ${(err as Error).message}`,
            )
          );
          break;
      }
    }
  }

  /** Writes the set-aside messages of `chat` again, after the chain now held; those held already are skipped. */
  async #rebase(chat: string): Promise<void> {
    if (this.#rebasing.has(chat) || !this.#state.rebasing.includes(chat)) return;
    this.#rebasing.add(chat);
    try {
      // A message the chain holds already (the contact had it, or a re-base cut short by a
      // crash wrote it) is one of ours with the same time, type and text: it is not written twice.
      const content = (e: Entry) => `${e.ts}|${e.type}|${e.body}`;
      const have = new Set<string>();
      for (const e of await this.#d.log.read(chat)) {
        if (bytesEqual(e.author, this.#d.me)) have.add(content(e));
      }
      const aside = await entriesAside(this.#d.store, chat);
      const again = [];
      /** The entries of ours the contact did not hold: their twins there are settled with this. */
      const settle: string[] = [];
      let held = 0;
      for (const e of aside) {
        if (have.has(content(e))) held++;
        else {
          have.add(content(e));
          again.push({ type: e.type, body: e.body, ts: e.ts });
          settle.push(toHex(e.hash));
        }
      }
      for (let i = 0; i < again.length; i += REBASE_BATCH) {
        const part = again.slice(i, i + REBASE_BATCH);
        await this.#d.log.appendMany(chat, this.#d.signer, part, { ungated: true });
      }
      await dropAside(this.#d.store, chat);
      await this.#serial(async () => {
        const step = stepGuard(this.#state, { type: "rebased", chat, settle }, this.#d.clock.now());
        await this.#apply(step.state, step.actions);
      });
      this.#d.bus.say(
        `${this.#d.chatName(chat)}: ${again.length} message(s) of this node written again ` +
          `after the contact's copy (${held} it had already)`,
      );
      this.#d.bus.emit({
        type: "identity",
        op: "rebased",
        chat: this.#d.chatName(chat),
        written: again.length,
        held,
      });
      this.#d.written(chat);
    } finally {
      this.#rebasing.delete(chat);
    }
  }
}

function isState(v: unknown): v is GuardState {
  const s = v as GuardState;
  return typeof v === "object" && v !== null && Array.isArray(s.conflicts) &&
    Array.isArray(s.rebasing) && Array.isArray(s.settled);
}
