/**
 * Which of our own group entries a re-base writes again, pure.
 *
 * In a group, a fork of our chain (the same key on two nodes) is resolved by
 * setting our entries from the fork point on aside and taking in the chain
 * the members accepted. What was aside is then judged against the group as
 * that chain left it:
 *
 *  - a message the chain does not hold (same time, type and text) is written
 *    again, encrypted to the group's current epoch, with its own time; so
 *    are replies, edits, deletions and reactions (messages/), their target
 *    re-pointed to the message written again when it was one set aside;
 *  - a membership change (add, remove, promote, rekey, leave) is never signed
 *    again as it was (its sealed keys were made for members that may have
 *    changed): it is done afresh only when the membership fold, as it stands
 *    after the steps before it, still allows it; else it is listed to the
 *    person, as a "re-do" they may want.
 */
import { type FoldEntry, GROUP_OPS, isGroupOp, MembershipFold } from "../groups/mod.ts";
import { parsePublicKeyLine } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { CONTENT_TYPES } from "../messages/mod.ts";

/** One of our entries set aside, with its text when it is a message we could decrypt. */
export interface AsideItem extends FoldEntry {
  readonly ts: number;
  /**
   * A message's plaintext (for a reply, edit, deletion or reaction: its JSON
   * body, messages/message_body.ts); null when it did not decrypt here.
   */
  readonly text: string | null;
}

/** A membership change to do afresh. */
export type Redo =
  | { readonly op: "add"; readonly member: Uint8Array; readonly name: string }
  | { readonly op: "remove"; readonly member: Uint8Array }
  | { readonly op: "promote"; readonly member: Uint8Array }
  | { readonly op: "rekey" }
  | { readonly op: "leave" };

/** One step of a group re-base, in the order the entries were first written. */
export type RebaseStep =
  | {
    readonly kind: "msg";
    /** The entry type: "msg", or "reply", "edit", "retract", "react". */
    readonly type: string;
    readonly ts: number;
    readonly text: string;
    /** The set-aside entry's hash (hex): what later steps may refer to. */
    readonly was: string;
  }
  | { readonly kind: "op"; readonly redo: Redo };

/** A change that was not done again, for the person. */
export interface Unredone {
  readonly redo: Redo;
  /** Why the fold refuses it now (e.g. "already a member"). */
  readonly reason: string;
}

export interface GroupRebasePlan {
  readonly steps: readonly RebaseStep[];
  /** Messages the chain holds already (the other node had them, or an interrupted re-base). */
  readonly held: number;
  /** Membership changes the group no longer allows: listed, never signed. */
  readonly report: readonly Unredone[];
  /** Messages that cannot be written again: they did not decrypt here, or we are out of the group. */
  readonly unwritten: number;
}

export interface GroupPlanInput {
  /** The group's chat id. */
  readonly group: string;
  readonly me: Uint8Array;
  /** The chain now held (the members' copy), in display order: its membership folds first. */
  readonly held: readonly FoldEntry[];
  /** Our messages now in the chain, as (type, time, text): not written twice. */
  readonly heldMine: ReadonlyArray<
    { readonly type: string; readonly ts: number; readonly text: string }
  >;
  /** Our entries set aside, in seq order. */
  readonly aside: readonly AsideItem[];
}

/**
 * Plans a group re-base: the steps to write again, in order, and the
 * membership changes to tell the person about.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planGroupRebase } from "./group_plan.ts";
 *
 * const plan = planGroupRebase({ group: "g", me: new Uint8Array(32), held: [], heldMine: [], aside: [] });
 * assert.deepEqual(plan.steps, []);
 * ```
 */
export function planGroupRebase(input: GroupPlanInput): GroupRebasePlan {
  const fold = new MembershipFold(input.group);
  let lamport = 0;
  for (const e of input.held) {
    lamport = Math.max(lamport, e.lamport);
    if (isGroupOp(e.type)) fold.apply(e);
  }
  const have = new Set(input.heldMine.map((m) => contentKey(m.type, m.ts, m.text)));
  const me = toHex(input.me);
  const steps: RebaseStep[] = [];
  const report: Unredone[] = [];
  let held = 0;
  let unwritten = 0;
  for (const e of input.aside) {
    if (isGroupOp(e.type)) {
      const redo = redoOf(e);
      if (!redo) continue; // a create (never after a fork point) or a malformed change
      // Judged as a new entry of ours after everything held and every step before it.
      const v = fold.apply({ ...e, author: input.me, lamport: ++lamport });
      if (v.ok) steps.push({ kind: "op", redo });
      else report.push({ redo, reason: v.reason });
      continue;
    }
    if (!CONTENT_TYPES.has(e.type)) continue;
    if (e.text === null) {
      unwritten++;
      continue;
    }
    const k = contentKey(e.type, e.ts, e.text);
    if (have.has(k)) {
      held++;
      continue;
    }
    if (!fold.isMember(me)) {
      unwritten++; // no longer a member: nobody could read it
      continue;
    }
    have.add(k);
    steps.push({ kind: "msg", type: e.type, ts: e.ts, text: e.text, was: toHex(e.hash) });
  }
  return { steps, held, report, unwritten };
}

/**
 * What makes two of our messages the same one: type, time and text, and for
 * one that refers to another (reply, edit, …) its body without the target,
 * which a re-base re-points.
 */
function contentKey(type: string, ts: number, text: string): string {
  if (type === "msg") return `${type}|${ts}|${text}`;
  try {
    const { to: _, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return `${type}|${ts}|${JSON.stringify(rest)}`;
  } catch {
    return `${type}|${ts}|${text}`;
  }
}

/**
 * The body of a referring step with its target re-pointed: `moved` maps a
 * set-aside entry's hash (hex) to the one written again for it.
 */
export function repoint(text: string, moved: ReadonlyMap<string, string>): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const to = typeof body.to === "string" ? moved.get(body.to) : undefined;
    return to ? JSON.stringify({ ...body, to }) : text;
  } catch {
    return text;
  }
}

/** The change an entry made, to do afresh; null when it is none we redo. */
export function redoOf(e: Pick<FoldEntry, "type" | "body">): Redo | null {
  let body: { member?: unknown; name?: unknown };
  try {
    body = JSON.parse(e.body) ?? {};
  } catch {
    return null;
  }
  const member = () => {
    if (typeof body.member !== "string") return null;
    try {
      return parsePublicKeyLine(body.member);
    } catch {
      return null;
    }
  };
  switch (e.type) {
    case GROUP_OPS.add: {
      const m = member();
      if (!m) return null;
      const name = typeof body.name === "string" ? body.name : m.comment;
      return { op: "add", member: m.publicKey, name };
    }
    case GROUP_OPS.remove:
    case GROUP_OPS.promote: {
      const m = member();
      return m
        ? { op: e.type === GROUP_OPS.remove ? "remove" : "promote", member: m.publicKey }
        : null;
    }
    case GROUP_OPS.rekey:
      return { op: "rekey" };
    case GROUP_OPS.leave:
      return { op: "leave" };
    default:
      return null;
  }
}

/** A change not done again, as the person reads it: "re-do: add carol to climbers". */
export function redoLine(redo: Redo, group: string, name: (key: Uint8Array) => string): string {
  switch (redo.op) {
    case "add":
      return `re-do: add ${name(redo.member)} to ${group}`;
    case "remove":
      return `re-do: remove ${name(redo.member)} from ${group}`;
    case "promote":
      return `re-do: make ${name(redo.member)} an admin of ${group}`;
    case "rekey":
      return `re-do: renew the key of ${group}`;
    case "leave":
      return `re-do: leave ${group}`;
  }
}
