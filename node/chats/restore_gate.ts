/**
 * After a restore, our own chain in a direct chat may be shorter than the one
 * the peer holds: what we wrote after the backup was taken is theirs to give
 * back. Writing before it is back would sign a second, different entry for a
 * seq already used, a fork the peer refuses to follow (log/fork_records.ts),
 * and the chat would stop for us. So a restored node (backup/restore.ts sets
 * the gate) refuses to write to a direct chat until a session with its peer
 * has shown how far our chain goes there (the peer's heads) and we hold that
 * much; from then on the chat is cleared for good. Notes and groups are not
 * gated.
 *
 * The same holds, per chat, after a node stopped without closing while its
 * entries could reach the peer before their commit (commit_overlap.ts): a
 * chat whose overlap marker is still set is held the same way until the peer
 * was heard, and then its marker goes. A commit that fails after its entries
 * went out holds the chat in the same way (trip).
 */
import { RojError } from "../errors.ts";
import type { ChatLog } from "../log/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";

export class RestoreGate {
  readonly #store: Store;
  readonly #me: Uint8Array;
  readonly #active: boolean;
  readonly #cleared = new Set<string>();
  /** Per chat, how far the peer holds our chain (its latest heads). */
  readonly #peerHas = new Map<string, number>();
  /** Chats whose overlap marker outlived the node's last run (or whose commit failed). */
  readonly #unsure = new Set<string>();

  private constructor(store: Store, me: Uint8Array, active: boolean) {
    this.#store = store;
    this.#me = me;
    this.#active = active;
  }

  static async open(store: Store, me: Uint8Array): Promise<RestoreGate> {
    const active = (await store.kv.get(keys.restoreGate())).value !== null;
    const gate = new RestoreGate(store, me, active);
    if (active) {
      for await (const r of store.kv.list({ prefix: keys.restoreClearedAll() })) {
        if (typeof r.key[2] === "string") gate.#cleared.add(r.key[2]);
      }
    }
    for await (const r of store.kv.list({ prefix: keys.overlapMarks() })) {
      if (typeof r.key[2] === "string") gate.#unsure.add(r.key[2]);
    }
    return gate;
  }

  #held(chat: string): boolean {
    return (this.#active && !this.#cleared.has(chat)) || this.#unsure.has(chat);
  }

  /** Our entries of `chat` may be with the peer but not here (a commit failed after they went). */
  trip(chat: string): void {
    this.#unsure.add(chat);
  }

  /** @throws {RojError} busy while `chat` waits for its peer after a restore. */
  check(chat: string, peerName: string): void {
    // After a restore, that is what the person should hear (a backup may hold markers too).
    if (this.#unsure.has(chat) && !(this.#active && !this.#cleared.has(chat))) {
      throw new RojError(
        "busy",
        `this node stopped without closing while a message to ${peerName} may have been on its way: waiting to reach ${peerName} and take back what it holds of yours, so that nothing is written over it; try again once ${peerName} is reached`,
        { retryable: true },
      );
    }
    if (!this.#held(chat)) return;
    throw new RojError(
      "busy",
      `this folder was restored from a backup: waiting to reach ${peerName} and take back what you wrote to them after it, so that nothing is written over it; try again once ${peerName} is reached`,
      { retryable: true },
    );
  }

  /** The peer's heads in `chat` named our chain up to `seq` (0: none of it). */
  heard(chat: string, seq: number, log: ChatLog): Promise<void> {
    if (!this.#held(chat)) return Promise.resolve();
    this.#peerHas.set(chat, seq);
    return this.stored(chat, log);
  }

  /** Entries were stored in `chat`: cleared once we hold all of ours the peer has. */
  async stored(chat: string, log: ChatLog): Promise<void> {
    const want = this.#peerHas.get(chat);
    if (want === undefined || !this.#held(chat)) return;
    const heads = [...(await log.heads(chat)).values()];
    const have = heads.find((h) => bytesEqual(h.author, this.#me))?.seq ?? 0;
    if (have < want) return;
    if (this.#unsure.has(chat)) {
      // Gone before writes go on: this run's first commit there sets it again (commit_overlap.ts).
      await this.#store.kv.delete(keys.overlapMark(chat));
      this.#unsure.delete(chat);
    }
    if (!this.#active || this.#cleared.has(chat)) return;
    this.#cleared.add(chat);
    await this.#store.kv.set(keys.restoreCleared(chat), true);
  }
}
