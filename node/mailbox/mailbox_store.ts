/**
 * The boxes a passive anchor holds for group members who are offline: opaque
 * ciphertext filed by tag (see mailbox_crypto.ts), numbered in arrival order
 * so a member fetches "everything after n". Bounded three ways: a quota per
 * uploader (boxes and bytes), a cap on the whole mailbox, and an age after
 * which a box is dropped. A refusal says which bound was hit; nothing already
 * held is ever evicted to make room, so a flood by one contact cannot push
 * out another's mail.
 */
import type { MailboxRefusal } from "../api/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { MAX_BODY_BYTES, toHex } from "../log/mod.ts";
import { MAILBOX_ID_BYTES, MAILBOX_TAG_BYTES } from "./mailbox_crypto.ts";
import { fromHex } from "../wire/mod.ts";

/** Largest box taken: an entry of the largest body, its signature and the sealing overhead. */
export const MAX_BOX_BYTES = MAX_BODY_BYTES + 8 * 1024;
/** Bytes of a box per KV value (Deno KV values are at most 64 KiB). */
const PART_BYTES = 60 * 1024;
/** Bytes of boxes per fetch answer, so it fits a frame in base64. */
export const FETCH_BYTES = 600 * 1024;

export interface MailboxLimits {
  /** Boxes one uploader may have held at once. @default 50_000 */
  readonly perUploaderBoxes: number;
  /** Bytes one uploader may have held at once. @default 256 MiB */
  readonly perUploaderBytes: number;
  /** Boxes held in all. @default 1_000_000 */
  readonly totalBoxes: number;
  /** Bytes held in all. @default 4 GiB */
  readonly totalBytes: number;
  /** How long a box is kept after it arrived, in ms. @default 30 days */
  readonly ttlMs: number;
}

export const DEFAULT_MAILBOX_LIMITS: MailboxLimits = {
  perUploaderBoxes: 50_000,
  perUploaderBytes: 256 * 1024 * 1024,
  totalBoxes: 1_000_000,
  totalBytes: 4 * 1024 * 1024 * 1024,
  ttlMs: 30 * 86_400_000,
};

/** What is stored under keys.mbox(tag, n). */
interface Held {
  id: string;
  /** The uploader, hex. */
  up: string;
  at: number;
  size: number;
  part: Uint8Array;
  /** 1:1 mail (feature dmail-ack): the commit whose token's mbox.ack deletes it (direct_ack.ts). */
  k?: string;
}

function isHeld(v: unknown): v is Held {
  const h = v as Held;
  return typeof v === "object" && v !== null && typeof h.id === "string" &&
    typeof h.up === "string" && typeof h.at === "number" && typeof h.size === "number" &&
    h.part instanceof Uint8Array;
}

export interface PutResult {
  /** Leading boxes now held (stored or already there); the rest were refused. */
  readonly taken: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Why the box after the taken ones was refused, in words for the member. */
  readonly reason?: string;
  /** The same, as a code (with `reason`). */
  readonly code?: MailboxRefusal;
}

export interface FetchResult {
  /** Changes when the mailbox lost its data: a member then starts again from 0. */
  readonly gen: string;
  readonly items: Array<{ n: number; box: Uint8Array }>;
  /** More boxes wait after the last one returned. */
  readonly more: boolean;
}

interface Usage {
  boxes: number;
  bytes: number;
}

export class MailboxStore {
  readonly #store: Store;
  readonly limits: MailboxLimits;
  #gen = "";
  #next = 1;
  /** Ids held per tag, for dedupe without a read per box. */
  readonly #ids = new Map<string, Set<string>>();
  /** The highest number held per tag (perhaps of a box swept since), for peek. */
  readonly #last = new Map<string, number>();
  readonly #usage = new Map<string, Usage>();
  readonly #total: Usage = { boxes: 0, bytes: 0 };
  /** Boxes uploaded again although held, since open: what members' has-checks save. */
  #duplicates = 0;
  /** Serialises writes: numbers and counters are assigned in memory. */
  #writing: Promise<unknown> = Promise.resolve();

  /** How an uploader is filed: its key, or (a passive anchor) its member id. */
  readonly #idOf: (uploader: Uint8Array) => Uint8Array;

  private constructor(
    store: Store,
    limits: MailboxLimits,
    idOf: (uploader: Uint8Array) => Uint8Array,
  ) {
    this.#store = store;
    this.limits = limits;
    this.#idOf = idOf;
  }

  /**
   * Opens the mailbox in `store`, counting what it holds. With `idOf`, boxes
   * are filed under the uploader's id instead of its key, and boxes filed by
   * key (before ids) are filed again by id here.
   */
  static async open(
    store: Store,
    limits: Partial<MailboxLimits> = {},
    idOf?: (uploader: Uint8Array) => Uint8Array,
  ): Promise<MailboxStore> {
    const m = new MailboxStore(store, { ...DEFAULT_MAILBOX_LIMITS, ...limits }, idOf ?? ((k) => k));
    const kv = store.kv;
    const gen = await kv.get<string>(keys.mboxMeta("gen"));
    if (typeof gen.value === "string") m.#gen = gen.value;
    else {
      m.#gen = toHex(crypto.getRandomValues(new Uint8Array(8)));
      await kv.set(keys.mboxMeta("gen"), m.#gen);
    }
    const next = await kv.get<number>(keys.mboxMeta("next"));
    if (typeof next.value === "number") m.#next = next.value;
    for await (const res of kv.list<unknown>({ prefix: keys.mboxAll() })) {
      const [, tag, n, part] = res.key;
      if (part !== undefined || typeof tag !== "string" || !isHeld(res.value)) continue;
      if (idOf && res.value.up.length === 64) {
        res.value.up = toHex(idOf(fromHex(res.value.up)));
        await kv.set(res.key, res.value);
      }
      m.#count(tag, res.value, 1);
      if (typeof n === "number") m.#last.set(tag, Math.max(m.#last.get(tag) ?? 0, n));
    }
    return m;
  }

  #count(tag: string, h: Pick<Held, "id" | "up" | "size">, sign: 1 | -1): void {
    let ids = this.#ids.get(tag);
    if (!ids) this.#ids.set(tag, ids = new Set());
    if (sign > 0) ids.add(h.id);
    else if (ids.delete(h.id) && ids.size === 0) {
      this.#ids.delete(tag);
      this.#last.delete(tag);
    }
    let u = this.#usage.get(h.up);
    if (!u) this.#usage.set(h.up, u = { boxes: 0, bytes: 0 });
    u.boxes += sign;
    u.bytes += sign * h.size;
    this.#total.boxes += sign;
    this.#total.bytes += sign * h.size;
  }

  /** Boxes and bytes held in all. */
  get usage(): Readonly<Usage> {
    return { ...this.#total };
  }

  /** Boxes uploaded although already held, since the store was opened. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Boxes and bytes held from one uploader. */
  usageOf(uploader: Uint8Array): Readonly<Usage> {
    return { ...(this.#usage.get(toHex(this.#idOf(uploader))) ?? { boxes: 0, bytes: 0 }) };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(fn);
    this.#writing = run.catch(() => {});
    return run;
  }

  /**
   * Takes boxes from `uploader` under `tag`, in order, up to the first that a
   * bound refuses. A box whose id is already held counts as taken.
   */
  put(
    uploader: Uint8Array,
    tag: string,
    items: ReadonlyArray<{ id: string; box: Uint8Array }>,
    now: number,
    k?: string,
  ): Promise<PutResult> {
    return this.#serial(async () => {
      await this.#sweep(now);
      const up = toHex(this.#idOf(uploader));
      const u = { ...(this.#usage.get(up) ?? { boxes: 0, bytes: 0 }) };
      const total = { ...this.#total };
      const held = this.#ids.get(tag) ?? new Set<string>();
      const fresh: Array<{ n: number; held: Held; box: Uint8Array }> = [];
      const seen = new Set<string>();
      let duplicates = 0;
      let reason: string | undefined;
      let code: MailboxRefusal | undefined;
      if (tag.length !== MAILBOX_TAG_BYTES * 2) [reason, code] = ["malformed tag", "malformed"];
      for (const { id, box } of reason ? [] : items) {
        if (id.length !== MAILBOX_ID_BYTES * 2) {
          [reason, code] = ["malformed box id", "malformed"];
          break;
        }
        if (held.has(id) || seen.has(id)) {
          duplicates++;
          continue;
        }
        if (box.length > MAX_BOX_BYTES) {
          [reason, code] = [`a box is at most ${MAX_BOX_BYTES} bytes`, "too-large"];
          break;
        }
        const l = this.limits;
        if (u.boxes + 1 > l.perUploaderBoxes || u.bytes + box.length > l.perUploaderBytes) {
          reason = `your mailbox quota on this anchor is full (${u.boxes} boxes, ${u.bytes} bytes)`;
          code = "quota";
          break;
        }
        if (total.boxes + 1 > l.totalBoxes || total.bytes + box.length > l.totalBytes) {
          [reason, code] = ["this anchor's mailbox is full", "full"];
          break;
        }
        u.boxes++;
        u.bytes += box.length;
        total.boxes++;
        total.bytes += box.length;
        seen.add(id);
        fresh.push({
          n: this.#next + fresh.length,
          held: {
            id,
            up,
            at: now,
            size: box.length,
            part: box.slice(0, PART_BYTES),
            ...(k ? { k } : {}),
          },
          box,
        });
      }
      await this.#commit(tag, fresh);
      this.#duplicates += duplicates;
      for (const f of fresh) this.#count(tag, f.held, 1);
      if (fresh.length > 0) this.#last.set(tag, fresh.at(-1)!.n);
      return {
        taken: fresh.length + duplicates,
        stored: fresh.length,
        duplicates,
        ...(reason ? { reason } : {}),
        ...(code ? { code } : {}),
      };
    });
  }

  async #commit(tag: string, fresh: Array<{ n: number; held: Held; box: Uint8Array }>) {
    let op = this.#store.kv.atomic();
    let bytes = 0;
    let mutations = 0;
    const flush = async () => {
      if (mutations === 0) return;
      op.set(keys.mboxMeta("next"), this.#next);
      const res = await op.commit();
      if (!res.ok) throw new Error("mailbox commit failed");
      op = this.#store.kv.atomic();
      bytes = 0;
      mutations = 0;
    };
    for (const f of fresh) {
      if (bytes + f.box.length > 500 * 1024 || mutations + 8 > 900) await flush();
      op.set(keys.mbox(tag, f.n), f.held);
      for (let i = 1; i * PART_BYTES < f.box.length; i++) {
        op.set(keys.mboxPart(tag, f.n, i), f.box.slice(i * PART_BYTES, (i + 1) * PART_BYTES));
        mutations++;
      }
      op.set(keys.mboxAt(f.held.at, tag, f.n), null);
      bytes += f.box.length + 200;
      mutations += 2;
      this.#next = Math.max(this.#next, f.n + 1);
    }
    await flush();
  }

  /** The mailbox's generation (see FetchResult). */
  get gen(): string {
    return this.#gen;
  }

  /** Whether boxes numbered after `after` may be held under `tag` (expired ones not yet swept count). */
  holds(tag: string, after: number): boolean {
    return (this.#last.get(tag) ?? 0) > after;
  }

  /** The ids among `ids` not held under `tag`. */
  missing(tag: string, ids: readonly string[]): string[] {
    const held = this.#ids.get(tag);
    return held ? ids.filter((id) => !held.has(id)) : [...ids];
  }

  /** Boxes under `tag` numbered after `after`, oldest first, up to `limit` and FETCH_BYTES. */
  async fetch(tag: string, after: number, limit: number, now: number): Promise<FetchResult> {
    const items: Array<{ n: number; box: Uint8Array }> = [];
    // No box is numbered past the largest safe integer (a peer may ask for after = 2^53 - 1,
    // which would put the listing's start past its end).
    if (!(after < Number.MAX_SAFE_INTEGER)) return { gen: this.#gen, items, more: false };
    let bytes = 0;
    let more = false;
    let cur: { n: number; parts: Uint8Array[]; size: number } | null = null;
    const done = () => {
      if (!cur) return;
      const box = new Uint8Array(cur.size);
      let at = 0;
      for (const p of cur.parts) {
        box.set(p.subarray(0, Math.max(0, cur.size - at)), at);
        at += p.length;
      }
      if (at >= cur.size) items.push({ n: cur.n, box });
      bytes += cur.size;
      cur = null;
    };
    const iter = this.#store.kv.list<unknown>({
      start: keys.mbox(tag, after + 1),
      end: [...keys.mboxTag(tag), Number.MAX_SAFE_INTEGER],
    }, { batchSize: Math.min(Math.max(limit, 1) + 1, 500) });
    for await (const res of iter) {
      const [, , n, part] = res.key;
      if (typeof n !== "number") continue;
      if (part === undefined) {
        done();
        if (items.length >= limit || bytes >= FETCH_BYTES) {
          more = true;
          break;
        }
        const h = res.value;
        // Expired but not swept yet: as good as gone.
        if (!isHeld(h) || h.at + this.limits.ttlMs <= now) continue;
        cur = { n, parts: [h.part], size: h.size };
      } else if (cur && cur.n === n && res.value instanceof Uint8Array) {
        cur.parts.push(res.value);
      }
    }
    done();
    return { gen: this.#gen, items, more };
  }

  /** Drops boxes older than the age limit. Resolves with how many were dropped. */
  sweep(now: number): Promise<number> {
    return this.#serial(() => this.#sweep(now));
  }

  async #sweep(now: number): Promise<number> {
    const kv = this.#store.kv;
    let dropped = 0;
    const iter = kv.list<unknown>({
      start: keys.mboxAtAll(),
      end: [...keys.mboxAtAll(), now - this.limits.ttlMs + 1],
    }, { batchSize: 200 });
    const gone: Array<{ tag: string; n: number; at: number }> = [];
    for await (const res of iter) {
      const [, at, tag, n] = res.key;
      if (typeof at === "number" && typeof tag === "string" && typeof n === "number") {
        gone.push({ tag, n, at });
      }
    }
    for (let i = 0; i < gone.length; i += 50) {
      const op = kv.atomic();
      const counted: Array<[string, Held]> = [];
      for (const g of gone.slice(i, i + 50)) {
        const h = await kv.get<unknown>(keys.mbox(g.tag, g.n));
        if (isHeld(h.value)) {
          counted.push([g.tag, h.value]);
          for (let p = 1; p * PART_BYTES < h.value.size; p++) {
            op.delete(keys.mboxPart(g.tag, g.n, p));
          }
        }
        op.delete(keys.mbox(g.tag, g.n));
        op.delete(keys.mboxAt(g.at, g.tag, g.n));
      }
      await op.commit();
      for (const [tag, h] of counted) this.#count(tag, h, -1);
      dropped += counted.length;
    }
    return dropped;
  }

  /**
   * The recipient took the boxes under `tag` up to number `upTo`: deletes
   * those (at most RELEASE_BOXES) filed with commit `k` (direct_ack.ts).
   * Resolves with how many were deleted.
   */
  release(tag: string, upTo: number, k: string): Promise<number> {
    return this.#serial(async () => {
      const kv = this.#store.kv;
      const found: Array<{ n: number; h: Held }> = [];
      const iter = kv.list<unknown>({
        start: keys.mbox(tag, 1),
        end: keys.mbox(tag, Math.min(upTo, Number.MAX_SAFE_INTEGER - 1) + 1),
      }, { batchSize: 200 });
      for await (const res of iter) {
        const [, , n, part] = res.key;
        if (part !== undefined || typeof n !== "number" || !isHeld(res.value)) continue;
        if (res.value.k === k) found.push({ n, h: res.value });
        if (found.length >= RELEASE_BOXES) break;
      }
      for (let i = 0; i < found.length; i += 50) {
        const op = kv.atomic();
        for (const { n, h } of found.slice(i, i + 50)) {
          for (let p = 1; p * PART_BYTES < h.size; p++) op.delete(keys.mboxPart(tag, n, p));
          op.delete(keys.mbox(tag, n));
          op.delete(keys.mboxAt(h.at, tag, n));
        }
        await op.commit();
        for (const { h } of found.slice(i, i + 50)) this.#count(tag, h, -1);
      }
      return found.length;
    });
  }
}

/** Boxes one mbox.ack deletes at most (a recipient acks again on its next visit). */
export const RELEASE_BOXES = 5_000;
