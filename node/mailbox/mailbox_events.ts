/**
 * The mailbox's notes as the node's events (api/NodeEvent): groups named as
 * this node shows them, peers with their fingerprints, the anchor's own
 * words bounded and their control characters escaped (node/text).
 */
import type { NodeEvent } from "../api/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import { escapeControl } from "../text/mod.ts";
import type { AnchorMailboxNote } from "./anchor_mailbox.ts";
import type { DirectMailNote } from "./direct_mail.ts";
import type { MailboxNote } from "./visit_context.ts";
import type { OwnMailNote } from "./own_mail.ts";

/** How much of an anchor-supplied reason an event carries, in characters before escaping. */
const MAX_REASON = 120;

/** A member's visit note as an event; `groupName` names a group (by id) here. */
export function mailboxEvent(
  n: MailboxNote,
  groupName: (id: string) => string | undefined,
): NodeEvent {
  const at = { type: "mailbox", anchor: n.anchor, group: groupName(n.chat) ?? n.chat, id: n.chat };
  switch (n.op) {
    case "taken":
      return { ...at, type: "mailbox", op: "taken", entries: n.entries, left: n.left };
    case "unopened":
      return { ...at, type: "mailbox", op: "unopened", boxes: n.boxes };
    case "refused":
      return { ...at, type: "mailbox", op: "refused", reason: bounded(n.reason) };
    case "visited":
      return { ...at, type: "mailbox", op: "visited", stored: n.stored, forward: n.forward };
  }
}

/** An anchor's mailbox note as an event; `name` names a contact here. */
export function anchorMailboxEvent(
  n: AnchorMailboxNote,
  name: (peer: Uint8Array) => string,
): NodeEvent {
  if (n.op === "expired") return { type: "anchor-mailbox", op: "expired", boxes: n.boxes };
  return {
    type: "anchor-mailbox",
    op: "refused",
    peer: name(n.peer),
    fingerprint: fingerprint(n.peer),
    code: n.code,
  };
}

/** A 1:1 mail note as an event; `chatName` names the contact's chat here. */
export function directMailEvent(
  n: DirectMailNote,
  chatName: (peer: Uint8Array) => string,
): NodeEvent {
  const at = { type: "direct-mail", by: n.by, anchor: n.anchor, chat: chatName(n.peer) } as const;
  switch (n.op) {
    case "deposited":
      return { ...at, op: "deposited", entries: n.entries, seq: n.seq };
    case "taken":
      return { ...at, op: "taken", fetched: n.fetched, stored: n.stored };
    case "refused":
      return { ...at, op: "refused", reason: bounded(n.reason) };
  }
}

/** A note of mail between own devices as an event; `chatName` names a contact's chat here. */
export function ownMailEvent(
  n: OwnMailNote,
  chatName: (peer: Uint8Array) => string,
): NodeEvent {
  const at = { type: "own-mail", anchor: n.anchor, device: fingerprint(n.device) } as const;
  switch (n.op) {
    case "deposited":
      return { ...at, op: "deposited", chat: chatName(n.contact), entries: n.entries, seq: n.seq };
    case "taken":
      return { ...at, op: "taken", fetched: n.fetched, stored: n.stored };
    case "filed":
      return { ...at, op: "filed", kind: n.kind, records: n.records };
    case "refused":
      return { ...at, op: "refused", reason: bounded(n.reason) };
  }
}

/** Peer text for an event: its first MAX_REASON characters, as one escaped line. */
function bounded(text: string): string {
  return escapeControl(text.slice(0, MAX_REASON));
}
