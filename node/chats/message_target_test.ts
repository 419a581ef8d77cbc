import assert from "node:assert/strict";
import { type FoldItem, foldMessages } from "../messages/mod.ts";
import type { Entry } from "../log/mod.ts";
import type { FoldedChat } from "./chat_service.ts";
import { type Annotation, targetOf } from "./message_target.ts";

const ME = "a".repeat(64);
const BOB = "b".repeat(64);

function chatOf(items: FoldItem[]): FoldedChat {
  return {
    result: foldMessages(items),
    entries: new Map<string, Entry>(),
    items: new Map(items.map((i) => [i.hash, i])),
  };
}
const item = (
  hash: string,
  author: string,
  type = "msg",
  text: string | null = "hi",
): FoldItem => ({
  hash: hash.padEnd(64, "0"),
  author,
  type,
  lamport: 1,
  ts: 0,
  text,
});
const asker = { me: ME, name: (hex: string) => (hex === BOB ? "bob" : hex) };
const refusal = (chat: FoldedChat, a: Annotation) => {
  try {
    targetOf(chat, a, asker);
    return "taken";
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

Deno.test("targetOf: the message a prefix names, and each reason to refuse", () => {
  const chat = chatOf([
    item("12ab", ME),
    item("12cd", BOB),
    item("99", BOB, "group.add", "bob added carol"),
    item("77", BOB, "msg", null),
  ]);
  assert.equal(targetOf(chat, { type: "edit", id: "12AB", text: "x" }, asker).item.author, ME);
  assert.match(refusal(chat, { type: "react", id: "12", emoji: "👍" }), /^bad_input: 12 names 2/);
  assert.match(refusal(chat, { type: "react", id: "ffff", emoji: "👍" }), /^not_found/);
  assert.match(
    refusal(chat, { type: "edit", id: "12cd", text: "mine" }),
    /^refused: only its author may edit a message; bob wrote it/,
  );
  assert.match(
    refusal(chat, { type: "retract", id: "12cd" }),
    /^refused: only its author may delete/,
  );
  assert.equal(refusal(chat, { type: "react", id: "12cd", emoji: "👍" }), "taken");
  assert.equal(refusal(chat, { type: "reply", id: "12cd", text: "re" }), "taken");
  assert.match(refusal(chat, { type: "react", id: "12cd", emoji: "ok" }), /^bad_input: a reaction/);
  assert.match(refusal(chat, { type: "react", id: "99", emoji: "👍" }), /not a message/);
  assert.match(refusal(chat, { type: "react", id: "77", emoji: "👍" }), /cannot be decrypted/);
  assert.match(refusal(chat, { type: "reply", id: "12cd", text: "  " }), /empty/);
  const retract = {
    ...item("ee", ME, "retract"),
    lamport: 2,
    text: JSON.stringify({ to: "12ab".padEnd(64, "0") }),
  };
  const deleted = chatOf([item("12ab", ME), retract]);
  assert.match(refusal(deleted, { type: "edit", id: "12ab", text: "x" }), /was deleted/);
  assert.match(refusal(deleted, { type: "react", id: "12ab", emoji: "👍" }), /was deleted/);
});
