/**
 * How far a peer holds our entries in each chat (the "delivered" state).
 *
 * A mark moves each time a peer answers a push, so for live chat that is once
 * per message; writing it at once cost an fsync'd commit per message that sat
 * in the store's queue ahead of the next message's own commit. Marks are kept
 * in memory and written in the background, coalesced, a little later. Losing
 * the latest ones in a crash loses nothing that matters: the peer still holds
 * the entries, and the next session's heads exchange moves the mark again.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { keys } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";

/** Options for {@linkcode DeliveryMarks}. */
export interface DeliveryMarksOptions {
  /** How long a moved mark waits before it is written, in ms. @default 100 */
  readonly delayMs?: number;
  /** Runs the delay. @default systemClock */
  readonly clock?: Clock;
  /** Where a mark is stored. @default keys.delivered (an anchor's hold: keys.anchored) */
  readonly key?: (chat: string, who: Uint8Array) => Deno.KvKey;
}

/** Marks per atomic write, well under Deno KV's limit of mutations. */
const WRITE_BATCH = 500;

interface Dirty {
  readonly chat: string;
  readonly who: Uint8Array;
  readonly seq: number;
}

export class DeliveryMarks {
  readonly #kv: Deno.Kv;
  readonly #delayMs: number;
  readonly #clock: Clock;
  readonly #key: (chat: string, who: Uint8Array) => Deno.KvKey;
  /** chat/hex → the highest seq known held. */
  readonly #known = new Map<string, number>();
  readonly #loading = new Map<string, Promise<number>>();
  /** Marks moved and not yet written. */
  #dirty = new Map<string, Dirty>();
  #timer: TimerId | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(kv: Deno.Kv, options: DeliveryMarksOptions = {}) {
    this.#kv = kv;
    this.#delayMs = options.delayMs ?? 100;
    this.#clock = options.clock ?? systemClock;
    this.#key = options.key ?? keys.delivered;
  }

  /** The highest seq of ours in `chat` that `who` is known to hold; 0 when none. */
  get(chat: string, who: Uint8Array): Promise<number> {
    const k = `${chat}/${toHex(who)}`;
    const known = this.#known.get(k);
    if (known !== undefined) return Promise.resolve(known);
    let loading = this.#loading.get(k);
    if (!loading) {
      loading = this.#kv.get<unknown>(this.#key(chat, who)).then((res) => {
        const stored = typeof res.value === "number" ? res.value : 0;
        // A mark raised while this read was under way is newer than what it read.
        const seq = Math.max(stored, this.#known.get(k) ?? 0);
        this.#known.set(k, seq);
        return seq;
      }).finally(() => this.#loading.delete(k));
      this.#loading.set(k, loading);
    }
    return loading;
  }

  /** Records that `who` holds our entries up to `seq`; true when that moved the mark. */
  async raise(chat: string, who: Uint8Array, seq: number): Promise<boolean> {
    const k = `${chat}/${toHex(who)}`;
    if (seq <= (this.#known.get(k) ?? await this.get(chat, who))) return false;
    // Checked again: another raise may have moved it while we read.
    if (seq <= this.#known.get(k)!) return false;
    this.#known.set(k, seq);
    this.#dirty.set(k, { chat, who, seq });
    if (this.#timer === undefined && !this.#closed) {
      const timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.flush().catch(() => {});
      }, this.#delayMs);
      this.#clock.unref(timer);
      this.#timer = timer;
    }
    return true;
  }

  /** Writes every moved mark now; resolves once they are committed. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // One write at a time, so an older mark never lands after a newer one.
    this.#writing = this.#writing.catch(() => {}).then(async () => {
      const batch = [...this.#dirty];
      this.#dirty = new Map();
      for (let i = 0; i < batch.length; i += WRITE_BATCH) {
        const part = batch.slice(i, i + WRITE_BATCH);
        const op = this.#kv.atomic();
        for (const [, d] of part) op.set(this.#key(d.chat, d.who), d.seq);
        try {
          await op.commit();
        } catch (err) {
          // Written next time, unless a newer mark for the same chat is waiting.
          for (const [k, d] of batch.slice(i)) if (!this.#dirty.has(k)) this.#dirty.set(k, d);
          throw err;
        }
      }
    });
    return this.#writing;
  }

  /** Writes what is pending and stops; later marks are kept in memory only. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush().catch(() => {});
  }
}
