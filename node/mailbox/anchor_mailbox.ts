/**
 * The anchor's side of the group mailbox: serves `mbox.put`, `mbox.has`, `mbox.get`
 * and (for 1:1 mail, which has many tags to look under) `mbox.peek` to its contacts, and tells the sessions that fetched a tag when new boxes
 * arrive under it (`mbox.notify`), so members online at once hear of each
 * other's mail without polling.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { decodeB64, type RpcSession } from "../protocol/mod.ts";
import type { MailboxRefusal } from "../api/mod.ts";
import type { MailboxStore } from "./mailbox_store.ts";
import { fromHex } from "../wire/mod.ts";
import { ackCommit } from "./direct_ack.ts";

/** What the anchor's mailbox did, beside its log lines. */
export type AnchorMailboxNote =
  /** A member's boxes were refused (the ones before it are held). */
  | { readonly op: "refused"; readonly peer: Uint8Array; readonly code: MailboxRefusal }
  /** Boxes past their age were dropped. */
  | { readonly op: "expired"; readonly boxes: number };

/** Tags one session may wait on. */
const MAX_WATCHED_PER_SESSION = 512;

export interface AnchorMailboxOptions {
  /** Times the sweeps; its `now` dates boxes unless `now` is given. @default systemClock */
  readonly clock?: Clock;
  /** The time boxes are dated and expired by. @default clock.now */
  readonly now?: () => number;
  readonly log: (line: string) => void;
  readonly note?: (note: AnchorMailboxNote) => void;
  /** How a contact is named in the log. */
  readonly name: (peer: Uint8Array) => string;
}

export class AnchorMailbox {
  readonly store: MailboxStore;
  readonly #options: AnchorMailboxOptions;
  readonly #clock: Clock;
  readonly #now: () => number;
  /** tag → sessions that fetched it. */
  readonly #watchers = new Map<string, Set<RpcSession>>();
  readonly #watched = new WeakMap<RpcSession, Set<string>>();
  #sweepTimer: TimerId | undefined;

  constructor(store: MailboxStore, options: AnchorMailboxOptions) {
    this.store = store;
    this.#options = options;
    const clock = this.#clock = options.clock ?? systemClock;
    this.#now = options.now ?? (() => clock.now());
  }

  /** Drops expired boxes now and every `everyMs`. */
  startSweeping(everyMs = 600_000): void {
    const sweep = () =>
      this.store.sweep(this.#now()).then((n) => {
        if (n > 0) {
          this.#options.log(`mailbox: dropped ${n} expired boxes`);
          this.#options.note?.({ op: "expired", boxes: n });
        }
      }).catch(() => {});
    sweep();
    this.#sweepTimer = this.#clock.setInterval(sweep, everyMs);
  }

  /** Stops sweeping. */
  close(): void {
    this.#clock.clearInterval(this.#sweepTimer);
  }

  #watch(rpc: RpcSession, tag: string): void {
    let mine = this.#watched.get(rpc);
    if (!mine) {
      this.#watched.set(rpc, mine = new Set());
      rpc.onClose(() => {
        for (const t of mine!) {
          const set = this.#watchers.get(t);
          set?.delete(rpc);
          if (set?.size === 0) this.#watchers.delete(t);
        }
      });
    }
    if (mine.has(tag) || mine.size >= MAX_WATCHED_PER_SESSION) return;
    mine.add(tag);
    let set = this.#watchers.get(tag);
    if (!set) this.#watchers.set(tag, set = new Set());
    set.add(rpc);
  }

  /** Serves the mailbox to contact `peer` on `rpc`. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("mbox.put", async (params) => {
      const res = await this.store.put(
        peer,
        params.tag,
        params.items.map((i) => ({ id: i.i, box: decodeB64(i.b) })),
        this.#now(),
        params.k,
      );
      if (res.reason) {
        this.#options.log(
          `mailbox: refused boxes from ${this.#options.name(peer)}: ${res.reason}`,
        );
        this.#options.note?.({ op: "refused", peer, code: res.code ?? "malformed" });
      }
      if (res.stored > 0) {
        this.#watch(rpc, params.tag);
        for (const other of this.#watchers.get(params.tag) ?? []) {
          if (other !== rpc && !other.closed) {
            other.request("mbox.notify", { tag: params.tag }, 5000).catch(() => {});
          }
        }
      }
      return {
        taken: res.taken,
        stored: res.stored,
        duplicates: res.duplicates,
        ...(res.reason ? { reason: res.reason } : {}),
      };
    });
    rpc.handle("mbox.has", (params) => {
      return Promise.resolve({ missing: this.store.missing(params.tag, params.ids) });
    });
    rpc.handle("mbox.peek", (params) => {
      for (const { t } of params.tags) this.#watch(rpc, t);
      const tags = params.tags.filter(({ t, a }) => this.store.holds(t, a)).map(({ t }) => t);
      return Promise.resolve({ gen: this.store.gen, tags });
    });
    rpc.handle("mbox.ack", async (params) => {
      const k = ackCommit(fromHex(params.token));
      return { deleted: await this.store.release(params.tag, params.upTo, k) };
    });
    // Boxes as their bytes: in binary to a member that lists bulk1 (protocol/bulk.ts).
    rpc.handleBulk("mbox.get", async (params) => {
      this.#watch(rpc, params.tag);
      const res = await this.store.fetch(
        params.tag,
        params.after,
        params.limit ?? 500,
        this.#now(),
      );
      return {
        gen: res.gen,
        items: res.items.map((i) => ({ n: i.n, b: i.box })),
        more: res.more,
      };
    });
  }
}
