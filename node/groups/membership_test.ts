import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import { generateKeyPair, type KeyPair, publicKeyLine } from "../identity/mod.ts";
import { compareEntries, toHex } from "../log/mod.ts";
import { seededRandom, shuffle, testSeed } from "../../testing/temp.ts";
import { groupChatId } from "./group_id.ts";
import { type FoldEntry, GROUP_OPS, members, MembershipFold, writeEpoch } from "./membership.ts";

const [F, A, B, C, X] = await Promise.all(
  ["founder", "alice", "bob", "carol", "xavier"].map((n) => generateKeyPair(n)),
) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
const hex = (k: KeyPair) => toHex(k.publicKey);
const line = (k: KeyPair) => publicKeyLine(k.publicKey, "comment");
const NONCE = new Uint8Array(16).fill(7);
const CHAT = groupChatId(F.publicKey, NONCE);

/** A log under construction: each author's seq counts up by itself. */
function log() {
  const seqs = new Map<string, number>();
  const out: FoldEntry[] = [];
  const add = (who: KeyPair, lamport: number, type: string, body: unknown) => {
    const seq = (seqs.get(hex(who)) ?? 0) + 1;
    seqs.set(hex(who), seq);
    const text = JSON.stringify(body);
    const e: FoldEntry = {
      author: who.publicKey,
      seq,
      lamport,
      type,
      body: text,
      hash: sha256(new TextEncoder().encode(`${hex(who)}/${seq}/${lamport}/${type}/${text}`)),
    };
    out.push(e);
    return e;
  };
  const keysFor = (...ks: KeyPair[]) => Object.fromEntries(ks.map((k) => [hex(k), "c2VhbGVk"]));
  return {
    entries: () => out.slice().sort(compareEntries),
    create: (lamport = 1, who = F, nonce = NONCE) =>
      add(who, lamport, GROUP_OPS.create, {
        name: "friends",
        nonce: base64.encode(nonce),
        keys: keysFor(who),
      }),
    addMember: (who: KeyPair, m: KeyPair, lamport: number, keys: KeyPair[] = []) =>
      add(who, lamport, GROUP_OPS.add, {
        member: line(m),
        name: m.comment,
        keys: keysFor(...keys),
      }),
    remove: (who: KeyPair, m: KeyPair, lamport: number, keys: KeyPair[] = []) =>
      add(who, lamport, GROUP_OPS.remove, { member: line(m), keys: keysFor(...keys) }),
    promote: (who: KeyPair, m: KeyPair, lamport: number) =>
      add(who, lamport, GROUP_OPS.promote, { member: line(m) }),
    leave: (who: KeyPair, lamport: number) => add(who, lamport, GROUP_OPS.leave, {}),
    rekey: (who: KeyPair, lamport: number, keys: KeyPair[]) =>
      add(who, lamport, GROUP_OPS.rekey, { keys: keysFor(...keys) }),
    msg: (who: KeyPair, lamport: number) => add(who, lamport, "msg", { e: "x" }),
    hello: (who: KeyPair, lamport: number, name: unknown) =>
      add(who, lamport, GROUP_OPS.hello, { name }),
  };
}

const names = (m: ReadonlyMap<string, unknown> | ReadonlySet<string>) => {
  const byHex = new Map([F, A, B, C, X].map((k) => [hex(k), k.comment]));
  return [...m.keys()].map((h) => byHex.get(h) ?? h).sort();
};

Deno.test("membership: the founder is the first member and admin", () => {
  const l = log();
  l.create();
  const m = members(l.entries(), CHAT);
  assert.equal(m.name, "friends");
  assert.equal(m.founder, hex(F));
  assert.deepEqual(names(m.members), ["founder"]);
  assert.deepEqual(names(m.admins), ["founder"]);
  assert.equal(m.epochs.length, 1);
  assert.deepEqual([...m.epochs[0]!.members], [hex(F)]);
});

Deno.test("membership: a create that does not hash to the chat id founds nothing", () => {
  const l = log();
  l.create(1, A, NONCE); // alice claims the group with the founder's nonce
  l.addMember(A, B, 2);
  assert.equal(members(l.entries(), CHAT).founder, null);
  assert.equal(members(l.entries(), CHAT).members.size, 0);
  // Without a chat id (for tools) the first create counts.
  assert.equal(members(l.entries()).founder, hex(A));
});

Deno.test("membership: a backdated second create cannot take over the group", () => {
  const l = log();
  l.create(2); // the founder's real create at lamport 2
  l.create(1, A, new Uint8Array(16)); // alice's forged create sorts first
  l.addMember(F, A, 3);
  const m = members(l.entries(), CHAT);
  assert.equal(m.founder, hex(F));
  assert.deepEqual(names(m.admins), ["founder"]);
  assert.deepEqual(names(m.members), ["alice", "founder"]);
});

Deno.test("membership: entries before the create and malformed bodies are ignored", () => {
  const l = log();
  l.addMember(F, A, 1);
  l.create(2);
  const e = l.addMember(F, B, 3);
  const fold = new MembershipFold(CHAT);
  const sorted = l.entries();
  assert.deepEqual(fold.apply(sorted[0]!), { ok: false, reason: "the group is not founded yet" });
  assert.equal(fold.apply(sorted[1]!).ok, true);
  assert.equal(fold.apply({ ...e, body: "{not json" }).ok, false);
  assert.equal(fold.apply({ ...e, body: JSON.stringify({ member: "ssh-rsa AAAA" }) }).ok, false);
  assert.equal(fold.apply(e).ok, true);
  assert.equal(fold.apply({ ...e, type: "msg" }).ok, false);
});

Deno.test("membership: only admins add, remove and promote", () => {
  const l = log();
  l.create();
  l.addMember(F, A, 2);
  l.addMember(A, B, 3); // alice is no admin yet: ignored
  l.promote(A, A, 4); // nor can she promote herself
  l.promote(F, A, 5);
  l.addMember(A, B, 6);
  l.remove(B, A, 7); // bob is no admin
  const m = members(l.entries(), CHAT);
  assert.deepEqual(names(m.members), ["alice", "bob", "founder"]);
  assert.deepEqual(names(m.admins), ["alice", "founder"]);
  assert.equal(m.members.get(hex(B))!.name, "bob");
});

Deno.test("membership: concurrent add and remove resolve by display order", () => {
  // The founder removes admin alice while she adds bob, both at lamport 4.
  // Whoever's key sorts first wins the tie, the same way on every node.
  const l = log();
  l.create();
  l.addMember(F, A, 2);
  l.promote(F, A, 3);
  const add = l.addMember(A, B, 4, [F, A, B]);
  const rm = l.remove(F, A, 4, [F]);
  const m = members(l.entries(), CHAT);
  const removalFirst = compareEntries(rm, add) < 0;
  if (removalFirst) {
    assert.deepEqual(names(m.members), ["founder"]);
    assert.equal(m.ever.has(hex(B)), false);
  } else {
    assert.deepEqual(names(m.members), ["bob", "founder"]);
    assert.equal(m.ever.has(hex(B)), true);
  }
  assert.deepEqual(names(m.admins), ["founder"]);
  // At a later lamport, the removal clearly precedes the add: the add does not count.
  const l2 = log();
  l2.create();
  l2.addMember(F, A, 2);
  l2.promote(F, A, 3);
  l2.remove(F, A, 4, [F]);
  l2.addMember(A, B, 5, [F, A, B]);
  assert.deepEqual(names(members(l2.entries(), CHAT).members), ["founder"]);
});

Deno.test("membership: removing an admin takes their rights away", () => {
  const l = log();
  l.create();
  l.addMember(F, A, 2);
  l.addMember(F, B, 3);
  l.promote(F, A, 4);
  l.remove(A, F, 5, [A, B]); // an admin may remove another admin, the founder included
  l.addMember(F, C, 6); // the founder is out: ignored
  l.remove(A, A, 7); // an admin cannot remove themself
  const m = members(l.entries(), CHAT);
  assert.deepEqual(names(m.members), ["alice", "bob"]);
  assert.deepEqual(names(m.admins), ["alice"]);
  assert.deepEqual(names(m.ever), ["alice", "bob", "founder"]);
  assert.equal(m.founder, hex(F));
});

Deno.test("membership: re-adding a removed member", () => {
  const l = log();
  l.create();
  l.addMember(F, A, 2, [F, A]);
  l.remove(F, A, 3, [F]);
  l.addMember(F, A, 4, [F, A]);
  l.addMember(F, A, 5, [F, A]); // already a member again: ignored
  const m = members(l.entries(), CHAT);
  assert.deepEqual(names(m.members), ["alice", "founder"]);
  assert.deepEqual(names(m.admins), ["founder"]);
  assert.equal(m.epochs.length, 4); // create, add, remove, re-add
  assert.deepEqual(names(m.epochs[2]!.members), ["founder"]);
  assert.deepEqual(names(m.epochs[3]!.members), ["alice", "founder"]);
});

Deno.test("membership: leaving, and the group is never headless", () => {
  const l = log();
  l.create();
  l.addMember(F, A, 2);
  l.addMember(F, B, 3);
  l.leave(C, 4); // not a member
  l.leave(F, 5); // the only admin leaves: alice (joined first) takes over
  let fold = new MembershipFold(CHAT);
  const verdicts = l.entries().map((e) => fold.apply(e));
  assert.equal(verdicts[3]!.ok, false);
  assert.deepEqual(verdicts[4], {
    ok: true,
    change: { op: "leave", author: hex(F), promoted: hex(A) },
    epoch: null,
  });
  let m = fold.snapshot();
  assert.deepEqual(names(m.members), ["alice", "bob"]);
  assert.deepEqual(names(m.admins), ["alice"]);
  l.leave(A, 6);
  l.leave(B, 7);
  fold = new MembershipFold(CHAT);
  for (const e of l.entries()) fold.apply(e);
  m = fold.snapshot();
  assert.equal(m.members.size, 0);
  assert.equal(m.admins.size, 0);
});

Deno.test("membership: the write epoch is sealed to exactly the current members", () => {
  const l = log();
  l.create();
  l.addMember(F, A, 2, [F, A]);
  l.promote(F, A, 3);
  l.addMember(F, B, 4, [F, A, B]);
  // Concurrently: the founder removes bob, alice adds carol (her key still goes to bob).
  l.remove(F, B, 5, [F, A]);
  l.addMember(A, C, 5, [F, A, B, C]);
  const m = members(l.entries(), CHAT);
  assert.deepEqual(names(m.members), ["alice", "carol", "founder"]);
  // Neither concurrent epoch matches the members: a writer must rekey first.
  assert.equal(writeEpoch(m, hex(F)), null);
  assert.equal(writeEpoch(m, hex(B)), null);
  l.rekey(C, 6, [F, A, C]);
  const after = members(l.entries(), CHAT);
  const e = writeEpoch(after, hex(A))!;
  assert.deepEqual(names(new Set(e.keys.keys())), ["alice", "carol", "founder"]);
  assert.equal(e.author, hex(C));
  // A rekey by someone who is not a member is ignored.
  l.rekey(B, 7, [B]);
  assert.equal(members(l.entries(), CHAT).epochs.length, after.epochs.length);
  // After carol leaves, her epochs are stale; the founder's removal epoch was
  // never sealed to her, so it is safe to write with again.
  l.leave(C, 8);
  const left = writeEpoch(members(l.entries(), CHAT), hex(A))!;
  assert.equal(left.author, hex(F));
  assert.deepEqual(names(new Set(left.keys.keys())), ["alice", "founder"]);
  l.leave(A, 9);
  assert.equal(writeEpoch(members(l.entries(), CHAT), hex(F))!.lamport, 1); // the create's
  assert.equal(writeEpoch(members(l.entries(), CHAT), hex(A)), null); // not a member
});

Deno.test("membership: the same entries in any arrival order fold the same", () => {
  const seed = testSeed("membership order");
  const rand = seededRandom(seed);
  const people = [F, A, B, C, X];
  for (let round = 0; round < 30; round++) {
    const l = log();
    l.create();
    let lamport = 1;
    for (let i = 0; i < 25; i++) {
      const who = people[Math.floor(rand() * people.length)]!;
      const target = people[Math.floor(rand() * people.length)]!;
      lamport += rand() < 0.3 ? 0 : 1; // ties happen
      const r = rand();
      if (r < 0.35) l.addMember(who, target, lamport, [who, target]);
      else if (r < 0.55) l.remove(who, target, lamport, [who]);
      else if (r < 0.7) l.promote(who, target, lamport);
      else if (r < 0.8) l.leave(who, lamport);
      else if (r < 0.9) l.rekey(who, lamport, [who]);
      else l.msg(who, lamport);
    }
    const want = members(l.entries(), CHAT);
    const again = members(shuffle(l.entries(), rand).sort(compareEntries), CHAT);
    assert.deepEqual(again, want);
    for (const a of want.admins) assert.ok(want.members.has(a), "every admin is a member");
    if (want.members.size > 0) assert.ok(want.admins.size > 0, "a group with members has an admin");
  }
});

Deno.test("group.hello: a member's own name, schema-checked; not a member's is ignored", () => {
  const l = log();
  l.create(1);
  l.addMember(F, A, 2, [F, A]);
  l.hello(A, 3, "Alice A.");
  l.hello(X, 4, "xavier"); // never a member
  l.hello(F, 5, "bad\u001b[2Jname"); // a terminal escape: malformed
  l.hello(F, 6, "f".repeat(41)); // too long
  const m = members(l.entries(), CHAT);
  assert.deepEqual([...m.selfNames], [[hex(A), "Alice A."]]);
  const fold = new MembershipFold(CHAT);
  const verdicts = l.entries().map((e) => fold.apply(e));
  assert.deepEqual(verdicts.slice(2).map((v) => v.ok ? v.change.op : v.reason), [
    "hello",
    "not a member",
    "malformed group.hello",
    "malformed group.hello",
  ]);
  // The latest counts.
  l.hello(A, 7, "Ally");
  assert.equal(members(l.entries(), CHAT).selfNames.get(hex(A)), "Ally");
});
