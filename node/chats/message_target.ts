/**
 * Which message a reply, edit, deletion or reaction asked for here refers
 * to, and whether it may: the checks made at send time, before anything is
 * signed (the same rules messages/fold applies to what arrives).
 */
import { RojError } from "../errors.ts";
import { isEmoji, MESSAGE_TYPES } from "../messages/mod.ts";
import type { Folded } from "../messages/mod.ts";
import type { FoldedChat } from "./chat_service.ts";

/** What a person asks for, naming the message by its id (or a prefix of its hash). */
export type Annotation =
  | { readonly type: "reply"; readonly id: string; readonly text: string }
  | { readonly type: "edit"; readonly id: string; readonly text: string }
  | { readonly type: "retract"; readonly id: string }
  | { readonly type: "react"; readonly id: string; readonly emoji: string };

/** Who asks (hex), and how authors (hex) are named in a refusal. */
export interface Asker {
  readonly me: string;
  name(hex: string): string;
}

/**
 * The message `a.id` names in a folded chat.
 * @throws {RojError} not_found, bad_input (an ambiguous id, a bad emoji or text),
 * refused (not the author; deleted; not a message).
 */
export function targetOf(folded: FoldedChat, a: Annotation, asker: Asker): Folded {
  const id = a.id.toLowerCase();
  const found = folded.result.shown.filter((f) => f.item.hash.startsWith(id));
  if (found.length === 0) throw new RojError("not_found", `no message ${id} in this chat`);
  if (found.length > 1) {
    throw new RojError("bad_input", `${id} names ${found.length} messages; give more digits`);
  }
  const t = found[0]!;
  if (!MESSAGE_TYPES.has(t.item.type)) {
    throw new RojError("refused", `${id} is not a message (it is a ${t.item.type})`);
  }
  if (t.item.text === null) throw new RojError("refused", `${id} cannot be decrypted here`);
  const verb = a.type === "retract" ? "delete" : a.type;
  if (t.deleted) throw new RojError("refused", `that message was deleted; it takes no ${verb}`);
  if ((a.type === "edit" || a.type === "retract") && t.item.author !== asker.me) {
    throw new RojError(
      "refused",
      `only its author may ${verb} a message; ${asker.name(t.item.author)} wrote it`,
    );
  }
  if (a.type === "react" && a.emoji !== "" && !isEmoji(a.emoji)) {
    throw new RojError("bad_input", "a reaction is one emoji, like 👍");
  }
  if ((a.type === "edit" || a.type === "reply") && a.text.trim() === "") {
    throw new RojError("bad_input", "the message is empty");
  }
  return t;
}
