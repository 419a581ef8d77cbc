/**
 * A person's devices find each other after they all moved (issue 13 item 5:
 * "both of alice's devices move to new addresses at once: the cascade
 * restores every pair").
 *
 * A device dials its siblings at the addresses they told it last
 * (`devsync.addresses`, sibling_sync.ts). When every one of them moved, none
 * of those answers, and no sibling can tell another where it is now. So each
 * device does for its siblings what the cascade does for contacts: on every
 * session with a contact (anchors included) it hands its own address record
 * (the one Discovery signed with this node's key and keeps in the store),
 * sealed for each sibling under their pairwise tag (discovery/pairwise.ts),
 * with `addr.put`, as it hands the copies for its contacts. A sibling that
 * cannot reach it asks its own sessions (`addr.get`) for that tag, opens the
 * copy, checks the device's signature, and dials the record's addresses.
 *
 * The holder sees a tag and a blob, as for any contact's copy: it learns
 * neither whose record it is nor for whom, and a device's address reaches
 * only the person's own devices this way. No new wire method: the holder's
 * side is the one every node already serves (feature addr1).
 */
import type { Pair } from "../discovery/mod.ts";
import { openRecord } from "../discovery/mod.ts";
import { createVerifier } from "../identity/mod.ts";
import { decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import type { LiveSession, SessionManager } from "../sessions/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import type { OwnDevices } from "./own_devices.ts";

/** Per addr.* request to a holder: small and local. */
const REQUEST_TIMEOUT_MS = 5000;
/** Tags per addr.get (the schema's limit; a person has far fewer devices). */
const MAX_TAGS = 256;

/** What a copy found names: the sibling's record's seq and addresses. */
export interface FoundSibling {
  readonly seq: number;
  readonly addresses: string[];
}

export interface SiblingFinderDeps {
  /** This node's key (the person's, or this device's). */
  readonly me: Uint8Array;
  readonly own: OwnDevices;
  readonly kv: Deno.Kv;
  readonly sessions: SessionManager;
  readonly now: () => number;
  /** Our pairwise tags and seals with a key (discovery/pairwise.ts). */
  readonly pair: (them: Uint8Array) => Pair;
}

export class SiblingFinder {
  readonly #d: SiblingFinderDeps;
  readonly #verifier = createVerifier();
  /** Per sibling (hex): the newest seq of its record found at a holder, dialled once. */
  readonly #dialled = new Map<string, number>();

  constructor(deps: SiblingFinderDeps) {
    this.#d = deps;
  }

  /** Our person's other keys that speak for it now: the person key and the unrevoked devices. */
  siblings(): Uint8Array[] {
    const now = this.#d.now();
    const all = [this.#d.own.person, ...this.#d.own.keys()];
    const seen = new Set<string>();
    return all.filter((k) => {
      const id = toHex(k);
      if (seen.has(id) || bytesEqual(k, this.#d.me)) return false;
      seen.add(id);
      return this.#d.own.speaksAt(k, now);
    });
  }

  /** Hands our record, sealed for each sibling, to one holder. */
  async handOut(rpc: RpcSession): Promise<void> {
    const siblings = this.siblings();
    if (siblings.length === 0) return; // one device: nothing to hand (and no request)
    const packed = (await this.#d.kv.get<unknown>(keys.ownRecord())).value;
    if (!(packed instanceof Uint8Array)) return; // nothing published yet
    const items = siblings.map((k) => {
      const pair = this.#d.pair(k);
      return {
        t: encodeB64(pair.tag(this.#d.me)),
        b: encodeB64(pair.seal(this.#d.me, packed)),
      };
    });
    if (rpc.closed) return;
    await rpc.request("addr.put", { items }, REQUEST_TIMEOUT_MS);
  }

  /** Hands our record, sealed for each sibling, to every holder we have a session with. */
  handOutAll(): void {
    for (const s of this.#d.sessions.every()) this.handOut(s.rpc).catch(() => {});
  }

  /**
   * A session with a contact is up: it holds our copies for our siblings
   * from now on, and may hold theirs for us; a sibling we have no session
   * with is dialled at a newer record found there (`reach`). One `addr.get`
   * per session, naming every missing sibling, so a move costs each device a
   * request per contact, not one to every session per contact.
   */
  async onHolder(
    s: LiveSession,
    isLive: (key: Uint8Array) => boolean,
    reach: (key: Uint8Array, addresses: readonly string[]) => void,
  ): Promise<void> {
    await this.handOut(s.rpc);
    const missing = this.siblings().filter((k) => !isLive(k));
    if (missing.length === 0) return;
    for (const [id, found] of await this.#find(missing, [s])) {
      if (found.seq <= (this.#dialled.get(id) ?? 0)) continue;
      this.#dialled.set(id, found.seq);
      reach(found.key, found.addresses);
    }
  }

  /**
   * The newest record of sibling `key` that our sessions hold for us, opened
   * and signed by the sibling; undefined when none does.
   */
  async lookUp(key: Uint8Array): Promise<FoundSibling | undefined> {
    return (await this.#find([key], this.#d.sessions.every())).get(toHex(key));
  }

  /** Per sibling (hex), the newest record of it these sessions hold for us. */
  async #find(
    siblings: readonly Uint8Array[],
    sessions: readonly LiveSession[],
  ): Promise<Map<string, FoundSibling & { key: Uint8Array }>> {
    const byTag = new Map(
      siblings.slice(0, MAX_TAGS).map((key) => {
        const pair = this.#d.pair(key);
        return [encodeB64(pair.tag(key)), { key, pair }] as const;
      }),
    );
    const best = new Map<string, FoundSibling & { key: Uint8Array }>();
    const tags = [...byTag.keys()];
    await Promise.all(sessions.map(async (s) => {
      const res = await s.rpc.request("addr.get", { tags }, REQUEST_TIMEOUT_MS)
        .catch(() => undefined);
      for (const item of res?.items ?? []) {
        const sib = byTag.get(item.t);
        if (!sib) continue;
        try {
          const packed = sib.pair.open(sib.key, decodeB64(item.b));
          const rec = await openRecord(packed, sib.key, this.#verifier);
          const id = toHex(sib.key);
          const had = best.get(id);
          if (!had || rec.seq > had.seq) {
            best.set(id, { key: sib.key, seq: rec.seq, addresses: [...rec.addresses] });
          }
        } catch { /* a bad copy is no record */ }
      }
    }));
    return best;
  }
}
