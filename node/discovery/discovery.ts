/**
 * The reconnect cascade (DESIGN.md, "Finding each other").
 *
 * Coming back with a new address, a node publishes a new signed record, dials
 * every contact at its last known addresses in parallel (host keys checked by
 * the transport), and to every peer it reaches hands its sealed copies and asks
 * for the records of the contacts it has not reached. It dials what it learns
 * and repeats until everyone is reached or a round learns nothing; then it
 * retries with back-off. A holder that receives fresh copies tells the
 * sessions that last asked it for those tags (addr.notify), so a waiting node
 * asks again at once instead of at its next retry. Sessions are asked in
 * parallel, and a learnt record is dialled at once (the larger key of the two
 * after a head start for the other side, so that they do not cross dials).
 *
 * Privacy: a record is sealed per contact under a pairwise tag (pairwise.ts);
 * anchors get copies to hold but never a copy sealed to them, and never the
 * plain record. Nothing here is sent outside authenticated sessions.
 */
import { RojError } from "../errors.ts";
import { createVerifier, type KeyPair, type Signer, type Verifier } from "../identity/mod.ts";
import { compareBytes, toHex } from "../log/mod.ts";
import { check, decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { backoffDelay, dialHappyEyeballs, type DialRace } from "../peers/mod.ts";
import { isIPv6Address } from "../transport/mod.ts";
import { openRecord, type SignedRecord, signRecord } from "./address_record.ts";
import { type Pair, pairwise } from "./pairwise.ts";
import { SealedStore } from "./sealed_store.ts";

/**
 * How long a contact's addresses are dialled alone before the relays its
 * record names are asked too (a router drops dials to a NATed peer silently,
 * so a failed direct dial takes a whole dial timeout to say so).
 */
const RELAY_HEAD_START_MS = 1000;

/** What discovery needs to know about a contact. */
export interface KnownPeer {
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly addresses: string[];
  readonly anchor: boolean;
  /** Highest record seq seen from them. */
  readonly recordSeq: number;
}

export interface LiveSession {
  readonly peer: Uint8Array;
  readonly rpc: RpcSession;
  readonly anchor: boolean;
}

/** The node, as discovery sees it. */
export interface DiscoveryHost {
  readonly keyPair: KeyPair;
  readonly signer: Signer;
  /** A passive anchor publishes nothing and dials nobody. */
  readonly passive: boolean;
  now(): number;
  log(line: string): void;
  /** Accepted contacts (people and anchors). */
  peers(): KnownPeer[];
  sessions(): LiveSession[];
  session(peer: Uint8Array): LiveSession | undefined;
  /**
   * Dials one address of a contact; true when a session is up. With `race`,
   * the session is kept only if race.claim() says it came first.
   */
  dial(peer: KnownPeer, address: string, race?: DialRace): Promise<boolean>;
  /** A newer record of a contact was learnt. */
  learnt(peer: Uint8Array, record: SignedRecord, via: string): Promise<void>;
  /** The addresses to publish now. */
  addresses(): string[];
  /**
   * Keys of peers that relay for this node, to name in its record while it
   * cannot be dialled from outside (node/relay); empty when it can.
   */
  relays?(): Uint8Array[];
  /**
   * Reaches a contact through a relay its record names, once every direct
   * address failed (node/relay). True when a session is up.
   */
  dialRelayed?(peer: KnownPeer): Promise<boolean>;
}

export type PeerState = "connected" | "dialing" | "unreachable";

export interface DiscoveryOptions {
  /** Rounds of dial-and-ask before falling back to timed retries. @default 8 */
  readonly maxRounds?: number;
  /** First retry delay; doubles up to maxRetryMs. @default 1000 */
  readonly retryMs?: number;
  /** @default 60000 */
  readonly maxRetryMs?: number;
  /**
   * How long the larger key of two contacts waits before dialling a record it
   * just learnt, since the other side has usually learnt ours at the same
   * moment and its session is the one both keep. @default 1500
   */
  readonly yieldMs?: number;
}

/** Anchors before people, keeping the order otherwise (requests go out in this order). */
function anchorsFirst<T extends { readonly anchor: boolean }>(items: T[]): T[] {
  return [...items.filter((i) => i.anchor), ...items.filter((i) => !i.anchor)];
}

export class Discovery {
  readonly #host: DiscoveryHost;
  readonly #store: Store;
  readonly sealed: SealedStore;
  readonly #pair: (them: Uint8Array) => Pair;
  readonly #options: Required<DiscoveryOptions>;
  /** Checks record signatures synchronously, keeping the contacts' keys. */
  readonly #verifier: Verifier = createVerifier();
  #record: SignedRecord | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAttempt = 0;
  /** A record handed over on a session before its peer was a contact (see addr.mine). */
  readonly #early = new WeakMap<RpcSession, SignedRecord>();
  /** Dial-and-ask rounds since every contact was last reached (for the log and the bench). */
  #rounds = 0;
  #closed = false;
  /** Dials in flight, by peer hex; a second dial of the same peer joins the first. */
  readonly #dialing = new Map<string, Promise<boolean>>();
  /**
   * Per session we serve: the tags of its last addr.get, so that a fresh copy
   * is announced to the sessions that may be waiting for it (a copy we served
   * may have been an old one), not to every session.
   */
  readonly #asked = new WeakMap<RpcSession, Set<string>>();
  /** Records being reported to the host now, tag hex → seq: concurrent asks report each once. */
  readonly #reporting = new Map<string, number>();
  /** Pairwise tags (HKDF outputs, asked for often), per contact hex. */
  readonly #tags = new Map<string, { theirs: Uint8Array; ours: Uint8Array }>();
  /** Waits before dialling a learnt record, by peer hex; cut short by its session or close(). */
  readonly #waits = new Map<string, () => void>();
  /**
   * Our record sealed for each contact (hex), for the record of that seq: every
   * holder gets the same copy, so a move seals once per contact, not once per
   * contact and session.
   */
  readonly #sealedCopies = new Map<string, { seq: number; t: string; b: string }>();
  /**
   * Copies already opened, by "tag|copy" (base64, as served): several holders
   * serve the same copy, and opening means decrypting and checking a signature.
   * A bad copy maps to null, so it is logged once.
   */
  readonly #opened = new Map<string, SignedRecord | null>();

  private constructor(
    host: DiscoveryHost,
    store: Store,
    sealed: SealedStore,
    options: DiscoveryOptions,
  ) {
    this.#host = host;
    this.#store = store;
    this.sealed = sealed;
    this.#pair = pairwise(host.keyPair);
    this.#options = {
      maxRounds: options.maxRounds ?? 8,
      retryMs: options.retryMs ?? 1000,
      maxRetryMs: options.maxRetryMs ?? 60_000,
      yieldMs: options.yieldMs ?? 1500,
    };
  }

  static async open(
    host: DiscoveryHost,
    store: Store,
    options: DiscoveryOptions = {},
  ): Promise<Discovery> {
    const d = new Discovery(host, store, await SealedStore.open(store), options);
    const own = await store.kv.get<unknown>(keys.ownRecord());
    if (own.value instanceof Uint8Array) {
      try {
        d.#record = await openRecord(own.value, host.keyPair.publicKey, d.#verifier);
      } catch {
        host.log("own address record in the store is damaged; a new one will be published");
      }
    }
    return d;
  }

  /** The record this node publishes, if any. */
  get record(): SignedRecord | null {
    return this.#record;
  }

  state(peer: Uint8Array): PeerState {
    if (this.#host.session(peer)) return "connected";
    return this.#dialing.has(toHex(peer)) ? "dialing" : "unreachable";
  }

  /** Signs a new record when the addresses to publish changed. Returns whether it did. */
  async publish(): Promise<boolean> {
    if (this.#host.passive) return false;
    const addresses = this.#host.addresses();
    if (addresses.length === 0) return false;
    const relays = this.#host.relays?.() ?? [];
    const had = (this.#record?.relays ?? []).map(toHex);
    const same = this.#record && this.#record.addresses.length === addresses.length &&
      this.#record.addresses.every((a, i) => a === addresses[i]) &&
      had.length === relays.length && relays.every((k, i) => toHex(k) === had[i]);
    if (same) return false;
    const rec = await signRecord(this.#host.signer, {
      seq: (this.#record?.seq ?? 0) + 1,
      time: this.#host.now(),
      addresses,
      ...(relays.length > 0 ? { relays } : {}),
    });
    await this.#store.kv.set(keys.ownRecord(), rec.packed);
    this.#record = rec;
    this.#host.log(
      `published address record ${rec.seq}: ${addresses.join(", ")}${
        relays.length > 0 ? ` (not reachable from outside; ${relays.length} relay(s) named)` : ""
      }`,
    );
    this.refresh();
    return true;
  }

  /** Runs the cascade now (coalesced with a run in progress). */
  trigger(reason: string): Promise<void> {
    if (this.#closed || this.#host.passive) return Promise.resolve();
    if (this.#retryTimer) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run(reason).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Contacts without a session, anchors first: they are dialled and asked first. */
  #unreached(): KnownPeer[] {
    return anchorsFirst(this.#host.peers().filter((p) => !this.#host.session(p.publicKey)));
  }

  async #run(reason: string): Promise<void> {
    // Addresses already dialled in vain during this run: a later round dials only what changed.
    const tried = new Set<string>();
    do {
      this.#again = false;
      // Our own address changed: everyone is worth dialling again.
      if (await this.publish()) tried.clear();
      for (let round = 0; round < this.#options.maxRounds && !this.#closed; round++) {
        this.#rounds++;
        await Promise.all(
          this.#unreached().map((p) => {
            const attempt = `${toHex(p.publicKey)} ${p.addresses.join(" ")}`;
            if (tried.has(attempt)) return false;
            tried.add(attempt);
            return this.#dialAny(p);
          }),
        );
        const unreached = this.#unreached();
        if (unreached.length === 0) break;
        const learnt = await this.#ask(anchorsFirst(this.#host.sessions()), unreached);
        if (learnt.length === 0) break;
      }
    } while (this.#again && !this.#closed);
    const left = this.#unreached();
    if (left.length === 0 || this.#closed) {
      this.#retryAttempt = 0;
      this.#noteAllReached();
      return;
    }
    const delay = backoffDelay(this.#retryAttempt++, {
      initialMs: this.#options.retryMs,
      maxMs: this.#options.maxRetryMs,
    });
    if (this.#retryAttempt === 1) {
      this.#host.log(
        `cascade (${reason}): ${left.length} contact(s) not reached; retrying with back-off`,
      );
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.trigger("retry").catch(() => {});
    }, delay);
  }

  /** Logs, once per cascade, that every contact has a session again and after how many rounds. */
  #noteAllReached(): void {
    if (this.#rounds === 0 || this.#closed || this.#unreached().length > 0) return;
    if (this.#host.peers().length === 0) return void (this.#rounds = 0);
    this.#host.log(
      `cascade: all ${this.#host.peers().length} contacts reached after ${this.#rounds} round(s)`,
    );
    this.#rounds = 0;
  }

  #tagsOf(peer: Uint8Array): { theirs: Uint8Array; ours: Uint8Array } {
    const k = toHex(peer);
    let t = this.#tags.get(k);
    if (!t) {
      const pair = this.#pair(peer);
      t = { theirs: pair.tag(peer), ours: pair.tag(this.#host.keyPair.publicKey) };
      if (this.#tags.size > 4096) this.#tags.clear();
      this.#tags.set(k, t);
    }
    return t;
  }

  /**
   * Dials the known addresses of `p` (IPv6 ones a moment before IPv4 ones, see
   * peers/happy_eyeballs); the first to answer wins. A dial
   * of `p` already in flight (or waiting, see #dialLearnt) is joined, not repeated.
   */
  #dialAny(p: KnownPeer): Promise<boolean> {
    const k = toHex(p.publicKey);
    const inFlight = this.#dialing.get(k);
    if (inFlight) return inFlight;
    if (p.addresses.length === 0 || this.#host.session(p.publicKey)) return Promise.resolve(false);
    return this.#track(k, this.#dialAddresses(p));
  }

  #track(k: string, dial: Promise<boolean>): Promise<boolean> {
    const tracked = dial.catch(() => false).finally(() => this.#dialing.delete(k));
    this.#dialing.set(k, tracked);
    return tracked;
  }

  async #dialAddresses(p: KnownPeer): Promise<boolean> {
    // IPv6 first, IPv4 after a short head start; the first session wins.
    const direct = dialHappyEyeballs(
      p.addresses,
      (a, race) => this.#host.dial(p, a, race),
      { isIPv6: isIPv6Address },
    );
    if (!this.#host.dialRelayed) {
      return (await direct) || this.#host.session(p.publicKey) !== undefined;
    }
    // The peer may be behind NAT; its record may name relays. Its addresses
    // (dropped, not refused, by its router) would each hold the relays back
    // for a whole dial timeout, so they get only a head start; a direct path
    // that answers later still replaces the relayed session (peers/ prefers it).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const early = await Promise.race([
      direct,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), RELAY_HEAD_START_MS);
      }),
    ]);
    clearTimeout(timer);
    if (early || this.#host.session(p.publicKey)) return true;
    if (this.#closed) return (await direct) || this.#host.session(p.publicKey) !== undefined;
    const [d, r] = await Promise.all([direct, this.#host.dialRelayed(p).catch(() => false)]);
    return d || r || this.#host.session(p.publicKey) !== undefined;
  }

  /**
   * Dials a contact whose record was just learnt, at its new addresses. The
   * larger key of the two waits `yieldMs` first: the other side has usually
   * learnt our record at the same moment, and two crossing dials cost two SSH
   * handshakes for one session.
   */
  #dialLearnt(p: KnownPeer): void {
    const peer = p.publicKey;
    const k = toHex(peer);
    if (this.#closed || this.#dialing.has(k) || this.#host.session(peer)) return;
    const wait = compareBytes(this.#host.keyPair.publicKey, peer) > 0 ? this.#options.yieldMs : 0;
    this.#track(
      k,
      (async () => {
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              this.#waits.delete(k);
              resolve();
            };
            const timer = setTimeout(done, wait);
            this.#waits.set(k, done);
          });
        }
        if (this.#closed || this.#host.session(peer)) return false;
        return await this.#dialAddresses(p);
      })(),
    ).catch(() => {});
  }

  /**
   * Asks all `sessions` at once for sealed records of `wanted`; opens and
   * verifies what comes back, reports each newer record (the newest one seen
   * wins when several holders answer) and dials its addresses at once.
   * Returns the peers with a newer record.
   */
  async #ask(sessions: LiveSession[], wanted: KnownPeer[]): Promise<KnownPeer[]> {
    const pending = new Map(
      wanted.filter((p) => !p.anchor).map((
        p,
      ) => [encodeB64(this.#tagsOf(p.publicKey).theirs), p]),
    );
    if (pending.size === 0) return [];
    const asked = [...pending.keys()];
    const learnt = new Set<KnownPeer>();
    await Promise.all(sessions.map(async (s) => {
      for (const item of await this.#get(s, asked)) {
        const p = pending.get(item.t);
        if (!p) continue;
        const rec = await this.#open(p, item.t, item.b, s);
        // Checked and claimed with no await between: a seq is reported once at a time.
        const busy = this.#reporting.get(item.t) ?? 0;
        if (!rec || rec.seq <= Math.max(p.recordSeq, busy)) continue;
        this.#reporting.set(item.t, rec.seq);
        learnt.add(p);
        // Dial the new addresses while the record is being stored.
        this.#dialLearnt({ ...p, addresses: rec.addresses });
        try {
          await this.#report(p, rec, s);
        } finally {
          if (this.#reporting.get(item.t) === rec.seq) this.#reporting.delete(item.t);
        }
      }
    }));
    return [...learnt];
  }

  /** Asks one session for copies under these tags (base64); nothing when it fails. */
  async #get(s: LiveSession, tags: string[]): Promise<Array<{ t: string; b: string }>> {
    if (tags.length === 0) return [];
    try {
      const res = check(
        "addr.get",
        "result",
        await s.rpc.request("addr.get", { tags: tags.slice(0, 256) }, 5000),
      );
      return res.items;
    } catch {
      return [];
    }
  }

  /**
   * Opens and verifies a sealed copy of `p`'s record that `from` served; null
   * when it is bad. A bad copy, or one older than the record we have, is
   * logged with its reason once (holders keep a few older copies per tag).
   */
  async #open(
    p: KnownPeer,
    tag: string,
    blob: string,
    from: LiveSession,
  ): Promise<SignedRecord | null> {
    const key = `${tag}|${blob}`;
    const seen = this.#opened.get(key);
    if (seen !== undefined) return seen;
    let rec: SignedRecord | null;
    try {
      rec = await openRecord(
        this.#pair(p.publicKey).open(p.publicKey, decodeB64(blob)),
        p.publicKey,
        this.#verifier,
      );
      if (rec.seq < p.recordSeq) {
        this.#host.log(
          `dropped an old address record of ${p.name} (seq ${rec.seq}, have ${p.recordSeq}) from ${
            this.#nameOf(from.peer)
          }`,
        );
      }
    } catch (err) {
      this.#host.log(
        `dropped a record for ${p.name} from ${this.#nameOf(from.peer)}: ${(err as Error).message}`,
      );
      rec = null;
    }
    if (this.#opened.size >= 4096) this.#opened.clear();
    this.#opened.set(key, rec);
    return rec;
  }

  /** A record a contact handed over itself: newer is learnt, older is dropped with a log line. */
  async #apply(known: KnownPeer, rec: SignedRecord): Promise<void> {
    if (rec.seq > known.recordSeq) await this.#host.learnt(known.publicKey, rec, "direct");
    else if (rec.seq < known.recordSeq) {
      this.#host.log(`dropped an old address record of ${known.name} (seq ${rec.seq})`);
    }
  }

  /** How a peer is named in the log and in `roj peers` ("anchor-0" for an anchor). */
  #nameOf(peer: Uint8Array): string {
    const k = toHex(peer);
    return this.#host.peers().find((q) => toHex(q.publicKey) === k)?.name ?? "a peer";
  }

  async #report(p: KnownPeer, rec: SignedRecord, from: LiveSession): Promise<void> {
    const via = this.#host.peers().find((q) => toHex(q.publicKey) === toHex(from.peer));
    await this.#host.learnt(
      p.publicKey,
      rec,
      via ? (via.anchor ? `via anchor ${via.name}` : `via ${via.name}`) : "via a peer",
    );
  }

  /** Serves the addr.* methods on a session with `peer` (called before its first frame). */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("addr.put", async (p) => {
      const params = check("addr.put", "params", p);
      const items = params.items.map((i) => ({ tag: decodeB64(i.t), blob: decodeB64(i.b) }));
      const stored = await this.sealed.put(peer, items, this.#host.now());
      if (stored > 0) this.#notifyWaiting(peer, params.items.map((i) => i.t));
      return { stored };
    });
    rpc.handle("addr.get", async (p) => {
      const params = check("addr.get", "params", p);
      // Noted before the lookup, so a copy stored meanwhile is still announced.
      this.#asked.set(rpc, new Set(params.tags));
      const items = await this.sealed.get(params.tags.map(decodeB64));
      return { items: items.map((i) => ({ t: encodeB64(i.tag), b: encodeB64(i.blob) })) };
    });
    rpc.handle("addr.mine", async (p) => {
      const params = check("addr.mine", "params", p);
      // An anchor keeps no member's address in any form it can read.
      if (this.#host.passive) return {};
      const known = this.#host.peers().find((q) => toHex(q.publicKey) === toHex(peer));
      let rec: SignedRecord;
      try {
        rec = await openRecord(decodeB64(params.record), peer, this.#verifier);
      } catch (err) {
        this.#host.log(
          `dropped ${known?.name ?? "a peer"}'s address record: ${(err as Error).message}`,
        );
        throw err instanceof RojError ? err : new RojError("bad_input", "bad record");
      }
      if (!known) {
        // An invite's maker hands its record over while the invitee is still
        // adding it as a contact: kept for this session, applied once it is one.
        this.#early.set(rpc, rec);
        return {};
      }
      await this.#apply(known, rec);
      return {};
    });
    rpc.handle("addr.notify", (p) => {
      const params = check("addr.notify", "params", p);
      const waiting = new Set(
        this.#unreached().filter((q) => !q.anchor).map((q) =>
          encodeB64(this.#tagsOf(q.publicKey).theirs)
        ),
      );
      if (params.tags.some((t) => waiting.has(t))) {
        const s = this.#host.session(peer);
        if (s) {
          this.#ask([s], this.#unreached()).then((learnt) => {
            if (learnt.length > 0) this.trigger("notified").catch(() => {});
          }).catch(() => {});
        }
      }
      return Promise.resolve({});
    });
  }

  /**
   * Fresh copies arrived: tell each other session whose last addr.get asked
   * for one of these tags. A waiting node asks every session it has (when it
   * starts waiting and when a session comes up), so one that has not asked
   * here is not waiting for these; and the holder tells nobody a tag it was
   * not asked for.
   */
  #notifyWaiting(from: Uint8Array, tags: string[]): void {
    for (const s of this.#host.sessions()) {
      if (toHex(s.peer) === toHex(from) || s.anchor) continue;
      const asked = this.#asked.get(s.rpc);
      if (!asked || asked.size === 0) continue;
      const hits = tags.filter((t) => asked.has(t));
      if (hits.length === 0) continue;
      for (const t of hits) asked.delete(t);
      s.rpc.request("addr.notify", { tags: hits }, 5000).catch(() => {});
    }
  }

  /**
   * A session came up: hand over our record (plain to a person, never to an
   * anchor) and our sealed copies, then ask it for whoever we are missing.
   */
  async onSession(s: LiveSession): Promise<void> {
    if (this.#host.passive) return;
    this.#waits.get(toHex(s.peer))?.();
    this.#noteAllReached();
    const early = this.#early.get(s.rpc);
    const known = early && this.#host.peers().find((q) => toHex(q.publicKey) === toHex(s.peer));
    if (early && known) {
      this.#early.delete(s.rpc);
      await this.#apply(known, early).catch(() => {});
    }
    try {
      await this.#handOver(s);
      const learnt = await this.#ask([s], this.#unreached());
      if (learnt.length > 0) this.trigger("learnt from a new session").catch(() => {});
    } catch (err) {
      if (!s.rpc.closed) this.#host.log(`exchanging addresses failed: ${(err as Error).message}`);
    }
  }

  /**
   * Our record changed or we have a new contact: hand the fresh copies to every
   * live session.
   */
  refresh(): void {
    if (this.#host.passive || this.#closed) return;
    for (const s of this.#host.sessions()) this.#handOver(s).catch(() => {});
  }

  async #handOver(s: LiveSession): Promise<void> {
    const me = this.#record;
    if (!me) return;
    if (!s.anchor) await s.rpc.request("addr.mine", { record: encodeB64(me.packed) }, 5000);
    const self = this.#host.keyPair.publicKey;
    const items = this.#host.peers()
      .filter((p) => !p.anchor && toHex(p.publicKey) !== toHex(s.peer))
      .map((p) => {
        const k = toHex(p.publicKey);
        const cached = this.#sealedCopies.get(k);
        if (cached?.seq === me.seq) return { t: cached.t, b: cached.b };
        const copy = {
          seq: me.seq,
          t: encodeB64(this.#tagsOf(p.publicKey).ours),
          b: encodeB64(this.#pair(p.publicKey).seal(self, me.packed)),
        };
        if (this.#sealedCopies.size > 4096) this.#sealedCopies.clear();
        this.#sealedCopies.set(k, copy);
        return { t: copy.t, b: copy.b };
      });
    for (let i = 0; i < items.length; i += 256) {
      await s.rpc.request("addr.put", { items: items.slice(i, i + 256) }, 5000);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const done of [...this.#waits.values()]) done();
  }
}
