import assert from "node:assert/strict";
import { EMPTY_GUARD, type GuardState, stepGuard, writeBlock } from "./guard.ts";

const twinAt = (seq: number, twin: string, mine: string | null) =>
  ({ type: "own-twin", chat: "c1", peer: "bob", seq, twin, mine }) as const;
const head = (mine: string | null, theirs = "aa") =>
  ({ type: "own-head", chat: "c1", peer: "bob", seq: 3, theirs, mine }) as const;

Deno.test("a contact heading our chain with another entry makes this node the second: writes stop", () => {
  const { state, actions } = stepGuard(EMPTY_GUARD, head("bb"), 1000);
  assert.equal(actions.length, 1);
  assert.equal(actions[0]!.type, "conflict");
  assert.deepEqual(state.conflicts.map((c) => [c.chat, c.role, c.seq, c.theirs]), [
    ["c1", "second", 3, "aa"],
  ]);
  assert.equal(writeBlock(state, "c1")?.reason, "conflict");
  assert.equal(writeBlock(state, "other")?.reason, "conflict", "the identity, not one chat");
});

Deno.test("the same head, or one we lack, is no conflict", () => {
  assert.deepEqual(stepGuard(EMPTY_GUARD, head("aa"), 1).actions, []);
  assert.deepEqual(stepGuard(EMPTY_GUARD, head(null), 1).actions, []);
});

Deno.test("the same conflict told again is told once; a first becomes a second, not back", () => {
  const one = stepGuard(EMPTY_GUARD, head("bb"), 1).state;
  assert.deepEqual(stepGuard(one, head("bb"), 2).actions, []);
  const twin = twinAt(3, "cc", "bb");
  const first = stepGuard(EMPTY_GUARD, twin, 5);
  assert.equal(first.state.conflicts[0]!.role, "first");
  assert.equal(writeBlock(first.state, "c1"), null, "the first node still writes");
  const second = stepGuard(first.state, head("bb"), 9);
  assert.equal(second.state.conflicts[0]!.role, "second");
  assert.equal(second.state.conflicts[0]!.since, 5, "since the first notice");
  assert.deepEqual(stepGuard(second.state, twin, 10).actions, []);
});

Deno.test("a twin on record that is ours: second; someone else's: first", () => {
  const ours = twinAt(2, "bb", "bb");
  assert.equal(stepGuard(EMPTY_GUARD, ours, 1).state.conflicts[0]!.role, "second");
  const theirs = { ...ours, mine: "aa" };
  assert.equal(stepGuard(EMPTY_GUARD, theirs, 1).state.conflicts[0]!.role, "first");
  const fork = { type: "own-fork", chat: "c1", peer: "bob", seq: 2, twin: "ee" } as const;
  assert.equal(stepGuard(EMPTY_GUARD, fork, 1).state.conflicts[0]!.role, "first");
});

Deno.test("resolving sets a second's chats aside, settles the twins, and re-bases once the head is ours", () => {
  let s: GuardState = stepGuard(EMPTY_GUARD, head("bb"), 1).state;
  const r = stepGuard(s, { type: "resolved", setAside: ["bb"] }, 2);
  assert.deepEqual(r.actions.map((a) => a.type), ["set-aside", "clear"]);
  s = r.state;
  assert.deepEqual(s.conflicts, []);
  assert.deepEqual(s.rebasing, ["c1"]);
  assert.equal(writeBlock(s, "c1")?.reason, "rebasing");
  assert.equal(writeBlock(s, "c2"), null, "other chats write again");
  // While our entries are aside, the contact's head is one we lack, then one we hold.
  assert.deepEqual(stepGuard(s, head(null), 3).actions, []);
  assert.deepEqual(stepGuard(s, head("aa"), 4).actions, [{ type: "rebase", chat: "c1" }]);
  // The old twins are settled: the contacts keep that evidence for ever.
  const old = twinAt(3, "bb", "aa");
  s = stepGuard(s, { type: "rebased", chat: "c1" }, 5).state;
  assert.deepEqual(s.rebasing, []);
  assert.deepEqual(stepGuard(s, old, 6).actions, []);
  assert.deepEqual(stepGuard(s, { ...head("zz"), theirs: "aa" }, 6).state.conflicts.length, 1);
});

Deno.test("the first node's resolve only clears the notice", () => {
  const twin = twinAt(3, "cc", "bb");
  const s = stepGuard(EMPTY_GUARD, twin, 1).state;
  const r = stepGuard(s, { type: "resolved" }, 2);
  assert.deepEqual(r.actions, [{ type: "clear" }]);
  assert.deepEqual(r.state.rebasing, []);
  assert.deepEqual(r.state.settled, ["cc"]);
  assert.deepEqual(stepGuard(r.state, twin, 3).actions, []);
});

Deno.test("a contact pushing us entries of ours that do not fit our chain: second", () => {
  const push = { type: "own-push", chat: "c1", peer: "bob", seq: 4 } as const;
  const s = stepGuard(EMPTY_GUARD, push, 1).state;
  assert.equal(s.conflicts[0]!.role, "second");
  assert.equal(writeBlock(s, "c1")?.reason, "conflict");
});

Deno.test("a live session of our key elsewhere is told, not refused, and stands for the identity", () => {
  const e = { type: "own-elsewhere", peer: "bob", kept: false } as const;
  const { state, actions } = stepGuard(EMPTY_GUARD, e, 1);
  assert.equal(actions.length, 1);
  assert.deepEqual(state.conflicts.map((c) => [c.chat, c.role, c.source]), [
    ["", "first", "own-session"],
  ]);
  assert.equal(writeBlock(state, "c1"), null);
  const r = stepGuard(state, { type: "resolved" }, 2);
  assert.deepEqual(r.state.rebasing, [], "no chat to re-base");
});

Deno.test("twins reported while a conflict is open are settled with it", () => {
  let s = stepGuard(EMPTY_GUARD, head("bb"), 1).state; // second
  const twin = twinAt(2, "t2", "m2");
  s = stepGuard(s, twin, 2).state;
  assert.deepEqual(s.twins, ["t2"]);
  s = stepGuard(s, { type: "resolved" }, 3).state;
  assert.ok(s.settled.includes("t2"));
  s = stepGuard(s, { type: "rebased", chat: "c1" }, 4).state;
  assert.deepEqual(stepGuard(s, twin, 5).actions, [], "old evidence is no new conflict");
});

Deno.test("a twin told while re-basing is settled when the re-base is done", () => {
  let s = stepGuard(EMPTY_GUARD, head("bb"), 1).state;
  s = stepGuard(s, { type: "resolved" }, 2).state;
  s = stepGuard(s, twinAt(2, "t9", "m2"), 3).state;
  assert.deepEqual(s.conflicts, []);
  s = stepGuard(s, { type: "rebased", chat: "c1" }, 4).state;
  assert.deepEqual(stepGuard(s, twinAt(2, "t9", "m2"), 5).actions, []);
});
