/**
 * The hex of author keys, the key of the log's per-author maps. It remembers
 * the last author asked for: entries come in runs by one author, so most
 * lookups compare 32 bytes instead of encoding them.
 */
import { toHex } from "../wire/mod.ts";

/** Lower-case hex of author keys, with the last one remembered. */
export class AuthorKeys {
  #lastAuthor = new Uint8Array(0);
  #lastKey = "";

  /** Lower-case hex of an author key. */
  of(a: Uint8Array): string {
    const last = this.#lastAuthor;
    if (a.length === last.length) {
      let i = 0;
      while (i < a.length && a[i] === last[i]) i++;
      if (i === a.length) return this.#lastKey;
    }
    const s = toHex(a);
    this.#lastAuthor = a.slice();
    this.#lastKey = s;
    return s;
  }
}
