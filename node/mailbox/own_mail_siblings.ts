/**
 * What own mail (own_mail.ts) keeps of each of the person's other devices,
 * learnt on their direct sessions (device_sync/sibling_sync.ts): whether its
 * hello listed ownmail1 (and ownmail2) and the X25519 key it publishes, and how far it holds
 * each author's chain of each direct chat (its heads, as the chat sync
 * learns them), so what it took directly is not filed for it again.
 */
import {
  type Hello,
  OWN_MAIL_FEATURE,
  OWN_MAIL_RECORDS_FEATURE,
  peerHas,
} from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { toHex } from "../wire/mod.ts";

/** What we learnt of a sibling when we last met it (keys.ownMailSibling). */
export interface Seen {
  /** Its hello listed ownmail1. */
  readonly reads: boolean;
  /** Its hello listed ownmail2: it opens boxes of settings and invites (absent: not known). */
  readonly records?: boolean;
  /** The X25519 key its hello published (base64), if any. */
  readonly agree?: string;
}

export class SiblingNotes {
  readonly #kv: Deno.Kv;
  /** Per sibling and chat, the write of what it holds under way (one at a time). */
  readonly #holding = new Map<string, Promise<void>>();

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** A sibling's session checked out with this hello. */
  async met(sibling: Uint8Array, hello: Hello): Promise<void> {
    const seen: Seen = {
      reads: peerHas(hello, OWN_MAIL_FEATURE),
      records: peerHas(hello, OWN_MAIL_RECORDS_FEATURE),
      ...(hello.agree ? { agree: hello.agree } : {}),
    };
    await this.#kv.set(keys.ownMailSibling(sibling), seen);
  }

  /** What we learnt when we last met it; undefined if never. */
  async seen(sibling: Uint8Array): Promise<Seen | undefined> {
    const v = (await this.#kv.get<Seen>(keys.ownMailSibling(sibling))).value;
    return typeof v === "object" && v !== null && typeof v.reads === "boolean" ? v : undefined;
  }

  /** The sibling holds these heads of direct chat `chat` (kept: the highest per author). */
  held(
    sibling: Uint8Array,
    chat: string,
    heads: Map<string, { author: Uint8Array; seq: number }>,
  ): void {
    const k = `${toHex(sibling)}/${chat}`;
    const run = (this.#holding.get(k) ?? Promise.resolve()).then(async () => {
      const key = keys.ownMailHeld(sibling, chat);
      const was = (await this.#kv.get<Record<string, number>>(key)).value ?? {};
      let grew = false;
      for (const [author, h] of heads) {
        if (h.seq > (was[author] ?? 0)) [was[author], grew] = [h.seq, true];
      }
      if (grew) await this.#kv.set(key, was);
    }).catch(() => {});
    this.#holding.set(k, run);
    run.finally(() => {
      if (this.#holding.get(k) === run) this.#holding.delete(k);
    });
  }

  /** Per author (hex), the highest seq of `chat` the sibling said it holds. */
  async holds(sibling: Uint8Array, chat: string): Promise<Record<string, number>> {
    await this.#holding.get(`${toHex(sibling)}/${chat}`); // a write under way counts
    const v = (await this.#kv.get<Record<string, number>>(keys.ownMailHeld(sibling, chat))).value;
    return typeof v === "object" && v !== null ? v : {};
  }
}
