/**
 * How far the person has read each chat on this node: the Lamport clock up
 * to which its entries count as read (unread counts are the entries above
 * it, chat_service.ts). Entries carry their Lamport clock, so a mark means
 * the same on each of the person's devices, and device_sync/prefs_sync.ts
 * hands marks between them (feature devprefs1). A mark only rises: a read
 * here, or a sibling's higher mark, never makes read entries unread again.
 */
import { keys } from "../store/mod.ts";

export class ReadMarks {
  readonly #kv: Deno.Kv;
  readonly #listeners = new Set<(chat: string, mark: number) => void>();
  /** Raises one at a time, so two never read the same old mark and both write. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Chat `chat`'s mark (0 when nothing was read). */
  async get(chat: string): Promise<number> {
    const v = (await this.#kv.get<unknown>(keys.readMark(chat))).value;
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  }

  /** Every chat with a mark. */
  async *all(): AsyncGenerator<[chat: string, mark: number]> {
    for await (const e of this.#kv.list<unknown>({ prefix: keys.readMarks() })) {
      const chat = e.key[1];
      if (typeof chat === "string" && typeof e.value === "number") yield [chat, e.value];
    }
  }

  /** The person read `chat` up to `mark` here: raised, and each listener told. */
  async read(chat: string, mark: number): Promise<void> {
    const now = await this.raise(chat, mark);
    if (now === null) return;
    for (const l of this.#listeners) {
      try {
        l(chat, now);
      } catch { /* a listener's failure is its own */ }
    }
  }

  /**
   * Raises `chat`'s mark to `mark` (a sibling's, say) without telling the
   * listeners: the mark now, or null when it did not move.
   */
  raise(chat: string, mark: number): Promise<number | null> {
    const run = this.#queue.then(async () => {
      if (mark <= await this.get(chat)) return null;
      await this.#kv.set(keys.readMark(chat), mark);
      return mark;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Calls `listener` for each mark the person moves here. */
  onRead(listener: (chat: string, mark: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
