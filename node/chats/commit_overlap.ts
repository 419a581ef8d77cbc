/**
 * Overlapping a direct message's commit with its push: the entry goes to the
 * peer as soon as it is signed, while its KV commit runs. "Stored" (send()
 * resolving) still waits for our commit, "delivered" for the peer's answer,
 * which it sends only after its own commit; so nothing acknowledged is lost.
 *
 * What is new is the other crash: the peer got our entry seq N but we died
 * before our commit of it. Restarted, we lack N while the peer holds it, and
 * writing a new N would fork our own chain. So before a chat's first early
 * push in a node's life, a marker is written with that chat's commit (in the
 * same atomic batch: no commit of its own), and a clean close removes the
 * markers once every write has settled. Only writes made while a session
 * with the peer is up take part (chat_service.ts): a chat written while its
 * peer was away has nothing out early, and is not held after a crash. A marker found at start means the
 * node stopped without closing: the chat's writes wait until the peer's heads
 * were heard and we hold what it holds of ours (restore_gate.ts, the same
 * wait as after a restore), and then the marker goes.
 */
import type { ChatLog } from "../log/mod.ts";
import { batchDelete, keys, type Store } from "../store/mod.ts";

export class CommitOverlap {
  readonly #store: Store;
  /** Chats whose marker this run has committed: their entries may go out early. */
  readonly #marked = new Set<string>();
  #closed = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * For a commit in direct chat `chat`: the marker to write with it (the
   * chat's first this run; its entries then go out after the commit), or
   * null when the marker is down already and they may go out at once.
   */
  markerFor(chat: string): Deno.KvKey | null {
    return this.#marked.has(chat) || this.#closed ? null : keys.overlapMark(chat);
  }

  /** Whether entries of `chat` may go out before their commit. */
  early(chat: string): boolean {
    return this.#marked.has(chat) && !this.#closed;
  }

  /** A commit holding the chat's marker is in. */
  marked(chat: string): void {
    if (!this.#closed) this.#marked.add(chat);
  }

  /** The chat's marker is no longer ours to trust (the restore gate holds it and will clear it). */
  forget(chat: string): void {
    this.#marked.delete(chat);
  }

  /**
   * A clean close (the sessions are down, so nothing more goes out early):
   * once every write under way has settled, this run's markers go.
   */
  async close(log: ChatLog): Promise<void> {
    this.#closed = true;
    await log.settled();
    const chats = [...this.#marked];
    this.#marked.clear();
    const doomed = batchDelete(this.#store.kv);
    for (const chat of chats) await doomed.add(keys.overlapMark(chat));
    await doomed.flush();
  }
}
