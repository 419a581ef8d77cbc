/** The plan of a group re-base: messages written again once, membership changes judged afresh. */
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import { type FoldEntry, GROUP_OPS, groupChatId } from "../groups/mod.ts";
import { generateKeyPair, type KeyPair, publicKeyLine } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import {
  type AsideItem,
  planGroupRebase,
  type RebaseStep,
  redoLine,
  repoint,
} from "./group_plan.ts";

const [A, B, C] = await Promise.all(["alice", "bob", "carol"].map((n) => generateKeyPair(n))) as [
  KeyPair,
  KeyPair,
  KeyPair,
];
const NONCE = new Uint8Array(16).fill(3);
const GROUP = groupChatId(A.publicKey, NONCE);
const keys = (...ks: KeyPair[]) => Object.fromEntries(ks.map((k) => [toHex(k.publicKey), "c2Vh"]));

let n = 0;
function entry(who: KeyPair, seq: number, lamport: number, type: string, body: unknown): FoldEntry {
  const text = JSON.stringify(body);
  return {
    author: who.publicKey,
    seq,
    lamport,
    type,
    body: text,
    hash: sha256(new TextEncoder().encode(`${n++}/${text}`)),
  };
}
const aside = (e: FoldEntry, ts: number, text: string | null = null): AsideItem => ({
  ...e,
  ts,
  text,
});
const add = (who: KeyPair, m: KeyPair, seq: number, lamport: number) =>
  entry(who, seq, lamport, GROUP_OPS.add, {
    member: publicKeyLine(m.publicKey, m.comment),
    name: m.comment,
    keys: keys(A, B, m),
  });
const msg = (who: KeyPair, seq: number, lamport: number) =>
  entry(who, seq, lamport, "msg", { e: "x" });

/** alice founded the group and added bob (seq 1, 2): the chain both copies share. */
const base = () => [
  entry(A, 1, 1, GROUP_OPS.create, {
    name: "climbers",
    nonce: base64.encode(NONCE),
    keys: keys(A),
  }),
  add(A, B, 2, 2),
];

Deno.test("group re-base plan: messages not held are written again in order, with their times", () => {
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held: [...base(), msg(A, 3, 3)],
    heldMine: [{ type: "msg", ts: 30, text: "from the other copy" }],
    aside: [aside(msg(A, 3, 3), 31, "one"), aside(msg(A, 4, 4), 32, "two")],
  });
  assert.deepEqual(plan.steps.map((s) => s.kind === "msg" && [s.type, s.ts, s.text]), [
    ["msg", 31, "one"],
    ["msg", 32, "two"],
  ]);
  assert.deepEqual([plan.held, plan.report, plan.unwritten], [0, [], 0]);
});

Deno.test("group re-base plan: a message the chain holds (an interrupted re-base) is not written twice", () => {
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held: base(),
    heldMine: [{ type: "msg", ts: 31, text: "one" }],
    aside: [aside(msg(A, 3, 3), 31, "one"), aside(msg(A, 4, 4), 31, "one")],
  });
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.held, 2);
});

Deno.test("group re-base plan: an add the fold still allows is done afresh, one it refuses is reported", () => {
  // This copy added carol after the fork; the other copy added carol too: nothing to redo.
  const held = [...base(), add(A, C, 3, 3)];
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held,
    heldMine: [],
    aside: [aside(add(A, C, 3, 3), 40)],
  });
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.report.length, 1);
  assert.equal(plan.report[0]!.reason, "already a member");
  assert.equal(
    redoLine(
      plan.report[0]!.redo,
      "climbers",
      (k) => (toHex(k) === toHex(C.publicKey) ? "carol" : "?"),
    ),
    "re-do: add carol to climbers",
  );
  // The other copy did not: carol is added afresh (new keys, never the old entry signed again).
  const fresh = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held: base(),
    heldMine: [],
    aside: [aside(add(A, C, 3, 3), 40), aside(msg(A, 4, 4), 41, "hi carol")],
  });
  assert.equal(fresh.steps.length, 2);
  const [op, m] = fresh.steps as [RebaseStep, RebaseStep];
  assert.equal(
    op.kind === "op" && op.redo.op === "add" && toHex(op.redo.member),
    toHex(C.publicKey),
  );
  assert.ok(m.kind === "msg" && m.ts === 41 && m.text === "hi carol");
});

Deno.test("group re-base plan: a later change is judged after the earlier ones of the plan", () => {
  // The other copy added carol and promoted bob, who removed carol; this copy had promoted bob,
  // added carol and promoted her.
  const held = [
    ...base(),
    add(A, C, 3, 3),
    entry(A, 4, 4, GROUP_OPS.promote, {
      member: publicKeyLine(B.publicKey),
    }),
    entry(B, 1, 5, GROUP_OPS.remove, { member: publicKeyLine(C.publicKey), keys: keys(A, B) }),
  ];
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held,
    heldMine: [],
    aside: [
      aside(entry(A, 3, 3, GROUP_OPS.promote, { member: publicKeyLine(B.publicKey) }), 50),
      aside(add(A, C, 4, 4), 51),
      aside(entry(A, 5, 5, GROUP_OPS.promote, { member: publicKeyLine(C.publicKey) }), 52),
    ],
  });
  // bob is an admin already: reported; carol is out, so adding her again is allowed, and then
  // promoting her is too (judged after that add).
  assert.deepEqual(plan.report.map((r) => [r.redo.op, r.reason]), [[
    "promote",
    "already an admin",
  ]]);
  assert.deepEqual(plan.steps.map((s) => s.kind === "op" ? s.redo.op : s.kind), ["add", "promote"]);
});

Deno.test("group re-base plan: out of the group, messages cannot be written; undecryptable ones are counted", () => {
  const held = [...base(), add(A, C, 3, 3), entry(A, 4, 4, GROUP_OPS.leave, {})];
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held,
    heldMine: [],
    aside: [aside(msg(A, 3, 3), 60, "late"), aside(msg(A, 4, 4), 61, null)],
  });
  assert.deepEqual(plan.steps, []);
  assert.equal(plan.unwritten, 2);
});

Deno.test("group re-base plan: replies, edits and reactions are written again, re-pointed to what moved", () => {
  const first = msg(A, 3, 3);
  const reply = entry(A, 4, 4, "reply", { e: "x" });
  const react = entry(A, 5, 5, "react", { e: "x" });
  const to = toHex(first.hash);
  const plan = planGroupRebase({
    group: GROUP,
    me: A.publicKey,
    held: base(),
    // An interrupted re-base wrote the reply already, pointing to the message written again.
    heldMine: [{
      type: "reply",
      ts: 71,
      text: JSON.stringify({ to: "ab".repeat(32), text: "re" }),
    }],
    aside: [
      aside(first, 70, "hello"),
      aside(reply, 71, JSON.stringify({ to, text: "re" })),
      aside(react, 72, JSON.stringify({ to, emoji: "👍" })),
    ],
  });
  assert.deepEqual(plan.steps.map((s) => s.kind === "msg" && s.type), ["msg", "react"]);
  assert.equal(plan.held, 1);
  const react2 = plan.steps[1]!;
  assert.ok(react2.kind === "msg");
  const moved = new Map([[to, "cd".repeat(32)]]);
  assert.deepEqual(JSON.parse(repoint(react2.text, moved)), { to: "cd".repeat(32), emoji: "👍" });
  assert.equal(repoint("not json", moved), "not json");
});
