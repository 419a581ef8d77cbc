/**
 * The introducer's side of introductions (see intro_service.ts for the whole
 * flow): making them, handing each side the other's card, collecting the
 * answers, telling the outcome, and serving requests made with its cards.
 */
import type { Contact, ContactBook } from "../contacts/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { CardView, IntroducedView, NodeEvent } from "../api/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { type Certificate, fingerprint, type Signer } from "../identity/mod.ts";
import {
  decodeB64,
  encodeB64,
  INTRO2_FEATURE,
  INTRO_FEATURE,
  peerHas,
  type RpcSession,
} from "../protocol/mod.ts";
import type { LiveSession, SessionManager } from "../sessions/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { cardText, openCard } from "./card.ts";
import { introducerOf, makeCard } from "./intro_people.ts";
import { type IntroRecords, MAX_OPEN_MADE } from "./intro_records.ts";
import {
  type Made,
  type MadeEvent,
  other,
  outcomeOf,
  type Side,
  stepMade,
} from "./introduction.ts";

/** An introduction's life unless given: 7 days. */
export const DEFAULT_INTRO_SECONDS = 7 * 86_400;
/** How long a peer has to answer one intro.* request. */
export const REQUEST_MS = 15_000;
/** What a side answers an offer with that ends the introduction as declined by it. */
const REFUSALS = ["refused", "unknown_method", "busy", "bad_input"] as const;

export interface IntroDeps {
  /** Our person's key (on a device, the person's, not the device's own: the signer's). */
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
  /**
   * The person `key` speaks for now: ours or a contact's, when it is one of
   * their devices (certified, valid, not revoked); else `key` itself. A card
   * made on a device is signed by the device's key (issue 13: everything but
   * linking runs on device keys), so its introducer is this key's person.
   */
  personOf(key: Uint8Array): Uint8Array;
  /**
   * The certificates of `person`'s devices known here (ours or a contact's),
   * valid now and not revoked, for a v2 card of them (intro_people.ts cardDevices).
   */
  devicesOf(person: Uint8Array): Certificate[];
  /** Takes a device certificate of `person` (ours or a contact's) into their device book, if valid now. */
  learnDevice(person: Uint8Array, cert: Certificate): Promise<void>;
}

/** How the introducer tells the node's events and names people (shared with IntroService). */
export interface IntroEmit {
  emit(
    op: Extract<NodeEvent, { type: "introduction" }>["op"],
    id: string,
    introducer: Uint8Array,
    person?: Uint8Array | null,
    name?: string | null,
  ): void;
  nameOf(k: Uint8Array): string;
}

export class Introducer {
  readonly #d: IntroDeps;
  readonly #r: IntroRecords;
  readonly #made: Map<string, Made>;
  readonly #e: IntroEmit;
  /**
   * On an anchor, which keeps no member's name: the name a requester gave in
   * its hello, by introduction id, for the card of it the other side is handed
   * (memory only, as the anchor's introductions are).
   */
  readonly #helloNames = new Map<string, string>();

  constructor(deps: IntroDeps, records: IntroRecords, e: IntroEmit) {
    this.#d = deps;
    this.#r = records;
    this.#made = records.made;
    this.#e = e;
  }

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
    this.#e.emit("made", m.id, this.#d.me);
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
    // Whoever imports it is unknown: v2 whenever it is needed (an older node refuses it).
    const bytes = await makeCard(this.#d, {
      person,
      name,
      expires,
      id: crypto.getRandomValues(new Uint8Array(16)),
    }, true);
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
      this.#e.emit("accepted", id, this.#d.me, k, k && this.#e.nameOf(k));
    }
    if (phase !== m.phase && (phase === "declined" || phase === "expired")) {
      this.#e.emit(phase, id, this.#d.me);
    }
    if (phase === "contacts" && m.phase !== "contacts") this.#e.emit("contacts", id, this.#d.me);
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
      if (m.toOffer.includes(side)) await this.#offer(m, side, this.#d.sessions.of(peer));
      const now = this.#made.get(id);
      if (!now?.toTell.includes(side)) continue;
      // Each of their nodes up when offered holds a copy, and any may have accepted: "done" is
      // told until one takes it; an end to every one, so that no copy is left open.
      const done = outcomeOf(now) === "done";
      for (const each of this.#d.sessions.of(peer)) {
        if (await this.#tell(now, side, each.rpc) && done) break;
      }
    }
  }

  /** Hands the side the card on its primary session (`sessions[0]`), and a copy on each other. */
  async #offer(m: Made, side: Side, sessions: LiveSession[]): Promise<void> {
    const [{ rpc }, ...rest] = sessions as [LiveSession, ...LiveSession[]];
    const to = this.#keyOf(m, side)!;
    const card = peerHas(rpc.peerHello, INTRO_FEATURE)
      ? await this.#cardFor(m, side, peerHas(rpc.peerHello, INTRO2_FEATURE))
      : undefined;
    if (!card) {
      await this.#stepMade(m.id, { type: "answer", side, accept: false });
      return;
    }
    try {
      await rpc.request("intro.offer", { card: encodeB64(card) }, REQUEST_MS);
    } catch (err) {
      // Refused (blocked, full, a card it will not take, an older node): as good as
      // declined. Else (timed out, the session went) try again when next connected.
      if (REFUSALS.some((code) => isRojError(err, code))) {
        this.#d.bus.say(
          `${this.#e.nameOf(to)} did not take the introduction: ${(err as Error).message}`,
        );
        await this.#stepMade(m.id, { type: "answer", side, accept: false });
      }
      return;
    }
    await this.#stepMade(m.id, { type: "offered", side });
    // A person on several nodes answers on whichever they use (one answer is enough).
    for (const { rpc: copy } of rest.filter((x) => peerHas(x.rpc.peerHello, INTRO_FEATURE))) {
      // Each node of theirs gets the version it takes (the id is the same).
      const its = await this.#cardFor(m, side, peerHas(copy.peerHello, INTRO2_FEATURE));
      if (!its) continue;
      await copy.request("intro.offer", { card: encodeB64(its) }, REQUEST_MS).catch(() => {});
    }
  }

  /**
   * The card `side` is handed: of the other side, signed by us, v2 if needed and `v2` (it
   * lists intro2); none when they are no contact.
   */
  async #cardFor(m: Made, side: Side, v2: boolean): Promise<Uint8Array | undefined> {
    const person = this.#d.contacts.get(this.#keyOf(m, other(side))!);
    if (!person) return undefined;
    return await makeCard(this.#d, {
      person: person.publicKey,
      name: this.#helloNames.get(m.id) ?? person.name,
      expires: m.expires,
      id: fromHex(m.id),
    }, v2);
  }

  /**
   * A session of a contact came up, their primary or another node's: that node gets a copy of
   * each introduction handed to them and not answered yet (a node that holds it takes it as known).
   */
  onDevice(s: LiveSession): void {
    if (!peerHas(s.rpc.peerHello, INTRO_FEATURE)) return;
    for (const m of this.#made.values()) {
      if (m.phase !== "pending" && m.phase !== "accepted-by-one") continue;
      const side = (["a", "b"] as const).find((x) => {
        const k = this.#keyOf(m, x);
        return k !== null && bytesEqual(k, s.peer) && !m.toOffer.includes(x) &&
          !m.accepted.includes(x);
      });
      if (!side) continue;
      queueMicrotask(() => {
        this.#cardFor(m, side, peerHas(s.rpc.peerHello, INTRO2_FEATURE)).then((card) =>
          card && s.rpc.request("intro.offer", { card: encodeB64(card) }, REQUEST_MS)
        ).catch(() => {});
      });
    }
  }

  /** Tells one side the outcome on one of its sessions: whether it took it. */
  async #tell(m: Made, side: Side, rpc: RpcSession): Promise<boolean> {
    const outcome = outcomeOf(m);
    try {
      if (outcome === "done") {
        // The side told last dials the other through us: both are contacts by then.
        const dial = !m.toTell.includes(other(side));
        await rpc.request("intro.done", { id: m.id, dial }, REQUEST_MS);
      } else await rpc.request("intro.end", { id: m.id, reason: outcome }, REQUEST_MS);
    } catch {
      return false; // told when next reached
    }
    await this.#stepMade(m.id, { type: "told", side });
    return true;
  }

  /** What an introducer serves: answers to its introductions, and requests with its cards. */
  serve(rpc: RpcSession, peer: Uint8Array): void {
    rpc.handle("intro.answer", async (p) => {
      const m = this.#made.get(p.id);
      const side = m &&
        (m.a && bytesEqual(m.a, peer) ? "a" : m.b && bytesEqual(m.b, peer) ? "b" : undefined);
      if (!m || !side) throw new RojError("not_found", "no such introduction");
      await this.#stepMade(p.id, { type: "answer", side, accept: p.accept });
      // Declined on one of their nodes: the copies their others hold end too (none is told of
      // its own no otherwise); an acceptance ends them once the new contact comes in step.
      const others = p.accept ? [] : this.#d.sessions.of(peer).filter((s) => s.rpc !== rpc);
      for (const { rpc: copy } of others) {
        copy.request("intro.end", { id: p.id, reason: "declined" }, REQUEST_MS).catch(() => {});
      }
      return {};
    });
    rpc.handle("intro.request", async (p) => {
      const card = await openCard(decodeB64(p.card), this.#d.clock.now());
      // Our card of a contact (made on any device of ours); or, on an anchor, any card of a member.
      if (!this.#d.passive && !bytesEqual(await introducerOf(this.#d, card), this.#d.me)) {
        throw new RojError("refused", "this card was not made here");
      }
      const person = this.#d.contacts.accepted(card.person);
      if (!person || person.anchor || bytesEqual(card.person, peer)) {
        throw new RojError("refused", "this card's person is not a contact here any more");
      }
      if (this.#made.has(p.id)) throw new RojError("refused", "this id is taken");
      const m = await this.#newMade(person.publicKey, peer, ["b"], DEFAULT_INTRO_SECONDS, p.id);
      const helloName = rpc.peerHello?.name;
      if (this.#d.passive && helloName) {
        // Bounded like the introductions themselves (MAX_OPEN_MADE, then the oldest go).
        if (this.#helloNames.size >= 2 * MAX_OPEN_MADE) {
          this.#helloNames.delete(this.#helloNames.keys().next().value!);
        }
        this.#helloNames.set(m.id, helloName);
      }
      this.#d.bus.say(
        `${this.#e.nameOf(peer)} asks, with a card, to be introduced to ${person.name}`,
      );
      this.#e.emit("made", m.id, this.#d.me);
      this.#flushMade(m.id);
      return { expires: m.expires };
    });
  }

  /** A contact was removed or blocked: an introduction of them ends as declined by them. */
  async forget(peer: Uint8Array): Promise<void> {
    for (const m of [...this.#made.values()]) {
      for (const side of ["a", "b"] as const) {
        const k = this.#keyOf(m, side);
        if (k && bytesEqual(k, peer)) {
          await this.#stepMade(m.id, { type: "answer", side, accept: false });
        }
      }
    }
  }

  /** A session with `peer` came up: hand over the cards and outcomes that waited for it. */
  onSession(peer: Uint8Array): void {
    for (const m of this.#made.values()) {
      const waits = (side: Side) => {
        const k = this.#keyOf(m, side);
        return k && bytesEqual(k, peer) && (m.toOffer.includes(side) || m.toTell.includes(side));
      };
      if (waits("a") || waits("b")) this.#flushMade(m.id);
    }
  }

  /** Expires and forgets by the clock. */
  async sweep(): Promise<void> {
    for (const id of [...this.#made.keys()]) await this.#stepMade(id, { type: "tick" });
  }
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}
