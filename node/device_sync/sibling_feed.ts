/**
 * The half of a record sync that goes to the siblings (contact_sync.ts,
 * prefs_sync.ts): each sibling with a session up gets the records numbered
 * above the highest it took, oldest first, in requests of one batch; what it
 * took is kept in the store per sibling, so a restart resumes there. One push
 * at a time per sibling; another asked meanwhile runs after it.
 */
import type { RpcSession } from "../protocol/mod.ts";
import { toHex } from "../wire/mod.ts";

/** What a feed sends: one sync's records and its request. */
export interface FeedSource<C> {
  /** Resolves once the records are loaded. */
  ready(): Promise<void>;
  /** The records above `after` for `sibling`, one request's worth, and the number they cover up to. */
  changesAfter(sibling: Uint8Array, after: number): Promise<{ changes: C[]; upTo: number }>;
  /** Sends them (answered once the sibling took them). */
  send(rpc: RpcSession, changes: C[]): Promise<unknown>;
  /** Where the highest number sibling `key` took is kept. */
  ackKey(key: Uint8Array): Deno.KvKey;
}

interface Sibling {
  readonly key: Uint8Array;
  readonly rpc: RpcSession;
  acked?: number;
}

export class SiblingFeed<C> {
  readonly #kv: Deno.Kv;
  readonly #source: FeedSource<C>;
  /** Siblings with a session up that list the sync's feature, by key hex. */
  readonly #siblings = new Map<string, Sibling>();
  readonly #pushing = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();

  constructor(kv: Deno.Kv, source: FeedSource<C>) {
    this.#kv = kv;
    this.#source = source;
  }

  /** A sibling's session is up and it lists the feature: it gets what it has not taken. */
  attach(key: Uint8Array, rpc: RpcSession): void {
    const k = toHex(key);
    this.#siblings.set(k, { key, rpc });
    rpc.onClose(() => {
      if (this.#siblings.get(k)?.rpc === rpc) this.#siblings.delete(k);
    });
    this.#push(k);
  }

  /** A record was kept: every sibling up gets it. */
  pushAll(): void {
    for (const k of this.#siblings.keys()) this.#push(k);
  }

  clear(): void {
    this.#siblings.clear();
  }

  #push(k: string): void {
    if (this.#pushing.has(k)) {
      this.#again.add(k);
      return;
    }
    const run = this.#send(k).catch(() => {}).finally(() => {
      this.#pushing.delete(k);
      if (this.#again.delete(k) && this.#siblings.has(k)) this.#push(k);
    });
    this.#pushing.set(k, run);
  }

  /** Sends sibling `k` every record numbered above what it took, oldest first. */
  async #send(k: string): Promise<void> {
    await this.#source.ready();
    const s = this.#siblings.get(k);
    if (!s) return;
    s.acked ??= (await this.#kv.get<number>(this.#source.ackKey(s.key))).value ?? 0;
    for (;;) {
      const acked: number = s.acked ?? 0;
      const { changes, upTo } = await this.#source.changesAfter(s.key, acked);
      if (upTo <= acked || s.rpc.closed) return;
      // Up to the last record sent (or skipped as the sibling's own) is taken once it answers.
      if (changes.length > 0) await this.#source.send(s.rpc, changes);
      s.acked = upTo;
      await this.#kv.set(this.#source.ackKey(s.key), upTo);
    }
  }
}
