/**
 * The local API's message methods beyond send and read: edit, delete (for
 * everyone), react, read receipts and typing (node/chats: ChatService
 * annotate, Receipts). Added to the handler table in handlers.ts.
 */
import type { ChatService, Receipts } from "../chats/mod.ts";
import type { CallMethod, Handlers } from "./handlers.ts";

/** The methods served here; a passive anchor refuses them with the other chat methods. */
export const MESSAGE_METHODS = ["edit", "delete", "react", "receipts", "typing"] as const;

type MessageHandlers = Pick<Handlers, (typeof MESSAGE_METHODS)[number] & CallMethod>;

export function messageHandlers(d: { chats: ChatService; receipts: Receipts }): MessageHandlers {
  return {
    edit: (p) => d.chats.annotate(p.chat, { type: "edit", id: p.id, text: p.text }),
    delete: (p) => d.chats.annotate(p.chat, { type: "retract", id: p.id }),
    react: (p) => d.chats.annotate(p.chat, { type: "react", id: p.id, emoji: p.emoji }),
    receipts: (p) => p.on === undefined ? d.receipts.view() : d.receipts.set(p.on, p.contact),
    typing: (p) => ({ sent: d.receipts.typing(p.chat) }),
  };
}
