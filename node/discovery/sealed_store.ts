/**
 * Sealed address records this node holds for others and serves by tag.
 *
 * Each uploader has its own slot per tag, so someone who has seen a tag (any
 * peer the owner reached) cannot squat or overwrite the owner's copy: at worst
 * they add one junk copy beside it, which the reader fails to open and skips.
 * Each uploader has a quota. The holder can read neither the record nor whose
 * it is.
 */
import { keys, type Store } from "../store/mod.ts";
import { toHex } from "../log/mod.ts";
import { MAX_SEALED, TAG_BYTES } from "./pairwise.ts";

/** Tags one uploader may fill. */
export const SEALED_QUOTA = 512;
/** Copies returned per tag, newest first. */
export const COPIES_PER_TAG = 3;

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
  /** tag hex → uploader hex → when stored */
  readonly #slots = new Map<string, Map<string, number>>();
  readonly #count = new Map<string, number>();
  #size = 0;

  private constructor(store: Store) {
    this.#store = store;
  }

  static async open(store: Store): Promise<SealedStore> {
    const s = new SealedStore(store);
    for await (const res of store.kv.list<unknown>({ prefix: keys.sealedAll() })) {
      const [, tag, up] = res.key;
      if (typeof tag !== "string" || typeof up !== "string" || !isHeld(res.value)) continue;
      s.#claim(tag, up, res.value.at);
    }
    return s;
  }

  #claim(tag: string, up: string, at: number): void {
    let slots = this.#slots.get(tag);
    if (!slots) this.#slots.set(tag, slots = new Map());
    if (!slots.has(up)) {
      this.#count.set(up, (this.#count.get(up) ?? 0) + 1);
      this.#size++;
    }
    slots.set(up, at);
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
    const up = toHex(uploader);
    const op = this.#store.kv.atomic();
    let count = this.#count.get(up) ?? 0;
    const taken: string[] = [];
    for (const { tag, blob } of items) {
      if (tag.length !== TAG_BYTES || blob.length > MAX_SEALED) continue;
      const t = toHex(tag);
      if (!this.#slots.get(t)?.has(up)) {
        if (count >= SEALED_QUOTA) continue;
        count++;
      }
      op.set(
        keys.sealed(t, up),
        { blob: blob.slice(), uploader: uploader.slice(), at: now } satisfies Held,
      );
      taken.push(t);
    }
    if (taken.length === 0) return 0;
    await op.commit();
    for (const t of taken) this.#claim(t, up, now);
    return taken.length;
  }

  /** The newest copies held for these tags, at most COPIES_PER_TAG each and `max` in all. */
  async get(tags: Uint8Array[], max = 256): Promise<Array<{ tag: Uint8Array; blob: Uint8Array }>> {
    const wanted: Array<[Uint8Array, string]> = [];
    for (const tag of tags) {
      if (tag.length !== TAG_BYTES) continue;
      const slots = this.#slots.get(toHex(tag));
      if (!slots) continue;
      const newest = [...slots].sort((a, b) => b[1] - a[1]).slice(0, COPIES_PER_TAG);
      for (const [up] of newest) wanted.push([tag, up]);
    }
    const out: Array<{ tag: Uint8Array; blob: Uint8Array }> = [];
    const picked = wanted.slice(0, max);
    for (let i = 0; i < picked.length; i += 10) {
      const part = picked.slice(i, i + 10);
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
