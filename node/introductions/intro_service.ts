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
 */
import type { Clock, TimerId } from "../clock/mod.ts";
import type { Contact, ContactBook } from "../contacts/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { NodeEvent } from "../api/mod.ts";
import type { CardView, IntroducedView, IntroductionView } from "../api/mod.ts";
import { fingerprint, type Signer } from "../identity/mod.ts";
import { decodeB64, encodeB64, INTRO_FEATURE, peerHas, type RpcSession } from "../protocol/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { cardBytes, cardText, openCard, signCard } from "./card.ts";
import { IntroRecords, isOpenGot } from "./intro_records.ts";
import {
  type Got,
  type GotEvent,
  type Made,
  type MadeEvent,
  other,
  outcomeOf,
  type Side,
  stepGot,
  stepMade,
} from "./introduction.ts";

/** An introduction's life unless given: 7 days. */
export const DEFAULT_INTRO_SECONDS = 7 * 86_400;
/** The longest life a card offered to us may claim (the API's 30 days, and a day of clock skew). */
const MAX_CARD_LIFE_MS = 31 * 86_400_000;
const SWEEP_MS = 60_000;
/** What a side answers an offer with that ends the introduction as declined by it. */
const REFUSALS = ["refused", "unknown_method", "busy", "bad_input"] as const;
const REQUEST_MS = 15_000;

export interface IntroDeps {
  readonly me: Uint8Array;
  /** Our name, for our own card. */
  readonly name: string;
  /** A passive anchor: brokers its members' own cards, takes no introduction itself. */
  readonly passive: boolean;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly kv: Deno.Kv;
  readonly contacts: ContactBook;
  readonly sessions: SessionManager;
  /** Chat names a new contact may not take. */
  reservedNames(): string[];
  /** A contact was added: seal our address for them, tell the admin. */
  added(c: Contact): void;
  /** The first session, through the introducer: true when it came up. */
  dialVia(peer: Uint8Array, relay: Uint8Array): Promise<boolean>;
  /** Look for contacts not reached (the cascade). */
  lookFor(reason: string): void;
}

export class IntroService {
  readonly #d: IntroDeps;
  readonly #r: IntroRecords;
  readonly #made: Map<string, Made>;
  readonly #got: Map<string, Got>;
  #timer: TimerId | undefined;

  private constructor(deps: IntroDeps, records: IntroRecords) {
    this.#d = deps;
    this.#r = records;
    this.#made = records.made;
    this.#got = records.got;
  }

  /** Loads every introduction from the store. */
  static async open(deps: IntroDeps): Promise<IntroService> {
    return new IntroService(deps, await IntroRecords.open(deps.kv));
  }

  /** Sweeps expired introductions every minute. */
  start(): void {
    this.#timer = this.#d.clock.setInterval(() => this.#sweep().catch(() => {}), SWEEP_MS);
    this.#d.clock.unref(this.#timer);
  }

  close(): void {
    this.#d.clock.clearInterval(this.#timer);
  }

  // ---- the introducer -------------------------------------------------------

  /**
   * Introduces two contacts: each is handed a card of the other now, or when
   * next reached. @throws {RojError} bad_input (the same person, an anchor), busy
   */
  async introduce(
    a: Contact,
    b: Contact,
    expiresIn = DEFAULT_INTRO_SECONDS,
  ): Promise<IntroducedView> {
    if (bytesEqual(a.publicKey, b.publicKey)) {
      throw new RojError("bad_input", "introduce two different contacts");
    }
    for (const c of [a, b]) {
      if (c.blocked) throw new RojError("bad_input", `${c.name} is blocked`);
      if (c.anchor) {
        throw new RojError("bad_input", `${c.name} is an anchor: it takes no introductions`);
      }
    }
    const m = await this.#newMade(a.publicKey, b.publicKey, [], expiresIn);
    this.#d.bus.say(`introducing ${a.name} and ${b.name} to each other`);
    this.#emit("made", m.id, this.#d.me);
    this.#flushMade(m.id);
    return { id: m.id, a: a.name, b: b.name, expires: m.expires };
  }

  /**
   * A shareable card of a contact, signed by us; without one, our own card
   * (it goes through an anchor its holder and we both use).
   * @throws {RojError} bad_input for an anchor
   */
  async card(c: Contact | undefined, expiresIn = DEFAULT_INTRO_SECONDS): Promise<CardView> {
    if (c?.anchor) {
      throw new RojError("bad_input", `${c.name} is an anchor: it takes no introductions`);
    }
    const person = c?.publicKey ?? this.#d.me;
    const name = c?.name ?? this.#d.name;
    const expires = this.#d.clock.now() + expiresIn * 1000;
    const bytes = await signCard(this.#d.signer, {
      person,
      name,
      expires,
      id: crypto.getRandomValues(new Uint8Array(16)),
    });
    return { text: cardText(bytes), name, fingerprint: fingerprint(person), expires };
  }

  async #newMade(a: Uint8Array, b: Uint8Array, accepted: Side[], expiresIn: number, id?: string) {
    this.#r.roomToMake(a, b);
    const now = this.#d.clock.now();
    const m: Made = {
      id: id ?? toHex(crypto.getRandomValues(new Uint8Array(16))),
      a,
      b,
      expires: now + expiresIn * 1000,
      phase: accepted.length > 0 ? "accepted-by-one" : "pending",
      accepted,
      toOffer: (["a", "b"] as const).filter((s) => !accepted.includes(s)),
      toTell: [],
      at: now,
    };
    await this.#r.putMade(m);
    return m;
  }

  #keyOf(m: Made, side: Side): Uint8Array | null {
    return side === "a" ? m.a : m.b;
  }

  /** Applies an event to one of our introductions, stores it, and tells whom it must. */
  async #stepMade(id: string, e: MadeEvent): Promise<Made | undefined> {
    const m = this.#made.get(id);
    if (!m) return undefined;
    const step = stepMade(m, e, this.#d.clock.now());
    if (step.forget) {
      await this.#r.dropMade(id);
      return undefined;
    }
    if (step.state !== m) await this.#r.putMade(step.state);
    const { phase } = step.state;
    if (phase !== m.phase && (phase === "declined" || phase === "expired" || phase === "both")) {
      this.#d.bus.say(
        `introduction ${id.slice(0, 8)}: ${phase === "both" ? "both accepted" : phase}`,
      );
    }
    // Told as it moves: a side's acceptance (naming that side), then how it ended.
    if (e.type === "answer" && e.accept && step.state.accepted.length > m.accepted.length) {
      const k = this.#keyOf(m, e.side);
      this.#emit("accepted", id, this.#d.me, k, k && this.#nameOf(k));
    }
    if (phase !== m.phase && (phase === "declined" || phase === "expired")) {
      this.#emit(phase, id, this.#d.me);
    }
    if (phase === "contacts" && m.phase !== "contacts") this.#emit("contacts", id, this.#d.me);
    if (step.tell.length > 0) this.#flushMade(id);
    return step.state;
  }

  /** Hands over cards and tells outcomes to every side of `id` we are connected to. */
  #flushMade(id: string): void {
    queueMicrotask(() => this.#sendMade(id).catch(() => {}));
  }

  async #sendMade(id: string): Promise<void> {
    for (const side of ["a", "b"] as const) {
      const m = this.#made.get(id);
      const peer = m && this.#keyOf(m, side);
      const s = peer && this.#d.sessions.get(peer);
      if (!m || !peer || !s) continue;
      if (m.toOffer.includes(side)) await this.#offer(m, side, s.rpc);
      const now = this.#made.get(id);
      if (now?.toTell.includes(side)) await this.#tell(now, side, s.rpc);
    }
  }

  async #offer(m: Made, side: Side, rpc: RpcSession): Promise<void> {
    const to = this.#keyOf(m, side)!;
    const person = this.#d.contacts.get(this.#keyOf(m, other(side))!);
    if (!peerHas(rpc.peerHello, INTRO_FEATURE) || !person) {
      await this.#stepMade(m.id, { type: "answer", side, accept: false });
      return;
    }
    const card = await signCard(this.#d.signer, {
      person: person.publicKey,
      name: person.name,
      expires: m.expires,
      id: fromHex(m.id),
    });
    try {
      await rpc.request("intro.offer", { card: encodeB64(card) }, REQUEST_MS);
    } catch (err) {
      // Refused (blocked, full, a card it will not take, an older node): as good as
      // declined. Else (timed out, the session went) try again when next connected.
      if (REFUSALS.some((code) => isRojError(err, code))) {
        this.#d.bus.say(
          `${this.#nameOf(to)} did not take the introduction: ${(err as Error).message}`,
        );
        await this.#stepMade(m.id, { type: "answer", side, accept: false });
      }
      return;
    }
    await this.#stepMade(m.id, { type: "offered", side });
  }

  async #tell(m: Made, side: Side, rpc: RpcSession): Promise<void> {
    const outcome = outcomeOf(m);
    try {
      if (outcome === "done") {
        // The side told last dials the other through us: both are contacts by then.
        const dial = !m.toTell.includes(other(side));
        await rpc.request("intro.done", { id: m.id, dial }, REQUEST_MS);
      } else await rpc.request("intro.end", { id: m.id, reason: outcome }, REQUEST_MS);
    } catch {
      return; // told when next reached
    }
    await this.#stepMade(m.id, { type: "told", side });
  }

  // ---- the people introduced ------------------------------------------------

  /** Open introductions offered to us, oldest first. */
  async list(): Promise<IntroductionView[]> {
    await this.#sweep();
    return [...this.#got.values()].filter((g) => isOpenGot(g))
      .sort((x, y) => x.at - y.at).map((g) => this.#view(g));
  }

  /** Accepts an introduction (by id or unique prefix). @throws {RojError} not_found, refused */
  async accept(id: string): Promise<IntroductionView> {
    const g = await this.#answer(id, { type: "accept" });
    return this.#view(g);
  }

  /** Declines an introduction: only the fact is kept. @throws {RojError} not_found, refused */
  async decline(id: string): Promise<{ declined: string }> {
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
    const own = bytesEqual(card.introducer, card.person);
    const maker = own ? undefined : this.#d.contacts.accepted(card.introducer);
    const sessions = this.#d.sessions.all();
    const via = [
      ...sessions.filter((s) => maker && !maker.anchor && bytesEqual(s.peer, maker.publicKey)),
      ...sessions.filter((s) => s.anchor && peerHas(s.rpc.peerHello, INTRO_FEATURE)),
    ];
    if (via.length === 0 && !own && !maker) {
      throw new RojError(
        "refused",
        `this card was made by ${fingerprint(card.introducer)}, who is not one of your contacts,` +
          " and no anchor you use is connected to pass it on",
      );
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
        return await this.#ask(s.peer, s.rpc, bytes, card.person, card.name);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /** Asks `introducer` to introduce us to the card's person; we accept already. */
  async #ask(
    introducer: Uint8Array,
    rpc: RpcSession,
    bytes: Uint8Array,
    person: Uint8Array,
    name: string,
  ): Promise<IntroductionView> {
    this.#r.roomForOffer(introducer);
    const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
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

  /** Our answers not yet sent to `introducer`, sent now if we are connected. */
  async #sendAnswers(introducer: Uint8Array): Promise<void> {
    const s = this.#d.sessions.get(introducer);
    if (!s) return;
    for (const g of [...this.#got.values()]) {
      if (!g.unsent || !bytesEqual(g.introducer, introducer)) continue;
      const accept = g.phase === "accepted";
      try {
        await s.rpc.request("intro.answer", { id: g.id, accept }, REQUEST_MS);
      } catch (err) {
        if (!isRojError(err, "not_found")) continue; // said when next connected
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

  /** Serves intro.* on a session with contact `peer` (a person node; anchors do not list the feature). */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    this.#serveIntroducer(rpc, peer);
    if (this.#d.passive) return; // an anchor brokers members' own cards, and takes none
    rpc.handle("intro.offer", async (p) => {
      const bytes = decodeB64(p.card);
      const card = await openCard(bytes, this.#d.clock.now());
      if (!bytesEqual(card.introducer, peer)) {
        throw new RojError("bad_input", "this card is not signed by the contact who sent it");
      }
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

  /** What an introducer serves: answers to its introductions, and requests with its cards. */
  #serveIntroducer(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("intro.answer", async (p) => {
      const m = this.#made.get(p.id);
      const side = m &&
        (m.a && bytesEqual(m.a, peer) ? "a" : m.b && bytesEqual(m.b, peer) ? "b" : undefined);
      if (!m || !side) throw new RojError("not_found", "no such introduction");
      await this.#stepMade(p.id, { type: "answer", side, accept: p.accept });
      return {};
    });
    rpc.handle("intro.request", async (p) => {
      const card = await openCard(decodeB64(p.card), this.#d.clock.now());
      // Our card of a contact; or, on an anchor, any card of a member (their own, say).
      if (!bytesEqual(card.introducer, this.#d.me) && !this.#d.passive) {
        throw new RojError("refused", "this card was not made here");
      }
      const person = this.#d.contacts.accepted(card.person);
      if (!person || person.anchor || bytesEqual(card.person, peer)) {
        throw new RojError("refused", "this card's person is not a contact here any more");
      }
      if (this.#made.has(p.id)) throw new RojError("refused", "this id is taken");
      const m = await this.#newMade(person.publicKey, peer, ["b"], DEFAULT_INTRO_SECONDS, p.id);
      this.#d.bus.say(
        `${this.#nameOf(peer)} asks, with a card, to be introduced to ${person.name}`,
      );
      this.#emit("made", m.id, this.#d.me);
      this.#flushMade(m.id);
      return { expires: m.expires };
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
    for (const m of [...this.#made.values()]) {
      for (const side of ["a", "b"] as const) {
        const k = this.#keyOf(m, side);
        if (k && bytesEqual(k, peer)) {
          await this.#stepMade(m.id, { type: "answer", side, accept: false });
        }
      }
    }
  }

  /** A session with `peer` came up: hand over what waited for it. */
  onSession(peer: Uint8Array): void {
    for (const m of this.#made.values()) {
      const waits = (side: Side) => {
        const k = this.#keyOf(m, side);
        return k && bytesEqual(k, peer) && (m.toOffer.includes(side) || m.toTell.includes(side));
      };
      if (waits("a") || waits("b")) this.#flushMade(m.id);
    }
    this.#sendAnswers(peer).catch(() => {});
  }

  // ---- store and views ------------------------------------------------------

  async #sweep(): Promise<void> {
    for (const id of [...this.#made.keys()]) await this.#stepMade(id, { type: "tick" });
    for (const id of [...this.#got.keys()]) await this.#stepGot(id, { type: "tick" });
    await this.#r.trim();
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

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}
