/**
 * What an introduction decides, as pure functions of (state, event, now).
 * Sockets, the store and timers live in intro_service.ts.
 *
 * The introducer's side (alice introduces bob, side "a", and carol, "b"):
 *
 *   pending ──one accepts──▶ accepted-by-one ──the other accepts──▶ both ──both told──▶ contacts
 *      │                          │
 *      ├──either declines─────────┴──▶ declined   (the other side is told)
 *      └──past its expiry─────────────▶ expired   (a side that accepted is told)
 *
 * Each person's side (bob, offered carol's card):
 *
 *   pending ──accept──▶ accepted ──introducer says both accepted──▶ contacts
 *      │                  │
 *      ├──decline─────────┴──▶ declined   (the introducer is told)
 *      ├──introducer says the other declined or it expired──▶ declined / expired
 *      └──past its expiry──▶ expired
 *
 * An ended introduction (declined, expired, contacts) keeps only its id, its
 * phase and when it ended: no key, no name, no card of the other person. It is
 * forgotten entirely TOMBSTONE_MS later.
 */

/** How long an ended introduction's bare fact is kept. */
export const TOMBSTONE_MS = 30 * 86_400_000;
/**
 * How long past its expiry an accepted introduction still waits for the
 * introducer's word (a side that answered in time is not left half-done
 * because the introducer was offline at the deadline).
 */
export const ACCEPTED_GRACE_MS = 7 * 86_400_000;

export type Side = "a" | "b";
export const other = (s: Side): Side => s === "a" ? "b" : "a";

export type MadePhase =
  | "pending"
  | "accepted-by-one"
  | "both"
  | "contacts"
  | "declined"
  | "expired";

/** An introduction this node made. */
export interface Made {
  /** 32 hex digits. */
  readonly id: string;
  /** The two people, until every side that must be told has been. */
  readonly a: Uint8Array | null;
  readonly b: Uint8Array | null;
  readonly expires: number;
  readonly phase: MadePhase;
  readonly accepted: readonly Side[];
  /** Sides not yet handed the other's card (the shell hands it over when it reaches them). */
  readonly toOffer: readonly Side[];
  /** Sides still to be told the outcome (the shell tells them when it reaches them). */
  readonly toTell: readonly Side[];
  /** When the phase last changed. */
  readonly at: number;
}

export type MadeEvent =
  | { readonly type: "answer"; readonly side: Side; readonly accept: boolean }
  /** A side was handed the other's card. */
  | { readonly type: "offered"; readonly side: Side }
  | { readonly type: "told"; readonly side: Side }
  | { readonly type: "tick" };

/** What the introducer tells a side: both accepted, or why it ended. */
export type Outcome = "done" | "declined" | "expired";

export interface MadeStep {
  readonly state: Made;
  /** What to tell each side now. */
  readonly tell: readonly { readonly side: Side; readonly outcome: Outcome }[];
  /** Drop the record altogether. */
  readonly forget: boolean;
}

const OPEN_MADE: ReadonlySet<MadePhase> = new Set(["pending", "accepted-by-one"]);

/** The outcome a side still to be told is told. */
export function outcomeOf(m: Made): Outcome {
  return m.phase === "both" || m.phase === "contacts" ? "done" : m.phase as Outcome;
}

/** Drops the people's keys once nobody is left to tell. */
function settleMade(m: Made): Made {
  if (m.toTell.length > 0 || OPEN_MADE.has(m.phase) || m.phase === "both") return m;
  return { ...m, a: null, b: null };
}

export function stepMade(m: Made, e: MadeEvent, now: number): MadeStep {
  const none: MadeStep = { state: m, tell: [], forget: false };
  const ended = (phase: MadePhase, sides: Side[]): MadeStep => {
    // Nobody is told of an introduction they were never offered.
    const toTell = sides.filter((s) => !m.toOffer.includes(s) || m.accepted.includes(s));
    const state = settleMade({ ...m, phase, toTell, toOffer: [], at: now });
    return {
      state,
      tell: toTell.map((side) => ({ side, outcome: outcomeOf(state) })),
      forget: false,
    };
  };
  if (OPEN_MADE.has(m.phase) && now >= m.expires) {
    const step = ended("expired", [...m.accepted]);
    return e.type === "tick" ? step : { ...stepMade(step.state, e, now), tell: step.tell };
  }
  switch (e.type) {
    case "tick": {
      const over = m.phase === "both" && now >= m.expires + ACCEPTED_GRACE_MS;
      if (over) return ended("expired", []);
      const gone = !OPEN_MADE.has(m.phase) && m.phase !== "both" && now >= m.at + TOMBSTONE_MS;
      return gone ? { ...none, forget: true } : none;
    }
    case "answer": {
      if (!OPEN_MADE.has(m.phase)) return none;
      if (!e.accept) return ended("declined", [other(e.side)]);
      const accepted = m.accepted.includes(e.side) ? m.accepted : [...m.accepted, e.side];
      // An answer proves the card arrived, even if its delivery was never confirmed here.
      const toOffer = m.toOffer.filter((s) => s !== e.side);
      if (accepted.length < 2) {
        return { ...none, state: { ...m, accepted, toOffer, phase: "accepted-by-one", at: now } };
      }
      const state: Made = { ...m, accepted, toOffer, phase: "both", toTell: ["a", "b"], at: now };
      return {
        state,
        tell: [{ side: "a", outcome: "done" }, { side: "b", outcome: "done" }],
        forget: false,
      };
    }
    case "offered":
      return { ...none, state: { ...m, toOffer: m.toOffer.filter((s) => s !== e.side) } };
    case "told": {
      if (!m.toTell.includes(e.side)) return none;
      const toTell = m.toTell.filter((s) => s !== e.side);
      const phase = m.phase === "both" && toTell.length === 0 ? "contacts" : m.phase;
      return { ...none, state: settleMade({ ...m, toTell, phase }) };
    }
  }
}

export type GotPhase = "pending" | "accepted" | "contacts" | "declined" | "expired";

/** An introduction this node was offered: the other person's card. */
export interface Got {
  /** 32 hex digits. */
  readonly id: string;
  readonly introducer: Uint8Array;
  /** The other person, their name as the introducer gave it, and the signed card; null once ended. */
  readonly person: Uint8Array | null;
  readonly name: string | null;
  readonly card: Uint8Array | null;
  readonly expires: number;
  readonly phase: GotPhase;
  /** Our answer has not reached the introducer yet. */
  readonly unsent: boolean;
  readonly at: number;
  /**
   * The introducer's device that holds the introduction (its key), when one
   * of their devices made it rather than their person key's node: our answer
   * goes to that device's session, as only it knows the introduction.
   */
  readonly by?: Uint8Array;
}

export type GotEvent =
  | { readonly type: "accept" }
  | { readonly type: "decline" }
  /** The introducer: both accepted. */
  | { readonly type: "done" }
  /** The introducer: the other declined, or it expired. */
  | { readonly type: "ended"; readonly reason: "declined" | "expired" }
  /** The person is our contact by now another way (another device of ours took the introduction). */
  | { readonly type: "met" }
  | { readonly type: "sent" }
  | { readonly type: "tick" };

export interface GotStep {
  readonly state: Got;
  /** Send our answer to the introducer now. */
  readonly send: boolean;
  /** Add the person as a contact now (with the name and key held before this step). */
  readonly addContact: boolean;
  readonly forget: boolean;
  /** The event does not apply in this phase (e.g. accepting what was declined). */
  readonly refused?: string;
}

const endGot = (g: Got, phase: GotPhase, now: number, unsent = g.unsent): Got => ({
  ...g,
  person: null,
  name: null,
  card: null,
  phase,
  unsent,
  at: now,
});

export function stepGot(g: Got, e: GotEvent, now: number): GotStep {
  const none: GotStep = { state: g, send: false, addContact: false, forget: false };
  const late = (g.phase === "pending" && now >= g.expires) ||
    (g.phase === "accepted" && now >= g.expires + ACCEPTED_GRACE_MS);
  if (late) {
    const expired: Got = endGot(g, "expired", now, false);
    if (e.type === "tick") return { ...none, state: expired };
    return { ...stepGot(expired, e, now), state: expired };
  }
  const open = g.phase === "pending" || g.phase === "accepted";
  switch (e.type) {
    case "tick":
      return !open && now >= g.at + TOMBSTONE_MS ? { ...none, forget: true } : none;
    case "accept":
      if (g.phase === "accepted") return none;
      if (g.phase !== "pending") return { ...none, refused: `this introduction was ${g.phase}` };
      return { ...none, state: { ...g, phase: "accepted", unsent: true, at: now }, send: true };
    case "decline":
      if (g.phase === "declined") return none;
      if (!open) return { ...none, refused: `this introduction was ${g.phase}` };
      return { ...none, state: endGot(g, "declined", now, true), send: true };
    case "done":
      if (g.phase !== "accepted") {
        return g.phase === "contacts"
          ? none
          : { ...none, refused: "this introduction was not accepted here" };
      }
      return { ...none, state: endGot(g, "contacts", now, false), addContact: true };
    case "met":
      // Unanswered: we say yes (it reveals nothing new), so the other side is not left waiting.
      if (!open) return none;
      return {
        ...none,
        state: endGot(g, "contacts", now, g.phase === "pending" || g.unsent),
        send: g.phase === "pending" || g.unsent,
      };
    case "ended":
      return open ? { ...none, state: endGot(g, e.reason, now, false) } : none;
    case "sent":
      return { ...none, state: { ...g, unsent: false } };
  }
}
