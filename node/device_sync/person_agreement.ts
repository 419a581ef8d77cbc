/**
 * The person's agreement key (issue 13 item 1, feature devagree1): an X25519
 * key of the person, apart from the person's ed25519 key, that every device
 * of the person holds, so what contacts seal to the person (group epoch keys)
 * opens on a device without the person's signing key.
 *
 * Why not the person key's own X25519 form: its secret is the ed25519 scalar,
 * which signs. Why not the `agree` key of an ssh-agent node: it is also that
 * node's pairwise secret with each contact (address records, mail tags), and
 * it cannot change. This one changes at each removal of a device.
 *
 * On the node with the person key, generation g (the number of the person's
 * devices removed so far) is SHA-256(label || the person key's signature of
 * label || g): only the person key makes it, the same from a key file or an
 * agent, and nothing private is written (an agent node writes none). It hands
 * the current one to each device it certified, sealed to the device key
 * (`devsync.agree`, on the sibling session). A device keeps the ones it was
 * handed (at most MAX_KEPT, newest last) in its store. Both publish the newest
 * in their hello (`pagree`); contacts seal group keys to it (PersonAgreeKeys).
 *
 * A removed device keeps the generations it was handed, so the removal moves
 * the person to the next one before the groups are rekeyed; contacts drop the
 * key they held at the revocation (PersonAgreeKeys.revoked).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import {
  agreementPublicKey,
  type KeyPair,
  PERSON_AGREEMENT_LABEL,
  type Signer,
} from "../identity/mod.ts";
import { keys } from "../store/mod.ts";

/** Generations a device keeps (older group keys also came handed, devgroups1). */
export const MAX_KEPT = 8;
/** Generations the person key's node derives (what was sealed to an older one no longer opens). */
export const MAX_DERIVED = 256;

const encoder = new TextEncoder();

interface Held {
  readonly gen: number;
  readonly pair: KeyPair;
}

export class PersonAgreement {
  readonly #kv: Deno.Kv;
  readonly #person: Uint8Array;
  /** On the node with the person key: its signer, and how many devices were removed. */
  readonly #source: { signer: Signer; generation: () => number } | undefined;
  /** Oldest first. */
  #held: Held[] = [];
  #deriving: Promise<void> = Promise.resolve();

  private constructor(
    kv: Deno.Kv,
    person: Uint8Array,
    source?: { signer: Signer; generation: () => number },
  ) {
    this.#kv = kv;
    this.#person = person;
    this.#source = source;
  }

  /** On the node with the person key: derives the generations up to the current one. */
  static async forPerson(
    kv: Deno.Kv,
    signer: Signer,
    generation: () => number,
  ): Promise<PersonAgreement> {
    const pa = new PersonAgreement(kv, signer.publicKey, { signer, generation });
    await pa.refresh().catch(() => {}); // ssh-agent away: again when asked (refresh)
    return pa;
  }

  /** On a device of `person`: the generations handed so far. */
  static async forDevice(kv: Deno.Kv, person: Uint8Array): Promise<PersonAgreement> {
    const pa = new PersonAgreement(kv, person);
    const got = await kv.get<{ gen: number; seed: Uint8Array }[]>(keys.personAgreement());
    for (const h of Array.isArray(got.value) ? got.value : []) {
      if (typeof h?.gen === "number" && h.seed instanceof Uint8Array && h.seed.length === 32) {
        pa.#held.push({ gen: h.gen, pair: pa.#pair(h.seed) });
      }
    }
    return pa;
  }

  get onDevice(): boolean {
    return this.#source === undefined;
  }

  /** The newest generation held, if any. */
  current(): { gen: number; pair: KeyPair } | undefined {
    if (this.#source && this.#held.at(-1)?.gen !== this.#source.generation()) {
      this.refresh().catch(() => {}); // a removal, or ssh-agent was away: derive it
    }
    return this.#held.at(-1);
  }

  /** The X25519 public key of the newest generation: what the hello publishes. */
  publicKey(): Uint8Array | undefined {
    const c = this.current();
    return c && agreementPublicKey(c.pair);
  }

  /** Every generation held, newest first: what group keys sealed to the person open with. */
  pairs(): KeyPair[] {
    return this.#held.map((h) => h.pair).reverse();
  }

  /** On the node with the person key: derives every generation up to the current one. */
  refresh(): Promise<void> {
    const source = this.#source;
    if (!source) return Promise.resolve();
    const run = this.#deriving.then(async () => {
      const top = source.generation();
      const from = Math.max(0, top - MAX_DERIVED + 1);
      const have = new Set(this.#held.map((h) => h.gen));
      const next = this.#held.filter((h) => h.gen >= from);
      for (let g = from; g <= top; g++) {
        if (have.has(g)) continue;
        const label = encoder.encode(`${PERSON_AGREEMENT_LABEL}${g}`);
        const sig = await source.signer.sign(label);
        const seed = sha256(new Uint8Array([...label, ...sig]));
        next.push({ gen: g, pair: this.#pair(seed) });
      }
      this.#held = next.sort((a, b) => a.gen - b.gen);
    });
    this.#deriving = run.catch(() => {});
    return run;
  }

  /** On a device: keeps a generation the person key's node handed; whether it was new. */
  async take(gen: number, seed: Uint8Array): Promise<boolean> {
    if (this.#source || seed.length !== 32 || this.#held.some((h) => h.gen === gen)) return false;
    const next = [...this.#held, { gen, pair: this.#pair(seed) }]
      .sort((a, b) => a.gen - b.gen).slice(-MAX_KEPT);
    await this.#kv.set(
      keys.personAgreement(),
      next.map((h) => ({ gen: h.gen, seed: h.pair.seed })),
    );
    this.#held = next;
    return true;
  }

  #pair(seed: Uint8Array): KeyPair {
    return { publicKey: this.#person, seed, comment: "" };
  }
}
