/**
 * The local API of the identity guard (node/identity_guard): what `roj
 * status`, the admin and `roj identity` see when this node's key also writes
 * on another node, and the one method that resolves it.
 */
import { z } from "zod";

export const identityParams = {
  /**
   * The person has seen the notice: forget the conflict; where this node's
   * entries were not the ones the contacts took, set them aside and write
   * them again on top of the contacts' chain once it is in.
   */
  "identity.resolve": z.object({}).strict(),
} as const;

/** A fork of this node's own chain in one chat. */
export interface IdentityConflictView {
  /** The chat's name here; "" for the identity as a whole (source "own-session"). */
  readonly chat: string;
  /** The contact who holds another entry of ours (a name here, peer text: escape it). */
  readonly peer: string;
  /** The place (seq) in our chain. */
  readonly seq: number;
  /** "second": the contacts took the other node's entries; "first": they took ours. */
  readonly role: "first" | "second";
  /**
   * How it was learnt: a contact's head of our chain, its fork record, a twin
   * pushed to us, entries of ours pushed to us that do not fit our chain, or a
   * contact holding a live session of our key from another node.
   */
  readonly source: "own-head" | "own-twin" | "own-fork" | "own-push" | "own-session";
  /** When first seen, ms since the epoch. */
  readonly since: number;
}

/** The identity guard's state, for status. */
export interface IdentityView {
  /** Present while a conflict is on record: the strongest role and one line for the person. */
  readonly conflict?: {
    readonly role: "first" | "second";
    /** Whether local writes are refused (role "second"). */
    readonly writesRefused: boolean;
    /** One line for the person, naming what to do. Holds peer names: escape it. */
    readonly message: string;
    readonly chats: readonly IdentityConflictView[];
  };
  /** Chats whose set-aside messages wait for a contact's chain to be written again. */
  readonly rebasing: readonly string[];
}

/** What `identity.resolve` did. */
export interface IdentityResolveView {
  /** Chats whose entries of ours were set aside, to be written again once a contact's chain is in. */
  readonly rebasing: readonly string[];
  /** Entries set aside in all. */
  readonly setAside: number;
}

/** The identity guard's events. */
export type IdentityEvent =
  /** A conflict was found (or became a "second"): also in status. */
  | { readonly type: "identity"; readonly op: "conflict"; readonly conflict: IdentityConflictView }
  /** The person resolved: `rebasing` chats have entries set aside. */
  | { readonly type: "identity"; readonly op: "resolved"; readonly rebasing: readonly string[] }
  /** A contact's key has live sessions here from two nodes at once: the one up stays (once a minute). */
  | {
    readonly type: "identity";
    readonly op: "twin-sessions";
    readonly peer: string;
    readonly fingerprint: string;
  }
  /** The set-aside messages of `chat` were written again (`written`; `held`: the contact had them already). */
  | {
    readonly type: "identity";
    readonly op: "rebased";
    readonly chat: string;
    readonly written: number;
    readonly held: number;
  };

export interface IdentityResults {
  "identity.resolve": IdentityResolveView;
}
