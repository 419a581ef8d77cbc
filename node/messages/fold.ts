/**
 * Replies, edits, retractions and reactions folded onto the messages they
 * refer to: a pure function of a chat's entries (as plaintext), independent
 * of the order they arrived in.
 *
 * The rules:
 * - Only a message's author may edit or retract it. Anyone else's edit or
 *   retraction is kept in the log (it is signed, in their chain) but never
 *   applied: it is listed in `ignored` with the reason.
 * - Edits apply in (lamport, hash) order: the newest text wins, the older
 *   ones are the history. An author's entries have strictly increasing
 *   lamports, so their edits are totally ordered whatever the arrival order.
 * - A retraction is final: the text, the history and the reactions are
 *   hidden, and edits (before or after it) are not shown.
 * - Reactions: one per author per message, the newest (lamport, hash) wins;
 *   an empty emoji takes it back.
 * - An annotation whose target is not (yet) among the entries waits: it is
 *   neither applied nor ignored, and applies once the target is folded in.
 * - Edits, retractions and reactions may target only messages ("msg",
 *   "reply"), never each other.
 */
import { ANNOTATION_TYPES, MESSAGE_TYPES, parseRefBody } from "./message_body.ts";

/** One entry, as the fold needs it. `text` is the plaintext body (null: could not decrypt). */
export interface FoldItem {
  /** Entry hash, hex. */
  readonly hash: string;
  /** Author key, hex. */
  readonly author: string;
  readonly type: string;
  readonly lamport: number;
  readonly ts: number;
  readonly text: string | null;
}

/** A version of a message's text. */
export interface Version {
  readonly text: string;
  readonly ts: number;
}

/** A message (or any other entry shown as one) after its annotations. */
export interface Folded {
  readonly item: FoldItem;
  /** What to show: the newest text; "" once retracted; the entry's text for other types. */
  readonly text: string;
  readonly edited: boolean;
  /** Earlier versions, oldest first (empty once retracted). */
  readonly history: readonly Version[];
  readonly deleted: boolean;
  /** For a reply: the hash of the message it answers. */
  readonly replyTo: string | null;
  /** Reactions: emoji → authors (hex), in the order first given. */
  readonly reactions: ReadonlyMap<string, readonly string[]>;
}

/** An annotation that was refused, with why. */
export interface Ignored {
  readonly item: FoldItem;
  readonly reason: string;
}

export interface FoldResult {
  /** Every entry that shows as a message, in input order. */
  readonly shown: readonly Folded[];
  readonly ignored: readonly Ignored[];
  /** Annotations whose target is not among the entries. */
  readonly waiting: readonly FoldItem[];
}

const byOrder = (a: FoldItem, b: FoldItem) =>
  a.lamport - b.lamport || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);

interface Acc {
  item: FoldItem;
  text: string;
  /** When `text` was written: the message's time, then each applied edit's. */
  since: number;
  history: Version[];
  edited: boolean;
  deleted: boolean;
  replyTo: string | null;
  /** author → emoji */
  reactions: Map<string, string>;
}

/** Folds `items` (a chat's entries, any order) into what each message shows. */
export function foldMessages(items: readonly FoldItem[]): FoldResult {
  const bases = new Map<string, Acc>();
  const annotations: FoldItem[] = [];
  const ignored: Ignored[] = [];
  const waiting: FoldItem[] = [];
  for (const it of items) {
    if (ANNOTATION_TYPES.has(it.type)) {
      annotations.push(it);
      continue;
    }
    let text = it.text ?? "(cannot decrypt)";
    let replyTo: string | null = null;
    if (it.type === "reply" && it.text !== null) {
      const b = parseRefBody("reply", it.text);
      if (b?.type === "reply") [text, replyTo] = [b.text, b.to];
      else text = "(malformed reply)";
    }
    bases.set(it.hash, {
      item: it,
      text,
      since: it.ts,
      history: [],
      edited: false,
      deleted: false,
      replyTo,
      reactions: new Map(),
    });
  }
  for (const it of [...annotations].sort(byOrder)) {
    const body = it.text === null ? null : parseRefBody(it.type, it.text);
    if (!body) {
      ignored.push({ item: it, reason: it.text === null ? "cannot decrypt" : "malformed" });
      continue;
    }
    const target = bases.get(body.to);
    if (!target) {
      waiting.push(it);
      continue;
    }
    if (!MESSAGE_TYPES.has(target.item.type) || target.item.text === null) {
      ignored.push({ item: it, reason: "its target is not a message" });
      continue;
    }
    if (body.type === "react") {
      if (body.emoji === "") target.reactions.delete(it.author);
      else {
        target.reactions.delete(it.author); // re-inserted: a changed reaction counts as new
        target.reactions.set(it.author, body.emoji);
      }
      continue;
    }
    if (it.author !== target.item.author) {
      ignored.push({
        item: it,
        reason: `only the author may ${body.type === "edit" ? "edit" : "delete"} a message`,
      });
      continue;
    }
    if (target.deleted) {
      if (body.type === "edit") ignored.push({ item: it, reason: "the message was deleted" });
      continue;
    }
    if (body.type === "retract") {
      target.deleted = true;
    } else if (body.type === "edit") {
      target.history.push({ text: target.text, ts: target.since });
      target.text = body.text;
      target.since = it.ts;
      target.edited = true;
    }
  }
  const shown: Folded[] = [];
  for (const acc of bases.values()) shown.push(finish(acc));
  return { shown, ignored, waiting };
}

function finish(acc: Acc): Folded {
  const reactions = new Map<string, string[]>();
  if (!acc.deleted) {
    for (const [author, emoji] of acc.reactions) {
      const list = reactions.get(emoji);
      if (list) list.push(author);
      else reactions.set(emoji, [author]);
    }
  }
  return {
    item: acc.item,
    text: acc.deleted ? "" : acc.text,
    edited: acc.edited && !acc.deleted,
    history: acc.deleted ? [] : acc.history,
    deleted: acc.deleted,
    replyTo: acc.replyTo,
    reactions,
  };
}
