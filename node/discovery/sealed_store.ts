/**
 * Sealed address records this node holds for others and serves by tag.
 *
 * Each uploader has its own slot per tag, so someone who has seen a tag (any
 * peer the owner reached) cannot squat or overwrite the owner's copy: at worst
 * they add one junk copy beside it, which the reader fails to open and skips.
 * Each uploader has a quota. The holder can read neither the record nor whose
 * it is.
 *
 * A contact removed or blocked has its copies dropped (drop): we hold
 * nothing for someone we no longer know.
 *
 * Lookups are answered from memory (a hive that moves asks every holder at
 * once); the copies are kept in memory up to MEMORY_BYTES and read from the
 * store beyond that, so a large anchor stays bounded.
 */
import { batchCommits, keys, type Store } from "../store/mod.ts";
import { toHex } from "../log/mod.ts";
import { MAX_SEALED, TAG_BYTES } from "./pairwise.ts";

/** Tags one uploader may fill. */
export const SEALED_QUOTA = 512;
/** Copies returned per tag, newest first. */
export const COPIES_PER_TAG = 3;
/** Bytes of copies kept in memory for lookups; the rest is read from the store. */
export const MEMORY_BYTES = 32 * 1024 * 1024;

interface Held {
  blob: Uint8Array;
  uploader: Uint8Array;
  at: number;
}

function isHeld(v: unknown): v is Held {
  const h = v as Held;
  return typeof v === "object" && v !== null && h.blob instanceof Uint8Array &&
    h.uploader instanceof Uint8Array &&
    typeof h.at === "number";
}

export class SealedStore {
  readonly #store: Store;
  /** tag hex → uploader hex → when stored, and the copy while memory allows */
  readonly #slots = new Map<string, Map<string, { at: number; blob?: Uint8Array }>>();
  readonly #count = new Map<string, number>();
  #size = 0;
  #memory = 0;
  readonly #memoryBytes: number;

  /** How an uploader is filed: its key, or (a passive anchor) its member id. */
  readonly #idOf: (uploader: Uint8Array) => Uint8Array;

  private constructor(
    store: Store,
    memoryBytes: number,
    idOf: (uploader: Uint8Array) => Uint8Array,
  ) {
    this.#store = store;
    this.#memoryBytes = memoryBytes;
    this.#idOf = idOf;
  }

  /**
   * Opens the copies held in `store`; `memoryBytes` bounds those kept in
   * memory. With `idOf`, copies are filed under the uploader's id instead of
   * its key, and copies filed by key (before ids) are filed again by id here.
   */
  static async open(
    store: Store,
    memoryBytes = MEMORY_BYTES,
    idOf?: (uploader: Uint8Array) => Uint8Array,
  ): Promise<SealedStore> {
    const s = new SealedStore(store, memoryBytes, idOf ?? ((k) => k));
    // Copies filed again by id go many to a commit (each moved whole): 100,000 in seconds.
    const refiled = batchCommits(store.kv);
    for await (const res of store.kv.list<unknown>({ prefix: keys.sealedAll() })) {
      const [, tag, up] = res.key;
      if (typeof tag !== "string" || typeof up !== "string" || !isHeld(res.value)) continue;
      let slot = up;
      if (idOf && res.value.uploader.length === 32) {
        const id = idOf(res.value.uploader);
        slot = toHex(id);
        const moved = { ...res.value, uploader: id };
        await refiled.add((op) => op.delete(res.key).set(keys.sealed(tag, slot), moved), 2);
      }
      s.#claim(tag, slot, res.value.at, res.value.blob);
    }
    await refiled.flush();
    return s;
  }

  #claim(tag: string, up: string, at: number, blob: Uint8Array): void {
    let slots = this.#slots.get(tag);
    if (!slots) this.#slots.set(tag, slots = new Map());
    const old = slots.get(up);
    if (!old) {
      this.#count.set(up, (this.#count.get(up) ?? 0) + 1);
      this.#size++;
    }
    this.#memory -= old?.blob?.length ?? 0;
    const kept = this.#memory + blob.length <= this.#memoryBytes;
    if (kept) this.#memory += blob.length;
    slots.set(up, kept ? { at, blob } : { at });
  }

  /** Copies held, counting one per uploader and tag. */
  get size(): number {
    return this.#size;
  }

  /** Stores copies from `uploader`; returns how many were taken. */
  async put(
    uploader: Uint8Array,
    items: Array<{ tag: Uint8Array; blob: Uint8Array }>,
    now: number,
  ): Promise<number> {
    const id = this.#idOf(uploader);
    const up = toHex(id);
    const op = this.#store.kv.atomic();
    let count = this.#count.get(up) ?? 0;
    const taken: Array<[string, Uint8Array]> = [];
    for (const { tag, blob } of items) {
      if (tag.length !== TAG_BYTES || blob.length > MAX_SEALED) continue;
      const t = toHex(tag);
      if (!this.#slots.get(t)?.has(up)) {
        if (count >= SEALED_QUOTA) continue;
        count++;
      }
      const copy = blob.slice();
      op.set(
        keys.sealed(t, up),
        { blob: copy, uploader: id.slice(), at: now } satisfies Held,
      );
      taken.push([t, copy]);
    }
    if (taken.length === 0) return 0;
    await op.commit();
    for (const [t, copy] of taken) this.#claim(t, up, now, copy);
    return taken.length;
  }

  /**
   * Forgets every copy `uploader` handed us, in memory and in the store (a
   * contact removed or blocked); returns how many there were.
   */
  async drop(uploader: Uint8Array): Promise<number> {
    const up = toHex(this.#idOf(uploader));
    const tags = [...this.#slots].filter(([, slots]) => slots.has(up)).map(([t]) => t);
    // At most SEALED_QUOTA of them: a few commits, each well under Deno KV's mutation cap.
    for (let i = 0; i < tags.length; i += 500) {
      const op = this.#store.kv.atomic();
      for (const t of tags.slice(i, i + 500)) op.delete(keys.sealed(t, up));
      await op.commit();
    }
    for (const t of tags) {
      const slots = this.#slots.get(t)!;
      this.#memory -= slots.get(up)?.blob?.length ?? 0;
      slots.delete(up);
      if (slots.size === 0) this.#slots.delete(t);
      this.#size--;
    }
    this.#count.delete(up);
    return tags.length;
  }

  /** The newest copies held for these tags, at most COPIES_PER_TAG each and `max` in all. */
  async get(tags: Uint8Array[], max = 256): Promise<Array<{ tag: Uint8Array; blob: Uint8Array }>> {
    const out: Array<{ tag: Uint8Array; blob: Uint8Array }> = [];
    /** Copies not kept in memory: read from the store, in order, after the others. */
    const stored: Array<[Uint8Array, string]> = [];
    for (const tag of tags) {
      if (tag.length !== TAG_BYTES) continue;
      const slots = this.#slots.get(toHex(tag));
      if (!slots) continue;
      const newest = [...slots].sort((a, b) => b[1].at - a[1].at).slice(0, COPIES_PER_TAG);
      for (const [up, slot] of newest) {
        if (out.length + stored.length >= max) break;
        if (slot.blob) out.push({ tag, blob: slot.blob });
        else stored.push([tag, up]);
      }
    }
    for (let i = 0; i < stored.length; i += 10) {
      const part = stored.slice(i, i + 10);
      const got = await this.#store.kv.getMany<unknown[]>(
        part.map(([t, up]) => keys.sealed(toHex(t), up)),
      );
      got.forEach((res, j) => {
        if (isHeld(res.value)) out.push({ tag: part[j]![0], blob: res.value.blob });
      });
    }
    return out;
  }
}
