/**
 * Sealed address records this node holds for others and serves by tag.
 *
 * A tag's slot belongs to whoever first filled it (its owner, in practice):
 * later copies from the same uploader replace it, copies from anyone else are
 * refused, so someone who has seen a tag cannot overwrite it. Each uploader has
 * a quota. The holder can read neither the record nor whose it is.
 */
import { keys, type Store } from "../store/mod.ts";
import { toHex } from "../log/mod.ts";
import { MAX_SEALED, TAG_BYTES } from "./pairwise.ts";

/** Tags one uploader may fill. */
export const SEALED_QUOTA = 512;

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
  /** tag hex → uploader hex */
  readonly #owner = new Map<string, string>();
  readonly #count = new Map<string, number>();

  private constructor(store: Store) {
    this.#store = store;
  }

  static async open(store: Store): Promise<SealedStore> {
    const s = new SealedStore(store);
    for await (const res of store.kv.list<unknown>({ prefix: keys.sealedAll() })) {
      const tag = res.key[1];
      if (typeof tag !== "string" || !isHeld(res.value)) continue;
      const up = toHex(res.value.uploader);
      s.#owner.set(tag, up);
      s.#count.set(up, (s.#count.get(up) ?? 0) + 1);
    }
    return s;
  }

  get size(): number {
    return this.#owner.size;
  }

  /** Stores copies from `uploader`; returns how many were taken. */
  async put(
    uploader: Uint8Array,
    items: Array<{ tag: Uint8Array; blob: Uint8Array }>,
    now: number,
  ): Promise<number> {
    const up = toHex(uploader);
    const op = this.#store.kv.atomic();
    let taken = 0;
    let count = this.#count.get(up) ?? 0;
    const claimed: string[] = [];
    for (const { tag, blob } of items) {
      if (tag.length !== TAG_BYTES || blob.length > MAX_SEALED) continue;
      const t = toHex(tag);
      const holder = this.#owner.get(t);
      if (holder !== undefined && holder !== up) continue;
      if (holder === undefined) {
        if (count >= SEALED_QUOTA) continue;
        count++;
        claimed.push(t);
      }
      op.set(
        keys.sealed(t),
        { blob: blob.slice(), uploader: uploader.slice(), at: now } satisfies Held,
      );
      taken++;
    }
    if (taken === 0) return 0;
    await op.commit();
    for (const t of claimed) this.#owner.set(t, up);
    this.#count.set(up, count);
    return taken;
  }

  /** The copies held for these tags. */
  async get(tags: Uint8Array[]): Promise<Array<{ tag: Uint8Array; blob: Uint8Array }>> {
    const wanted = tags.filter((t) => t.length === TAG_BYTES && this.#owner.has(toHex(t)));
    const out: Array<{ tag: Uint8Array; blob: Uint8Array }> = [];
    for (let i = 0; i < wanted.length; i += 10) {
      const part = wanted.slice(i, i + 10);
      const got = await this.#store.kv.getMany<unknown[]>(part.map((t) => keys.sealed(toHex(t))));
      got.forEach((res, j) => {
        if (isHeld(res.value)) out.push({ tag: part[j]!, blob: res.value.blob });
      });
    }
    return out;
  }
}
