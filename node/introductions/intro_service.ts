/**
 * Introductions, the shell around introduction.ts: the store, the wire and
 * the timers.
 *
 *   alice ──intro.offer{card of carol}──▶ bob        alice ──intro.offer{card of bob}──▶ carol
 *   bob ──intro.answer{id, accept}──▶ alice          carol ──intro.answer{id, accept}──▶ alice
 *   alice ──intro.done{id, dial}──▶ bob, carol       (or intro.end{id, reason} to whoever waits)
 *   carol (dial) ──relay.open{to: bob}──▶ alice ──▶ bob: the first session, spliced by alice
 *
 * A card names a key and a name, never an address: nobody learns where the
 * other is before both accepted and became contacts; then the addresses flow
 * as between any contacts (addr.mine on the first session, sealed copies).
 *
 * A shareable card (`roj card bob`, signed by alice) held by carol: carol asks
 * alice with `intro.request{card, id}`, accepting already; alice offers bob a
 * card of carol, and the rest is the same.
 *
 * What cannot be sent now (the other side is offline) is sent when a session
 * with it comes up; everything is kept in the store, so a restart loses none.
 *
 * This file is the people introduced (and the node's one door to all of it);
 * introducer.ts the introducer's side, intro_records.ts the records and caps.
 */
import type { TimerId } from "../clock/mod.ts";
import type { Contact } from "../contacts/mod.ts";
import type { LiveSession } from "../sessions/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import type { CardView, IntroducedView, IntroductionView, NodeEvent } from "../api/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import {
  decodeB64,
  encodeB64,
  INTRO2_FEATURE,
  INTRO_FEATURE,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { cardBytes, isCardV2, openCard } from "./card.ts";
import { introducerOf, learnCardDevices } from "./intro_people.ts";
import { IntroRecords, isOpenGot } from "./intro_records.ts";
import { ImportQueue, type QueuedImport } from "./import_queue.ts";
import { DEFAULT_INTRO_SECONDS, type IntroDeps, Introducer, REQUEST_MS } from "./introducer.ts";
import { type Got, type GotEvent, stepGot } from "./introduction.ts";

/** The longest life a card offered to us may claim (the API's 30 days, and a day of clock skew). */
const MAX_CARD_LIFE_MS = 31 * 86_400_000;
const SWEEP_MS = 60_000;

export class IntroService {
  readonly #d: IntroDeps;
  readonly #r: IntroRecords;
  readonly #got: Map<string, Got>;
  readonly #introducer: Introducer;
  /** Cards imported while nobody who could pass them on was connected. */
  readonly #queue: ImportQueue;
  /** Queued imports being sent now (two sessions may come up at once). */
  readonly #sending = new Set<string>();
  /** Answers being sent now (a contact's primary session and a device's may come up at once). */
  readonly #answering = new Set<string>();
  #timer: TimerId | undefined;

  private constructor(deps: IntroDeps, records: IntroRecords, queue: ImportQueue) {
    this.#d = deps;
    this.#r = records;
    this.#queue = queue;
    this.#got = records.got;
    this.#introducer = new Introducer(deps, records, {
      emit: (...args) => this.#emit(...args),
      nameOf: (k) => this.#nameOf(k),
    });
  }

  /** Loads every introduction from the store. */
  static async open(deps: IntroDeps): Promise<IntroService> {
    return new IntroService(
      deps,
      await IntroRecords.open(deps.kv, !deps.passive),
      await ImportQueue.open(deps.kv),
    );
  }

  /** Sweeps expired introductions every minute. */
  start(): void {
    this.#timer = this.#d.clock.setInterval(() => this.#sweep().catch(() => {}), SWEEP_MS);
    this.#d.clock.unref(this.#timer);
  }

  close(): void {
    this.#d.clock.clearInterval(this.#timer);
  }

  /** @see Introducer.introduce */
  introduce(a: Contact, b: Contact, expiresIn?: number): Promise<IntroducedView> {
    return this.#introducer.introduce(a, b, expiresIn);
  }

  /** @see Introducer.card */
  card(c: Contact | undefined, expiresIn?: number): Promise<CardView> {
    return this.#introducer.card(c, expiresIn);
  }

  // ---- the people introduced ------------------------------------------------

  /** Open introductions offered to us, oldest first. */
  async list(): Promise<IntroductionView[]> {
    await this.#sweep();
    return [
      ...[...this.#got.values()].filter((g) => isOpenGot(g))
        .sort((x, y) => x.at - y.at).map((g) => this.#view(g)),
      // One just sent is an introduction offered to us already (its queue entry goes next).
      ...this.#queue.all().filter((q) => !this.#got.has(q.id)).map((q) => this.#queuedView(q)),
    ];
  }

  /** Accepts an introduction (by id or unique prefix). @throws {RojError} not_found, refused */
  async accept(id: string): Promise<IntroductionView> {
    const q = this.#queuedOnly(id);
    if (q) {
      throw new RojError(
        "refused",
        `you asked for ${q.name} already; it is sent once someone can pass it on`,
      );
    }
    const g = await this.#answer(id, { type: "accept" });
    return this.#view(g);
  }

  /** Declines an introduction: only the fact is kept. @throws {RojError} not_found, refused */
  async decline(id: string): Promise<{ declined: string }> {
    const q = this.#queuedOnly(id);
    if (q) {
      // Never sent: nobody else knows of it, so nothing else is left either.
      await this.#queue.drop(q.id);
      this.#d.bus.say(`dropped the request to be introduced to ${q.name}`);
      return { declined: q.id };
    }
    const g = await this.#answer(id, { type: "decline" });
    return { declined: g.id };
  }

  /**
   * Imports a card a contact made: asks them to introduce us to its person,
   * accepting already. @throws {RojError} bad_input (forged, expired, own), exists, refused, unreachable
   */
  async importCard(text: string): Promise<IntroductionView> {
    const bytes = cardBytes(text);
    const card = await openCard(bytes, this.#d.clock.now());
    if (bytesEqual(card.person, this.#d.me)) {
      throw new RojError("bad_input", "this is your own card");
    }
    if (this.#d.contacts.accepted(card.person)) {
      throw new RojError("exists", `${this.#nameOf(card.person)} is a contact already`);
    }
    // A contact's card goes through its maker; any card (their own, say) through an anchor we
    // share with its person, which then stands as the introducer.
    // Made on a device of its person's: the card is theirs, and goes to that device first.
    const signer = await introducerOf(this.#d, card);
    const own = bytesEqual(signer, card.person);
    // An anchor of an older version would refuse a v2 card as damaged.
    const takes = (s: LiveSession) => !isCardV2(bytes) || peerHas(s.rpc.peerHello, INTRO2_FEATURE);
    const maker = own ? undefined : this.#d.contacts.accepted(signer);
    const of = (s: LiveSession) => bytesEqual(s.device ?? s.peer, card.introducer) ? 0 : 1;
    const via = [
      ...(maker && !maker.anchor ? this.#d.sessions.of(maker.publicKey) : [])
        .sort((x, y) => of(x) - of(y)),
      ...this.#d.sessions.all().filter((s) =>
        s.anchor && peerHas(s.rpc.peerHello, INTRO_FEATURE) && takes(s)
      ),
    ];
    const anchors = this.#d.contacts.all().some((c) => c.anchor && !c.blocked);
    if (via.length === 0 && !own && !maker && !anchors) {
      throw new RojError(
        "refused",
        `this card was made by ${fingerprint(card.introducer)}, who is not one of your contacts,` +
          " and you use no anchor to pass it on",
      );
    }
    if (via.length === 0 && (maker || anchors)) {
      return await this.#enqueue(bytes, card, own ? null : maker?.publicKey ?? null);
    }
    if (via.length === 0) {
      throw new RojError(
        "unreachable",
        own
          ? `${card.name}'s own card goes through an anchor you both use: none is connected now`
          : `${maker!.name} is not connected, nor is any anchor you use; try again when one is`,
      );
    }
    let last: unknown;
    for (const s of via) {
      try {
        return await this.#ask(s, bytes, card.person, card.name);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /** Asks `introducer` to introduce us to the card's person; we accept already. */
  async #ask(
    s: LiveSession,
    bytes: Uint8Array,
    person: Uint8Array,
    name: string,
    queued?: string,
  ): Promise<IntroductionView> {
    const { peer: introducer, rpc } = s;
    this.#r.roomForOffer(introducer);
    const id = queued ?? toHex(crypto.getRandomValues(new Uint8Array(16)));
    const now = this.#d.clock.now();
    // Kept before asking, so the introducer's word that the person accepted finds it.
    const g: Got = {
      id,
      introducer,
      person,
      name,
      card: bytes,
      expires: now + DEFAULT_INTRO_SECONDS * 1000,
      phase: "accepted",
      unsent: false,
      at: now,
      // The device we asked makes the introduction: it is the one that hears our answers.
      ...(s.device ? { by: s.device } : {}),
    };
    await this.#r.putGot(g);
    try {
      const res = await rpc.request("intro.request", { card: encodeB64(bytes), id }, REQUEST_MS);
      const kept = this.#got.get(id);
      if (kept?.phase === "accepted") await this.#r.putGot({ ...kept, expires: res.expires });
    } catch (err) {
      await this.#r.dropGot(id);
      throw err;
    }
    this.#d.bus.say(`asked ${this.#nameOf(introducer)} to introduce you to ${name}`);
    this.#emit("accepted", id, introducer, person, name);
    return this.#view(this.#got.get(id) ?? g);
  }

  #find(prefix: string): Got {
    const hits = [...this.#got.values()].filter((g) => g.id.startsWith(prefix));
    const open = hits.filter((g) => isOpenGot(g));
    const found = open.length === 1 ? open[0] : hits.length === 1 ? hits[0] : undefined;
    if (found) return found;
    throw new RojError(
      hits.length > 1 ? "bad_input" : "not_found",
      hits.length > 1 ? `${prefix} names more than one introduction` : `no introduction ${prefix}`,
    );
  }

  async #answer(prefix: string, e: GotEvent): Promise<Got> {
    await this.#sweep();
    const g = this.#find(prefix);
    const step = await this.#stepGot(g.id, e);
    if (step?.refused) throw new RojError("refused", step.refused);
    const after = this.#got.get(g.id)!;
    if (e.type === "accept") this.#emit("accepted", g.id, g.introducer, g.person, g.name);
    else this.#emit("declined", g.id, g.introducer);
    this.#d.bus.say(
      `${e.type === "accept" ? "accepted" : "declined"} the introduction to ${g.name ?? "someone"}`,
    );
    if (after.unsent) this.#sendAnswers(g.introducer).catch(() => {});
    return { ...after, person: g.person, name: g.name };
  }

  async #stepGot(id: string, e: GotEvent) {
    const g = this.#got.get(id);
    if (!g) return undefined;
    const step = stepGot(g, e, this.#d.clock.now());
    if (step.forget) {
      await this.#r.dropGot(id);
      return step;
    }
    if (step.state !== g) await this.#r.putGot(step.state);
    if (step.state.phase === "expired" && g.phase !== "expired") {
      this.#emit("expired", id, g.introducer);
    }
    return step;
  }

  /**
   * Our answers not yet sent to `introducer`, sent now if we are connected
   * to the node of theirs that made the introduction (only it knows of it):
   * the device `by` names, else their person key's own node.
   */
  async #sendAnswers(introducer: Uint8Array): Promise<void> {
    const sessions = this.#d.sessions.of(introducer);
    if (sessions.length === 0) return;
    for (const g of [...this.#got.values()]) {
      if (!g.unsent || !bytesEqual(g.introducer, introducer) || this.#answering.has(g.id)) continue;
      // Not whichever is primary: the node that made it (the person key's has no device key).
      const by = g.by;
      const s = sessions.find((x) => by ? x.device && bytesEqual(x.device, by) : !x.device);
      if (!s) continue; // the node that made it is not connected: sent when it is
      const accept = g.phase === "accepted" || g.phase === "contacts";
      this.#answering.add(g.id);
      try {
        await s.rpc.request("intro.answer", { id: g.id, accept }, REQUEST_MS);
      } catch (err) {
        if (!isRojError(err, "not_found")) continue; // said when next connected
      } finally {
        this.#answering.delete(g.id);
      }
      await this.#stepGot(g.id, { type: "sent" });
    }
  }

  /** Both accepted: the person is our contact now; the side told last dials through the introducer. */
  async #done(id: string, introducer: Uint8Array, dial: boolean): Promise<void> {
    const g = this.#got.get(id);
    if (!g || !bytesEqual(g.introducer, introducer)) {
      throw new RojError("not_found", "no such introduction");
    }
    const step = await this.#stepGot(id, { type: "done" });
    if (step?.refused) throw new RojError("refused", step.refused);
    if (!step?.addContact || !g.person || !g.name) return;
    const c = await this.#d.contacts.add(
      g.person,
      g.name,
      [],
      this.#d.clock.now(),
      this.#d.reservedNames(),
    );
    if (g.card) await learnCardDevices(this.#d, c.publicKey, g.card);
    this.#d.bus.say(
      `${c.name} (${fingerprint(c.publicKey)}) is a contact now, introduced by ${
        this.#nameOf(introducer)
      }`,
    );
    this.#emit("contacts", id, introducer, c.publicKey, c.name);
    this.#d.added(c);
    // The other side dials through the introducer; the cascade finds the way if that fails.
    if (!dial) return;
    queueMicrotask(() => {
      this.#d.dialVia(c.publicKey, introducer).then((ok) => {
        if (!ok) this.#d.lookFor(`introduced to ${c.name}`);
      }).catch(() => {});
    });
  }

  // ---- the wire ---------------------------------------------------------------

  /** Serves intro.* on a session with contact `peer` (on an anchor, only what an introducer serves). */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    this.#introducer.serve(rpc, peer);
    if (this.#d.passive) return; // an anchor brokers members' own cards, and takes none
    rpc.handle("intro.offer", async (p) => {
      const bytes = decodeB64(p.card);
      const card = await openCard(bytes, this.#d.clock.now());
      // Signed by the contact's key, or by a device of theirs (certified, valid, not revoked).
      if (!bytesEqual(await introducerOf(this.#d, card), peer)) {
        throw new RojError("bad_input", "this card is not signed by the contact who sent it");
      }
      const by = bytesEqual(card.introducer, peer) ? undefined : card.introducer;
      if (bytesEqual(card.person, this.#d.me)) throw new RojError("bad_input", "a card of myself");
      if (this.#d.contacts.get(card.person)?.blocked) throw new RojError("refused", "declined");
      const id = toHex(card.id);
      const known = this.#got.get(id);
      if (known) {
        if (!bytesEqual(known.introducer, peer)) throw new RojError("refused", "this id is taken");
        return {};
      }
      this.#r.roomForOffer(peer);
      const now = this.#d.clock.now();
      if (card.expires > now + MAX_CARD_LIFE_MS) {
        throw new RojError("bad_input", "this card claims to stay valid for too long");
      }
      await this.#r.putGot({
        id,
        introducer: peer,
        person: card.person,
        name: card.name,
        card: bytes,
        expires: card.expires,
        phase: "pending",
        unsent: false,
        at: now,
        ...(by ? { by } : {}),
      });
      this.#d.bus.say(
        `${this.#nameOf(peer)} introduces ${card.name} (${fingerprint(card.person)}): roj accept ${
          id.slice(0, 8)
        } or roj decline ${id.slice(0, 8)}`,
      );
      this.#emit("offered", id, peer, card.person, card.name);
      return {};
    });
    rpc.handle("intro.done", async (p) => {
      await this.#done(p.id, peer, p.dial);
      return {};
    });
    rpc.handle("intro.end", async (p) => {
      const g = this.#got.get(p.id);
      if (!g || !bytesEqual(g.introducer, peer)) {
        throw new RojError("not_found", "no such introduction");
      }
      const step = await this.#stepGot(p.id, { type: "ended", reason: p.reason });
      if (step && step.state.phase !== g.phase) this.#emit(p.reason, p.id, peer);
      await this.#r.trim();
      return {};
    });
  }

  /**
   * A contact was removed or blocked: what they introduced ends here, and an
   * introduction of them we made ends as declined by them (the other is told).
   */
  async forget(peer: Uint8Array): Promise<void> {
    for (const g of [...this.#got.values()]) {
      if (!isOpenGot(g) || !bytesEqual(g.introducer, peer)) continue;
      await this.#stepGot(g.id, { type: "ended", reason: "declined" });
      this.#emit("declined", g.id, peer);
    }
    await this.#introducer.forget(peer);
  }

  /**
   * Any session of a contact's came up (not only their primary one): that
   * node gets its copies of our introductions of them, and the answers
   * waiting for introductions that node made go now.
   */
  onDevice(s: LiveSession): void {
    this.#introducer.onDevice(s);
    const by = s.device;
    const waits = (g: Got) =>
      g.unsent && bytesEqual(g.introducer, s.peer) &&
      (by ? g.by !== undefined && bytesEqual(g.by, by) : g.by === undefined);
    if ([...this.#got.values()].some(waits)) this.#sendAnswers(s.peer).catch(() => {});
  }

  /** A session with `peer` came up: hand over what waited for it. */
  onSession(peer: Uint8Array): void {
    this.#introducer.onSession(peer);
    this.#sendAnswers(peer).catch(() => {});
    this.#sendQueued(peer).catch(() => {});
  }

  // ---- cards imported while nobody could pass them on ------------------------

  /** Keeps an imported card until its maker (`maker`) or an anchor is connected. */
  async #enqueue(
    bytes: Uint8Array,
    card: { person: Uint8Array; name: string; expires: number },
    maker: Uint8Array | null,
  ): Promise<IntroductionView> {
    if (this.#queue.all().some((q) => bytesEqual(q.person, card.person))) {
      throw new RojError("exists", `you asked for ${card.name} already; it waits to be sent`);
    }
    const q: QueuedImport = {
      id: toHex(crypto.getRandomValues(new Uint8Array(16))),
      card: bytes,
      person: card.person,
      name: card.name,
      maker,
      expires: card.expires,
      at: this.#d.clock.now(),
    };
    await this.#queue.add(q);
    const via = maker ? `${this.#nameOf(maker)} or an anchor you use` : "an anchor you use";
    this.#d.bus.say(`the request to meet ${card.name} is sent when ${via} is connected`);
    return this.#queuedView(q);
  }

  /** Sends the queued imports that a session with `peer` can pass on. */
  async #sendQueued(peer: Uint8Array): Promise<void> {
    const s = this.#d.sessions.get(peer);
    if (!s || this.#d.passive) return;
    await this.#queue.sweep(this.#d.clock.now());
    for (const q of this.#queue.all()) {
      const viaMaker = q.maker !== null && bytesEqual(q.maker, peer) && !s.anchor;
      const viaAnchor = s.anchor && peerHas(s.rpc.peerHello, INTRO_FEATURE) &&
        (!isCardV2(q.card) || peerHas(s.rpc.peerHello, INTRO2_FEATURE));
      if ((!viaMaker && !viaAnchor) || this.#sending.has(q.id) || s.rpc.closed) continue;
      if (this.#d.contacts.accepted(q.person)) {
        await this.#queue.drop(q.id);
        continue;
      }
      this.#sending.add(q.id);
      try {
        await this.#ask(s, q.card, q.person, q.name, q.id);
        await this.#queue.drop(q.id);
      } catch (err) {
        // The maker's no is final; an anchor's may be another anchor's yes (the person uses that one).
        if (viaMaker && isRojError(err, "refused")) {
          await this.#queue.drop(q.id);
          this.#d.bus.say(`${this.#nameOf(peer)} did not take the request to meet ${q.name}`);
          this.#emit("declined", q.id, peer);
        }
      } finally {
        this.#sending.delete(q.id);
      }
    }
  }

  /** The queued import `prefix` names, when no introduction offered to us does. */
  #queuedOnly(prefix: string): QueuedImport | undefined {
    if ([...this.#got.values()].some((g) => g.id.startsWith(prefix))) return undefined;
    const hits = this.#queue.all().filter((q) => q.id.startsWith(prefix));
    return hits.length === 1 ? hits[0] : undefined;
  }

  #queuedView(q: QueuedImport): IntroductionView {
    return {
      id: q.id,
      introducer: q.maker ? this.#nameOf(q.maker) : "an anchor",
      name: q.name,
      fingerprint: fingerprint(q.person),
      expires: q.expires,
      state: "queued",
    };
  }

  // ---- store and views ------------------------------------------------------

  async #sweep(): Promise<void> {
    await this.#introducer.sweep();
    for (const id of [...this.#got.keys()]) await this.#stepGot(id, { type: "tick" });
    for (const g of [...this.#got.values()]) {
      // Taken on another device of ours (the contact came in step from it): nothing is left to do.
      if (isOpenGot(g) && g.person && this.#d.contacts.accepted(g.person)) {
        const step = await this.#stepGot(g.id, { type: "met" });
        if (step?.send) this.#sendAnswers(g.introducer).catch(() => {});
        continue;
      }
      // Made on a device since removed: it speaks for nobody, and would never finish it.
      if (!isOpenGot(g) || !g.by || bytesEqual(this.#d.personOf(g.by), g.introducer)) continue;
      await this.#stepGot(g.id, { type: "ended", reason: "declined" });
      this.#emit("declined", g.id, g.introducer);
    }
    await this.#r.trim();
    await this.#queue.sweep(this.#d.clock.now());
  }

  #nameOf(k: Uint8Array): string {
    return this.#d.contacts.get(k)?.name ?? fingerprint(k);
  }

  #view(g: Got): IntroductionView {
    return {
      id: g.id,
      introducer: this.#nameOf(g.introducer),
      name: g.name ?? "",
      fingerprint: g.person ? fingerprint(g.person) : "",
      expires: g.expires,
      state: g.phase === "accepted" ? "accepted" : "pending",
    };
  }

  #emit(
    op: Extract<NodeEvent, { type: "introduction" }>["op"],
    id: string,
    introducer: Uint8Array,
    person?: Uint8Array | null,
    name?: string | null,
  ): void {
    this.#d.bus.emit({
      type: "introduction",
      op,
      id,
      introducer: bytesEqual(introducer, this.#d.me) ? this.#d.name : this.#nameOf(introducer),
      ...(person && name ? { peer: name, fingerprint: fingerprint(person) } : {}),
    });
  }
}
