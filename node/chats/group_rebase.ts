/**
 * A group re-base carried out (node/identity_guard/group_plan.ts decides):
 * once the members' chain of ours is in, our set-aside messages are written
 * again, encrypted to the group's current epoch with their own times, and our
 * set-aside membership changes are done afresh where the group still allows
 * them (new entries, new keys; the old ones are never signed again), else
 * listed to the person as a "re-do".
 */
import { type Group, type GroupBook, openGroupMessage, parseGroupMessage } from "../groups/mod.ts";
import {
  type GroupRebaseResult,
  planGroupRebase,
  type Redo,
  redoLine,
  repoint,
} from "../identity_guard/mod.ts";
import type { Signer } from "../identity/mod.ts";
import { type ChatLog, type Entry, toHex } from "../log/mod.ts";
import { CONTENT_TYPES } from "../messages/mod.ts";
import { bytesEqual } from "../wire/mod.ts";

export interface GroupRebaseDeps {
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly groups: GroupBook;
  /** A member (hex) by the name this node shows. */
  memberName(id: string): (hex: string) => string;
}

/** GroupRebaseDeps.memberName from the names `names` gives a group's members; a short hex for a group gone. */
export function memberNamesOf(
  groups: GroupBook,
  names: (g: Group) => (hex: string) => string,
): (id: string) => (hex: string) => string {
  return (id) => {
    const g = groups.get(id);
    return g ? names(g) : (hex) => hex.slice(0, 8);
  };
}

const ungated = { ungated: true } as const;

/** Writes our set-aside entries `aside` of group `id` again on top of the chain now held. */
export async function rebaseGroup(
  d: GroupRebaseDeps,
  id: string,
  aside: readonly Entry[],
): Promise<GroupRebaseResult> {
  await d.groups.refresh(id); // the fold of the members' chain, now in
  const g = d.groups.get(id);
  if (!g) return { written: 0, held: 0, redo: [] };
  const name = d.memberName(id);
  const held = await d.log.read(id);
  const mine = held.filter((e) => bytesEqual(e.author, d.me) && CONTENT_TYPES.has(e.type));
  const heldMine = (await d.groups.lines(id, mine, name, { all: held }))
    .map((l) => ({ type: l.entry.type, ts: l.entry.ts, text: l.text }));
  const items = [];
  for (const e of aside) {
    let text: string | null = null;
    if (CONTENT_TYPES.has(e.type)) {
      const m = parseGroupMessage(e.body);
      const key = m && await d.groups.epochKeyIn(id, m.epoch, aside);
      text = (key && m && openGroupMessage(key, id, e.author, m)) ?? null;
    }
    items.push({ ...e, text });
  }
  const plan = planGroupRebase({ group: id, me: d.me, held, heldMine, aside: items });
  const named = (k: Uint8Array) => name(toHex(k));
  const redo = plan.report.map((r) => redoLine(r.redo, g.name, named));
  let written = 0;
  /** A set-aside entry's hash (hex) → the one written again: replies and edits follow it. */
  const moved = new Map<string, string>();
  for (const step of plan.steps) {
    try {
      if (step.kind === "msg") {
        const text = step.type === "msg" ? step.text : repoint(step.text, moved);
        const out = await d.groups.send(d.signer, id, text, step.type, { ts: step.ts, ...ungated });
        moved.set(step.was, toHex(out.at(-1)!.hash));
        written += out.length;
      } else {
        written += await redoChange(d, id, step.redo);
      }
    } catch {
      // The group moved under us (a member's change came in meanwhile): the person decides.
      if (step.kind === "op") redo.push(redoLine(step.redo, g.name, named));
      else throw new Error(`a message of ${g.name} could not be written again`);
    }
  }
  if (plan.unwritten > 0) {
    redo.push(
      `${plan.unwritten} message(s) of this node in ${g.name} could not be written again ` +
        "(not readable here, or this node is out of the group)",
    );
  }
  return { written, held: plan.held, redo };
}

async function redoChange(d: GroupRebaseDeps, id: string, r: Redo): Promise<number> {
  switch (r.op) {
    case "add":
      return (await d.groups.add(d.signer, id, [{ key: r.member, name: r.name }], ungated)).length;
    case "remove":
      await d.groups.remove(d.signer, id, r.member, ungated);
      return 1;
    case "promote":
      await d.groups.promote(d.signer, id, r.member, ungated);
      return 1;
    case "rekey":
      await d.groups.rekey(d.signer, id, ungated);
      return 1;
    case "leave":
      await d.groups.leave(d.signer, id, ungated);
      return 1;
  }
}
