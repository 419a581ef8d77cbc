/**
 * Cards imported while neither their maker nor an anchor was connected
 * (`roj import` offline): kept in the store until a session that can pass the
 * request on comes up, so a restart loses none. Each is dropped once sent,
 * once its card expires, or when declined here.
 */
import { RojError } from "../errors.ts";
import { keys } from "../store/mod.ts";

/** Imports waiting to be sent at once; more are refused `busy`. */
export const MAX_QUEUED_IMPORTS = 16;

export interface QueuedImport {
  /** 32 hex digits: the id the request will carry. */
  readonly id: string;
  /** The card as imported (signed by `maker`, or by its person). */
  readonly card: Uint8Array;
  readonly person: Uint8Array;
  readonly name: string;
  /** The contact who made the card; null for someone's own card (it goes through an anchor). */
  readonly maker: Uint8Array | null;
  /** The card's expiry: past it, the import is dropped. */
  readonly expires: number;
  readonly at: number;
}

function isQueued(v: unknown): v is QueuedImport {
  const q = v as QueuedImport;
  return typeof v === "object" && v !== null && typeof q.id === "string" &&
    q.card instanceof Uint8Array && q.person instanceof Uint8Array &&
    typeof q.name === "string" && (q.maker === null || q.maker instanceof Uint8Array) &&
    typeof q.expires === "number" && typeof q.at === "number";
}

export class ImportQueue {
  readonly #kv: Deno.Kv;
  readonly #all = new Map<string, QueuedImport>();

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  static async open(kv: Deno.Kv): Promise<ImportQueue> {
    const q = new ImportQueue(kv);
    for await (const e of kv.list<unknown>({ prefix: keys.introsQueued() })) {
      if (isQueued(e.value)) q.#all.set(e.value.id, e.value);
    }
    return q;
  }

  /** Oldest first. */
  all(): QueuedImport[] {
    return [...this.#all.values()].sort((a, b) => a.at - b.at);
  }

  /** @throws {RojError} busy past MAX_QUEUED_IMPORTS */
  async add(q: QueuedImport): Promise<void> {
    if (this.#all.size >= MAX_QUEUED_IMPORTS) {
      throw new RojError("busy", `${MAX_QUEUED_IMPORTS} imported cards wait to be sent already`);
    }
    this.#all.set(q.id, q);
    await this.#kv.set(keys.introQueued(q.id), q);
  }

  async drop(id: string): Promise<void> {
    this.#all.delete(id);
    await this.#kv.delete(keys.introQueued(id));
  }

  /** Drops those whose card expired; resolves with them. */
  async sweep(now: number): Promise<QueuedImport[]> {
    const gone = this.all().filter((q) => q.expires <= now);
    for (const q of gone) await this.drop(q.id);
    return gone;
  }
}
