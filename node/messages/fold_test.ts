import assert from "node:assert/strict";
import { type FoldItem, foldMessages } from "./fold.ts";
import { encodeRefBody, isEmoji, parseRefBody } from "./message_body.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
let n = 0;
/** A made-up entry hash (64 hex) from a readable tag. */
const h = (tag: string) =>
  [...new TextEncoder().encode(tag)].map((b) => b.toString(16).padStart(2, "0")).join("")
    .padEnd(64, "0");

function msg(hash: string, author: string, lamport: number, text: string): FoldItem {
  return { hash: h(hash), author, type: "msg", lamport, ts: lamport * 1000, text };
}
function ann(
  type: "edit" | "retract" | "react" | "reply",
  author: string,
  lamport: number,
  to: string,
  extra: { text?: string; emoji?: string } = {},
): FoldItem {
  const body = type === "retract"
    ? encodeRefBody({ type, to: h(to) })
    : type === "react"
    ? encodeRefBody({ type, to: h(to), emoji: extra.emoji ?? "" })
    : encodeRefBody({ type, to: h(to), text: extra.text ?? "" });
  return { hash: h(`${type}${++n}`), author, type, lamport, ts: lamport * 1000, text: body };
}

Deno.test("the newest edit wins whatever order the edits arrive in; the others are the history", () => {
  const items = [
    msg("1", A, 1, "helo"),
    ann("edit", A, 5, "1", { text: "hello!" }),
    ann("edit", A, 3, "1", { text: "hello" }),
  ];
  for (const order of [items, [...items].reverse()]) {
    const [m] = foldMessages(order).shown;
    assert.deepEqual(m!.text, "hello!");
    assert.deepEqual(m!.edited, true);
    assert.deepEqual(m!.history, [{ text: "helo", ts: 1000 }, { text: "hello", ts: 3000 }]);
  }
});

Deno.test("an edit or retraction by anyone but the author is ignored with a reason", () => {
  const r = foldMessages([
    msg("1", A, 1, "mine"),
    ann("edit", B, 2, "1", { text: "yours now" }),
    ann("retract", B, 3, "1"),
  ]);
  assert.deepEqual(r.shown[0]!.text, "mine");
  assert.deepEqual(r.shown[0]!.edited, false);
  assert.deepEqual(r.shown[0]!.deleted, false);
  assert.deepEqual(r.ignored.map((i) => i.reason), [
    "only the author may edit a message",
    "only the author may delete a message",
  ]);
});

Deno.test("a retraction is final: a later edit does not bring the message back", () => {
  const r = foldMessages([
    msg("1", A, 1, "oops"),
    ann("edit", A, 2, "1", { text: "oops 2" }),
    ann("react", B, 3, "1", { emoji: "👍" }),
    ann("retract", A, 4, "1"),
    ann("edit", A, 5, "1", { text: "back?" }),
  ]);
  const m = r.shown[0]!;
  assert.deepEqual([m.deleted, m.text, m.edited, m.history.length, m.reactions.size], [
    true,
    "",
    false,
    0,
    0,
  ]);
  assert.deepEqual(r.ignored.map((i) => i.reason), ["the message was deleted"]);
});

Deno.test("one reaction per author: replaced by the newest, taken back by an empty one", () => {
  const r = foldMessages([
    msg("1", A, 1, "hi"),
    ann("react", B, 2, "1", { emoji: "👍" }),
    ann("react", A, 3, "1", { emoji: "👍" }),
    ann("react", B, 4, "1", { emoji: "🎉" }),
  ]);
  assert.deepEqual([...r.shown[0]!.reactions], [["👍", [A]], ["🎉", [B]]]);
  const back = foldMessages([
    msg("1", A, 1, "hi"),
    ann("react", B, 4, "1", { emoji: "" }),
    ann("react", B, 2, "1", { emoji: "👍" }),
  ]);
  assert.deepEqual(back.shown[0]!.reactions.size, 0);
});

Deno.test("an annotation that arrives before its target waits, then applies", () => {
  const edit = ann("edit", A, 2, "1", { text: "late" });
  const early = foldMessages([edit]);
  assert.deepEqual(early.shown.length, 0);
  assert.deepEqual(early.waiting, [edit]);
  assert.deepEqual(early.ignored, []);
  const later = foldMessages([edit, msg("1", A, 1, "first")]);
  assert.deepEqual(later.shown[0]!.text, "late");
  assert.deepEqual(later.waiting, []);
});

Deno.test("replies show their text and target; annotations cannot target annotations", () => {
  const reply = ann("reply", B, 2, "1", { text: "re: hi" });
  const r = foldMessages([
    msg("1", A, 1, "hi"),
    reply,
    {
      ...ann("react", A, 3, "x"),
      text: encodeRefBody({ type: "react", to: reply.hash, emoji: "👍" }),
    },
  ]);
  assert.deepEqual(r.shown.map((m) => [m.text, m.replyTo]), [["hi", null], ["re: hi", h("1")]]);
  assert.deepEqual([...r.shown[1]!.reactions.keys()], ["👍"]);
  const edit = ann("edit", A, 4, "1", { text: "x" });
  const onEdit = foldMessages([
    msg("1", A, 1, "hi"),
    edit,
    { ...ann("retract", A, 5, "x"), text: encodeRefBody({ type: "retract", to: edit.hash }) },
  ]);
  assert.deepEqual(onEdit.shown.length, 1);
  assert.deepEqual(onEdit.ignored.map((i) => i.reason), []);
  assert.deepEqual(onEdit.waiting.length, 1); // an edit is not a message: the retraction finds no target
});

Deno.test("malformed and undecryptable annotations are ignored, never applied", () => {
  const r = foldMessages([
    msg("1", A, 1, "hi"),
    { hash: h("e1"), author: A, type: "edit", lamport: 2, ts: 0, text: '{"to":"zz"}' },
    { hash: h("e2"), author: A, type: "edit", lamport: 3, ts: 0, text: null },
    {
      hash: h("e3"),
      author: B,
      type: "react",
      lamport: 4,
      ts: 0,
      text: JSON.stringify({ to: h("1"), emoji: "ab" }),
    },
  ]);
  assert.deepEqual(r.shown[0]!.text, "hi");
  assert.deepEqual(r.ignored.map((i) => i.reason), ["malformed", "cannot decrypt", "malformed"]);
});

Deno.test("an emoji is one pictographic grapheme of bounded length", () => {
  for (const ok of ["👍", "🎉", "👍🏽", "🇫🇷", "👩‍👩‍👧‍👦", "❤️"]) assert.equal(isEmoji(ok), true, ok);
  for (const bad of ["", "a", "👍👍", "👍 ", "\u202e👍", "x".repeat(40), "1"]) {
    assert.deepEqual(isEmoji(bad), false, JSON.stringify(bad));
  }
  assert.deepEqual(parseRefBody("react", JSON.stringify({ to: h("1"), emoji: "👍", x: 1 })), null);
  assert.deepEqual(parseRefBody("msg", "{}"), null);
});
