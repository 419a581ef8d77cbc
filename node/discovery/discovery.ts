/**
 * The reconnect cascade (DESIGN.md, "Finding each other"): the shell around
 * its decisions (cascade.ts).
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
 * Which of these happens when is decided by stepCascade; this file runs its
 * actions (RPC, sealing, KV, the host's dials, timers on the Clock) and feeds
 * back what happened, with a fresh view of the contacts and sessions.
 *
 * Privacy: a record is sealed per contact under a pairwise tag (pairwise.ts);
 * anchors get copies to hold but never a copy sealed to them, and never the
 * plain record. Nothing here is sent outside authenticated sessions.
 */
import { type Clock, systemClock, type TimerId } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { toHex } from "../log/mod.ts";
import { decodeB64, encodeB64, type RpcSession } from "../protocol/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { dialHappyEyeballs } from "../peers/mod.ts";
import { isIPv6Address } from "../transport/mod.ts";
import { openRecord, type SignedRecord, signRecord } from "./address_record.ts";
import { initialCascade, stepCascade, unreachedOf } from "./cascade.ts";
import { dialOf } from "./dial_table.ts";
import { PeerViews } from "./peer_views.ts";
import type {
  CascadeAction,
  CascadeEvent,
  CascadeState,
  CascadeView,
  PeerId,
  TimerName,
} from "./cascade_state.ts";
import type {
  DiscoveryHost,
  DiscoveryOptions,
  KnownPeer,
  LiveSession,
  PeerState,
} from "./discovery_host.ts";
import { type DroppedCopy, dropReason, RecordSeals, type SealedItem } from "./record_seals.ts";
import { SealedStore } from "./sealed_store.ts";

/** Per request to a peer: addr.* answers are small and local. */
const REQUEST_TIMEOUT_MS = 5000;
/** Tags or copies per addr.* request (the schema's limit). */
const PER_REQUEST = 256;

type Action = CascadeAction<SignedRecord>;
type Event = CascadeEvent<SignedRecord>;

export class Discovery {
  readonly #host: DiscoveryHost;
  readonly #store: Store;
  readonly sealed: SealedStore;
  readonly #seals: RecordSeals;
  readonly #clock: Clock;
  #state: CascadeState;
  #record: SignedRecord | null = null;
  /** Set by a restore (backup/restore.ts): our next seq must pass what we published since. */
  #seqFloor = 0;
  #closed = false;
  /** The run under way, for trigger()'s callers. */
  #running: { promise: Promise<void>; resolve(): void; reject(e: unknown): void } | null = null;
  /** What ended the run under way with an error, for its callers. */
  #runError: unknown;
  /** Events reported while a step's actions are being started (they never wait). */
  readonly #queue: Array<{ event: Event; done(p: Promise<void>): void }> = [];
  #stepping = false;
  readonly #timers = new Map<TimerName, TimerId>();
  /** The contacts and sessions of the last view, by hex: what the actions name. */
  #known = new Map<PeerId, KnownPeer>();
  #live = new Map<PeerId, LiveSession>();
  /** Keys in hex, by key object: a view names every contact, and the host hands the same keys. */
  readonly #hex = new WeakMap<Uint8Array, PeerId>();
  readonly #peerViews = new PeerViews((key) => this.#hexOf(key));
  /** A record handed over on a session before its peer was a contact (see addr.mine). */
  readonly #early = new WeakMap<RpcSession, SignedRecord>();
  /**
   * Per session we serve: the tags of its last addr.get, so that a fresh copy
   * is announced to the sessions that may be waiting for it (a copy we served
   * may have been an old one), not to every session.
   */
  readonly #asked = new WeakMap<RpcSession, Set<string>>();

  private constructor(
    host: DiscoveryHost,
    store: Store,
    sealed: SealedStore,
    options: DiscoveryOptions,
  ) {
    this.#host = host;
    this.#store = store;
    this.sealed = sealed;
    this.#seals = new RecordSeals(host.keyPair, (d) => this.#droppedCopy(d), host);
    this.#clock = options.clock ?? systemClock;
    this.#state = initialCascade({
      self: toHex(host.keyPair.publicKey),
      ...(options.maxRounds !== undefined ? { maxRounds: options.maxRounds } : {}),
      ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
      ...(options.maxRetryMs !== undefined ? { maxRetryMs: options.maxRetryMs } : {}),
      ...(options.yieldMs !== undefined ? { yieldMs: options.yieldMs } : {}),
      relayed: host.dialRelayed !== undefined,
    }, Math.floor(this.#clock.random() * 2 ** 32));
  }

  static async open(
    host: DiscoveryHost,
    store: Store,
    options: DiscoveryOptions = {},
  ): Promise<Discovery> {
    const sealed = await SealedStore.open(store, undefined, host.storedId);
    const d = new Discovery(host, store, sealed, options);
    const own = await store.kv.get<unknown>(keys.ownRecord());
    const floor = (await store.kv.get<unknown>(keys.setting("recordSeqFloor"))).value;
    if (Number.isSafeInteger(floor)) d.#seqFloor = floor as number;
    if (own.value instanceof Uint8Array) {
      try {
        d.#record = await openRecord(own.value, host.keyPair.publicKey, d.#seals.verifier);
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
    return dialOf(this.#state.dials, this.#hexOf(peer)) ? "dialing" : "unreachable";
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
    if (same && this.#record!.seq > this.#seqFloor) return false;
    const rec = await signRecord(this.#host.signer, {
      seq: Math.max(this.#record?.seq ?? 0, this.#seqFloor) + 1,
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
    this.#host.note?.({ type: "published", seq: rec.seq, addresses, relays: relays.length });
    this.refresh();
    return true;
  }

  /** Runs the cascade now (coalesced with a run in progress). */
  trigger(reason: string): Promise<void> {
    if (this.#closed || this.#host.passive) return Promise.resolve();
    this.#feed({ type: "trigger", reason }).catch(() => {});
    return this.#running?.promise ?? Promise.resolve();
  }

  /** The contacts and sessions now; remembers them, so that the actions' ids can be resolved. */
  #view(): CascadeView {
    const { peers, known } = this.#peerViews.of(this.#host.peers());
    const live = new Map<PeerId, LiveSession>();
    const sessions = this.#host.sessions().map((s) => {
      const id = this.#hexOf(s.peer);
      live.set(id, s);
      return { id, anchor: s.anchor };
    });
    this.#known = known;
    this.#live = live;
    return { peers, sessions };
  }

  #hexOf(key: Uint8Array): PeerId {
    let id = this.#hex.get(key);
    if (id === undefined) {
      id = toHex(key);
      this.#hex.set(key, id);
    }
    return id;
  }

  /**
   * Steps the cascade with `event` and starts its actions. Resolves once the
   * records it reported are taken in (an ask's next copy waits for that) and
   * the asks it started are answered.
   */
  #feed(event: Event): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, done: (p) => p.then(resolve, reject) });
      if (this.#stepping) return;
      this.#stepping = true;
      try {
        for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
          const waits: Promise<void>[] = [];
          try {
            const { state, actions } = stepCascade(this.#state, next.event, this.#clock.now());
            this.#state = state;
            if (state.run && !this.#running) this.#running = deferred();
            for (const a of actions) {
              const wait = this.#act(a);
              if (wait) waits.push(wait);
            }
          } catch (err) {
            waits.push(Promise.reject(err));
          }
          next.done(Promise.all(waits).then(() => {}));
        }
      } finally {
        this.#stepping = false;
      }
    });
  }

  /** Starts one action; returns what its event's reporter waits for. */
  #act(a: Action): Promise<void> | undefined {
    switch (a.type) {
      case "publish":
        this.publish().then(
          (changed) => this.#feed({ type: "published", changed, view: this.#view() }),
          (err) => {
            this.#runError = err;
            return this.#feed({
              type: "published",
              changed: false,
              failed: true,
              view: this.#view(),
            });
          },
        ).catch(() => {});
        return;
      case "dial":
        return void this.#dial(a.peer, a.serial, a.addresses);
      case "dial_relayed": {
        const p = this.#known.get(a.peer);
        const dial = p && this.#host.dialRelayed
          ? this.#host.dialRelayed(p)
          : Promise.resolve(false);
        dial.catch(() => false).then((ok) =>
          this.#feed({
            type: "relayed_done",
            peer: a.peer,
            serial: a.serial,
            ok,
            view: this.#view(),
          })
        ).catch(() => {});
        return;
      }
      case "ask":
        return this.#ask(a);
      case "report":
        return this.#report(a);
      case "set_timer":
        this.#clock.clearTimeout(this.#timers.get(a.timer));
        this.#timers.set(
          a.timer,
          this.#clock.setTimeout(() => {
            this.#timers.delete(a.timer);
            this.#feed({ type: "timer", timer: a.timer, view: this.#view() }).catch(() => {});
          }, a.ms),
        );
        return;
      case "cancel_timer":
        this.#clock.clearTimeout(this.#timers.get(a.timer));
        this.#timers.delete(a.timer);
        return;
      case "all_reached":
        this.#host.note?.(a);
        this.#host.log(`cascade: all ${a.contacts} contacts reached after ${a.rounds} round(s)`);
        return;
      case "backing_off":
        this.#host.note?.(a);
        this.#host.log(
          `cascade (${a.reason}): ${a.left} contact(s) not reached; retrying with back-off`,
        );
        return;
      case "run_done": {
        this.#host.note?.(a);
        const running = this.#running;
        this.#running = null;
        if (a.failed) running?.reject(this.#runError ?? new Error("the cascade failed"));
        else running?.resolve();
        this.#runError = undefined;
        return;
      }
    }
  }

  /**
   * Dials the addresses of a contact (IPv6 ones a moment before IPv4 ones,
   * see peers/happy_eyeballs); the first to answer wins.
   */
  #dial(peer: PeerId, serial: number, addresses: readonly string[]): void {
    const p = this.#known.get(peer);
    const known = p && { ...p, addresses: [...addresses] };
    const direct = known
      ? dialHappyEyeballs(addresses, (a, race) => this.#host.dial(known, a, race), {
        isIPv6: isIPv6Address,
        clock: this.#clock,
      })
      : Promise.resolve(false);
    direct.catch(() => false).then((ok) =>
      this.#feed({ type: "direct_done", peer, serial, ok, view: this.#view() })
    ).catch(() => {});
  }

  /**
   * Asks the sessions all at once for the sealed copies of these people's
   * records; opens and verifies what comes back and reports each to the
   * cascade (which decides what is newer), one copy at a time per session.
   */
  async #ask(a: Extract<Action, { type: "ask" }>): Promise<void> {
    const purpose = this.#state.asks[a.ask]?.purpose;
    const pending = new Map<string, KnownPeer>();
    for (const id of a.peers) {
      const p = this.#known.get(id);
      if (p && !p.anchor) pending.set(this.#seals.theirTag(p.publicKey), p);
    }
    const sessions = a.sessions.map((id) => this.#live.get(id)).filter((s) => s !== undefined);
    const tags = [...pending.keys()];
    let failed = false;
    try {
      await Promise.all(sessions.map(async (s) => {
        for (const item of await this.#get(s, tags)) {
          const p = pending.get(item.t);
          if (!p) continue;
          const rec = await this.#seals.open(p, item, this.#nameOf(s.peer));
          if (!rec) continue;
          await this.#feed({
            type: "opened",
            ask: a.ask,
            peer: this.#hexOf(p.publicKey),
            from: this.#hexOf(s.peer),
            knownSeq: p.recordSeq,
            record: rec,
            view: this.#view(),
          });
        }
      }));
    } catch (err) {
      failed = true;
      if (purpose === "round") this.#runError = err;
      const s = sessions[0];
      if (purpose === "session" && s && !s.rpc.closed) {
        this.#host.log(`exchanging addresses failed: ${(err as Error).message}`);
      }
    }
    this.#feed({ type: "asked", ask: a.ask, failed, view: this.#view() }).catch(() => {});
  }

  /** Asks one session for copies under these tags (base64); nothing when it fails. */
  async #get(s: LiveSession, tags: string[]): Promise<SealedItem[]> {
    if (tags.length === 0) return [];
    try {
      const res = await s.rpc.request(
        "addr.get",
        { tags: tags.slice(0, PER_REQUEST) },
        REQUEST_TIMEOUT_MS,
      );
      return res.items;
    } catch {
      return [];
    }
  }

  /** Hands a newer record to the host, saying where it came from. */
  async #report(a: Extract<Action, { type: "report" }>): Promise<void> {
    const p = this.#known.get(a.peer);
    try {
      if (!p) return;
      const via = this.#known.get(a.from);
      await this.#host.learnt(p.publicKey, a.record, {
        source: via?.anchor ? "anchor" : "peer",
        holder: via?.name ?? "a peer",
      });
    } finally {
      await this.#feed({ type: "reported", peer: a.peer, seq: a.record.seq });
    }
  }

  /** A record a contact handed over itself: newer is learnt, older is dropped. */
  async #apply(known: KnownPeer, rec: SignedRecord): Promise<void> {
    if (rec.seq > known.recordSeq) {
      await this.#host.learnt(known.publicKey, rec, { source: "direct" });
    } else if (rec.seq < known.recordSeq) {
      this.#host.log(`dropped an old address record of ${known.name} (seq ${rec.seq})`);
      this.#host.note?.({
        type: "dropped",
        owner: known.publicKey,
        name: known.name,
        from: known.name,
        reason: "old",
        seq: rec.seq,
        have: known.recordSeq,
      });
    }
  }

  /** A sealed copy a holder served that was bad, or older than what we have. */
  #droppedCopy(d: DroppedCopy): void {
    this.#host.log(
      d.reason === "old"
        ? `dropped an old address record of ${d.peer.name} (seq ${d.seq}, have ${d.have}) from ${d.from}`
        : `dropped a record for ${d.peer.name} from ${d.from}: ${d.error?.message}`,
    );
    this.#host.note?.({
      type: "dropped",
      owner: d.peer.publicKey,
      name: d.peer.name,
      from: d.from,
      reason: d.reason,
      ...(d.seq !== undefined ? { seq: d.seq } : {}),
      ...(d.have !== undefined ? { have: d.have } : {}),
    });
  }

  /** How a peer is named in the log and in `roj peers` ("anchor-0" for an anchor). */
  #nameOf(peer: Uint8Array): string {
    return this.#contact(peer)?.name ?? "a peer";
  }

  #contact(peer: Uint8Array): KnownPeer | undefined {
    const k = this.#hexOf(peer);
    return this.#host.peers().find((q) => this.#hexOf(q.publicKey) === k);
  }

  /** Serves the addr.* methods on a session with `peer` (called before its first frame). */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("addr.put", async (params) => {
      const items = params.items.map((i) => ({ tag: decodeB64(i.t), blob: decodeB64(i.b) }));
      const stored = await this.sealed.put(peer, items, this.#host.now());
      if (stored > 0) this.#notifyWaiting(peer, params.items.map((i) => i.t));
      return { stored };
    });
    rpc.handle("addr.get", async (params) => {
      // Noted before the lookup, so a copy stored meanwhile is still announced.
      this.#asked.set(rpc, new Set(params.tags));
      const items = await this.sealed.get(params.tags.map(decodeB64));
      return { items: items.map((i) => ({ t: encodeB64(i.tag), b: encodeB64(i.blob) })) };
    });
    rpc.handle("addr.mine", async (params) => {
      // An anchor keeps no member's address in any form it can read.
      if (this.#host.passive) return {};
      const known = this.#contact(peer);
      let rec: SignedRecord;
      try {
        rec = await openRecord(decodeB64(params.record), peer, this.#seals.verifier);
      } catch (err) {
        const name = known?.name ?? "a peer";
        this.#host.log(`dropped ${name}'s address record: ${(err as Error).message}`);
        this.#host.note?.({
          type: "dropped",
          owner: peer,
          name,
          from: name,
          reason: dropReason(err),
        });
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
    rpc.handle("addr.notify", (params) => {
      const tags = new Set(params.tags);
      const view = this.#view();
      // The people we wait for whose tags these are: the cascade asks the notifier again.
      const named = unreachedOf(view).filter((q) => {
        const known = this.#known.get(q.id);
        return !q.anchor && known !== undefined && tags.has(this.#seals.theirTag(known.publicKey));
      }).map((q) => q.id);
      this.#feed({ type: "notified", from: this.#hexOf(peer), named, view }).catch(() => {});
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
      if (this.#hexOf(s.peer) === this.#hexOf(from) || s.anchor) continue;
      const asked = this.#asked.get(s.rpc);
      if (!asked || asked.size === 0) continue;
      const hits = tags.filter((t) => asked.has(t));
      if (hits.length === 0) continue;
      for (const t of hits) asked.delete(t);
      s.rpc.request("addr.notify", { tags: hits }, REQUEST_TIMEOUT_MS).catch(() => {});
    }
  }

  /**
   * A session came up: hand over our record (plain to a person, never to an
   * anchor) and our sealed copies, then ask it for whoever we are missing.
   */
  async onSession(s: LiveSession): Promise<void> {
    if (this.#host.passive) return;
    const id = this.#hexOf(s.peer);
    this.#feed({ type: "session_up", peer: id, view: this.#view() }).catch(() => {});
    const early = this.#early.get(s.rpc);
    const known = early && this.#contact(s.peer);
    if (early && known) {
      this.#early.delete(s.rpc);
      await this.#apply(known, early).catch(() => {});
    }
    try {
      // Once more while the session lives: a loaded peer's answer may time out.
      await this.#handOver(s).catch((e) => s.rpc.closed ? Promise.reject(e) : this.#handOver(s));
    } catch (err) {
      if (!s.rpc.closed) this.#host.log(`exchanging addresses failed: ${(err as Error).message}`);
      this.#host.note?.({ type: "handed_over", peer: s.peer, ok: false });
      return;
    }
    this.#host.note?.({ type: "handed_over", peer: s.peer, ok: true });
    const view = this.#view();
    // This very session is the one to ask, even if the host has a newer one by now.
    this.#live.set(id, s);
    await this.#feed({ type: "handed_over", peer: id, view }).catch(() => {});
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
    if (!s.anchor) {
      await s.rpc.request("addr.mine", { record: encodeB64(me.packed) }, REQUEST_TIMEOUT_MS);
    }
    const items = this.#host.peers()
      .filter((p) => !p.anchor && this.#hexOf(p.publicKey) !== this.#hexOf(s.peer))
      .flatMap((p) => this.#seals.copiesFor(p.publicKey, me));
    for (let i = 0; i < items.length; i += PER_REQUEST) {
      await s.rpc.request(
        "addr.put",
        { items: items.slice(i, i + PER_REQUEST) },
        REQUEST_TIMEOUT_MS,
      );
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#feed({ type: "close", view: this.#view() }).catch(() => {});
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
  }
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Runs nobody waits for (a retry, a notify) must not fail the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
