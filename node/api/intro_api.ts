/**
 * The local API's introduction methods (node/introductions): their params,
 * results and the event they emit. Spread into api.ts's tables.
 */
import { z } from "zod";

export const introParams = {
  /** Introduce two contacts to each other: each gets a card of the other, signed by you. */
  introduce: z.object({
    a: z.string().min(1).max(40),
    b: z.string().min(1).max(40),
    /** Seconds until the introduction expires. @default 604800 (7 days) */
    expiresIn: z.number().int().min(60).max(30 * 86400).optional(),
  }).strict(),
  /** Introductions offered to you that are still open, oldest first. */
  introductions: z.object({}).strict(),
  /** Accept (or decline) an introduction, by its id or a unique prefix of it (4+ hex digits). */
  accept: z.object({ id: z.string().regex(/^[0-9a-f]{4,32}$/) }).strict(),
  decline: z.object({ id: z.string().regex(/^[0-9a-f]{4,32}$/) }).strict(),
  /** A shareable card of a contact, signed by you: whoever you pass it to may ask you to introduce them. */
  card: z.object({
    /** The contact; without one, your own card (it goes through an anchor you both use). */
    name: z.string().min(1).max(40).optional(),
    /** Seconds until the card expires. @default 604800 (7 days) */
    expiresIn: z.number().int().min(60).max(30 * 86400).optional(),
  }).strict(),
  /**
   * Import a card a contact made: asks them to introduce you to its person (you accept already).
   * `rojcard1:` or `rojcard2:` (a v2 card carries device certificates: up to introductions' MAX_CARD_TEXT).
   */
  "card.import": z.object({ card: z.string().min(1).max(3500) }).strict(),
} as const;

/** An introduction offered to this node (or asked for with a card), as `roj introductions` shows it. */
export interface IntroductionView {
  /** 32 hex digits; `roj accept` takes a unique prefix. */
  readonly id: string;
  /** Who introduces, as this node names them. */
  readonly introducer: string;
  /** The person introduced, by the name the introducer gave. */
  readonly name: string;
  readonly fingerprint: string;
  /** ms since the epoch. */
  readonly expires: number;
  /**
   * "pending": waiting for your answer; "accepted": for the other person's;
   * "queued": a card you imported, not sent yet (neither its maker nor an
   * anchor was connected; it is sent when one is).
   */
  readonly state: "pending" | "accepted" | "queued";
}

/** An introduction this node made: between whom, until when. */
export interface IntroducedView {
  readonly id: string;
  readonly a: string;
  readonly b: string;
  readonly expires: number;
}

/** A shareable card of a contact: `rojcard1:…`, or `rojcard2:…` when it carries device certificates. */
export interface CardView {
  readonly text: string;
  readonly name: string;
  readonly fingerprint: string;
  readonly expires: number;
}

/**
 * An introduction moved (node/introductions): offered to us, answered here,
 * made by us, or ended: "contacts" (both accepted; the person is a contact
 * now), "declined", "expired". `peer` is the person introduced (as the card
 * names them) while it is open; an ended one names nobody but the introducer.
 * On the introducer's node (`introducer` is its own name): "made", "accepted"
 * with `peer` the side that accepted, then "contacts" once both sides were
 * told, or "declined" / "expired".
 */
export type IntroEvent = {
  readonly type: "introduction";
  readonly op: "offered" | "accepted" | "made" | "contacts" | "declined" | "expired";
  readonly id: string;
  readonly introducer: string;
  readonly peer?: string;
  readonly fingerprint?: string;
};

export interface IntroResults {
  introduce: IntroducedView;
  introductions: IntroductionView[];
  accept: IntroductionView;
  decline: { declined: string };
  card: CardView;
  "card.import": IntroductionView;
}
