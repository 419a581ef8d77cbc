/**
 * The introductions a node made and was offered, in memory (a person has a
 * handful open at a time) and written through to the store, with the caps
 * that keep one contact from filling them.
 */
import { RojError } from "../errors.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import type { Got, Made } from "./introduction.ts";

/** Introductions offered to us that are open at once; more are answered `busy`. */
export const MAX_OPEN_OFFERED = 64;
/** Of those, from one introducer. */
export const MAX_OPEN_OFFERED_PER_INTRODUCER = 16;
/** Introductions we made that are open at once. */
export const MAX_OPEN_MADE = 256;
/** Ended introductions remembered on each side (the bare fact); the oldest go first. */
export const MAX_ENDED = 1024;

const OPEN_GOT: ReadonlySet<string> = new Set(["pending", "accepted"]);
const OPEN_MADE: ReadonlySet<string> = new Set(["pending", "accepted-by-one", "both"]);

export const isOpenGot = (g: Got): boolean => OPEN_GOT.has(g.phase);
export const isOpenMade = (m: Made): boolean => OPEN_MADE.has(m.phase);

export class IntroRecords {
  readonly #kv: Deno.Kv;
  /** Written through to the store; not on an anchor, which keeps no member's key at rest. */
  readonly #persist: boolean;
  readonly made = new Map<string, Made>();
  readonly got = new Map<string, Got>();

  private constructor(kv: Deno.Kv, persist: boolean) {
    this.#kv = kv;
    this.#persist = persist;
  }

  /**
   * The records in `kv`. Without `persist` (a passive anchor brokering its
   * members' cards) they are kept in memory only, and any stored by an older
   * version are deleted here: they hold members' keys.
   */
  static async open(kv: Deno.Kv, persist = true): Promise<IntroRecords> {
    const r = new IntroRecords(kv, persist);
    for await (const e of kv.list<Made>({ prefix: keys.introsMade() })) {
      if (!persist) await kv.delete(e.key);
      else if (typeof e.value?.id === "string") r.made.set(e.value.id, e.value);
    }
    for await (const e of kv.list<Got>({ prefix: keys.introsGot() })) {
      if (!persist) await kv.delete(e.key);
      else if (typeof e.value?.id === "string") r.got.set(e.value.id, e.value);
    }
    return r;
  }

  async putMade(m: Made): Promise<void> {
    this.made.set(m.id, m);
    if (this.#persist) await this.#kv.set(keys.introMade(m.id), m);
  }

  async putGot(g: Got): Promise<void> {
    this.got.set(g.id, g);
    if (this.#persist) await this.#kv.set(keys.introGot(g.id), g);
  }

  async dropMade(id: string): Promise<void> {
    this.made.delete(id);
    if (this.#persist) await this.#kv.delete(keys.introMade(id));
  }

  async dropGot(id: string): Promise<void> {
    this.got.delete(id);
    if (this.#persist) await this.#kv.delete(keys.introGot(id));
  }

  /** @throws {RojError} busy past the caps, exists when these two have an open introduction here */
  roomToMake(a: Uint8Array, b: Uint8Array): void {
    const open = [...this.made.values()].filter(isOpenMade);
    if (open.length >= MAX_OPEN_MADE) {
      throw new RojError("busy", `${MAX_OPEN_MADE} introductions are open already`);
    }
    const same = (x: Uint8Array | null, y: Uint8Array) => x !== null && bytesEqual(x, y);
    if (open.some((m) => (same(m.a, a) && same(m.b, b)) || (same(m.a, b) && same(m.b, a)))) {
      throw new RojError("exists", "an introduction of these two is open already");
    }
  }

  /** @throws {RojError} busy past the caps */
  roomForOffer(introducer: Uint8Array): void {
    const open = [...this.got.values()].filter(isOpenGot);
    const theirs = open.filter((g) => bytesEqual(g.introducer, introducer)).length;
    if (open.length >= MAX_OPEN_OFFERED || theirs >= MAX_OPEN_OFFERED_PER_INTRODUCER) {
      throw new RojError("busy", "too many introductions are waiting already");
    }
  }

  /** Past MAX_ENDED ended introductions on either side, the oldest are forgotten. */
  async trim(): Promise<void> {
    const ended = <T extends { id: string; at: number }>(
      all: Iterable<T>,
      open: (x: T) => boolean,
    ) => [...all].filter((x) => !open(x)).sort((x, y) => x.at - y.at);
    const got = ended(this.got.values(), isOpenGot);
    for (const g of got.slice(0, Math.max(0, got.length - MAX_ENDED))) await this.dropGot(g.id);
    const made = ended(this.made.values(), isOpenMade);
    for (const m of made.slice(0, Math.max(0, made.length - MAX_ENDED))) await this.dropMade(m.id);
  }
}
