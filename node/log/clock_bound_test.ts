import assert from "node:assert/strict";
import { createSigner, generateKeyPair, type Signer } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatLog, createEntry, type Entry, LAMPORT_CEILING, MAX_LAMPORT_JUMP } from "./mod.ts";
import { nextLamport } from "./clock_bound.ts";

const CHAT = "t-clock";
const J = MAX_LAMPORT_JUMP;
const raw = (e: Entry) => ({ signed: e.signed, sig: e.sig });

async function signer(name: string): Promise<Signer> {
  return createSigner(await generateKeyPair(name));
}

/** The entry after `prev` (or the first) by `s`, at clock `lamport`. */
function next(s: Signer, prev: Entry | undefined, lamport: number, body = "x"): Promise<Entry> {
  return createEntry(s, {
    chat: CHAT,
    author: s.publicKey,
    seq: (prev?.seq ?? 0) + 1,
    prev: prev?.hash ?? null,
    lamport,
    ts: 1_700_000_000_000,
    type: "msg",
    body,
  });
}

Deno.test("clock bound: a 2^53-1 entry is refused with a reason, and both sides go on writing", async () => {
  await using t = await tempStore();
  const [me, mallory] = [await signer("me"), await signer("mallory")];
  const log = new ChatLog(t.store);
  const mine = await log.append(CHAT, me, "msg", "hello");
  const hostile = await next(mallory, undefined, Number.MAX_SAFE_INTEGER, "the end of time");
  const r = await log.merge(CHAT, [raw(hostile)]);
  assert.equal(r.stored.length, 0);
  assert.deepEqual(r.rejected.map((x) => [x.code, x.seq]), [["refused", 1]]);
  assert.match(r.rejected[0]!.reason, /clock/);
  // Our own writes go on...
  const after = await log.append(CHAT, me, "msg", "still here");
  assert.equal(after.lamport, mine.lamport + 1);
  // ...and so do the sender's honest ones: the refused entry took no place in its chain.
  const honest = await next(mallory, undefined, after.lamport + 1, "sorry");
  assert.equal((await log.merge(CHAT, [raw(honest)])).stored.length, 1);
  const last = await log.append(CHAT, me, "msg", "ok");
  assert.equal(last.lamport, honest.lamport + 1);
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), [
    "hello",
    "still here",
    "sorry",
    "ok",
  ]);
});

Deno.test("clock bound: at the bound is taken, one past it is not", async () => {
  await using t = await tempStore();
  const [me, other] = [await signer("me"), await signer("other")];
  const log = new ChatLog(t.store);
  const mine = await log.append(CHAT, me, "msg", "hello");
  const edge = await next(other, undefined, mine.lamport + J);
  assert.equal((await log.merge(CHAT, [raw(edge)])).stored.length, 1);
  const past = await next(other, edge, edge.lamport + J + 1);
  assert.deepEqual((await log.merge(CHAT, [raw(past)])).rejected.map((x) => x.code), ["refused"]);
  // The refusal leaves other's chain at `edge`: a next entry within the bound is taken.
  const within = await next(other, edge, edge.lamport + J);
  assert.equal((await log.merge(CHAT, [raw(within)])).stored.length, 1);
});

Deno.test("clock bound: repeated steps just under the bound gain the bound per entry, and appends go on", async () => {
  await using t = await tempStore();
  const [me, mallory] = [await signer("me"), await signer("mallory")];
  const log = new ChatLog(t.store);
  await log.append(CHAT, me, "msg", "hello");
  let head: Entry | undefined;
  let clock = 1;
  const steps: Entry[] = [];
  for (let i = 0; i < 300; i++) {
    head = await next(mallory, head, clock + J);
    clock = head.lamport;
    steps.push(head);
  }
  // One push of all of them, as sync would send: each is judged from the clock the last left.
  const r = await log.merge(CHAT, steps.map(raw));
  assert.equal(r.stored.length, 300);
  assert.equal(clock, 1 + 300 * J);
  const mine = await log.append(CHAT, me, "msg", "after the steps");
  assert.equal(mine.lamport, clock + 1);
  // To bring the clock to the ceiling takes 2^32 entries stored here, each
  // hundreds of bytes: the store, and days of merging, run out first.
  assert.ok(LAMPORT_CEILING / J >= 2 ** 32);
  assert.ok(Number.isSafeInteger(LAMPORT_CEILING + 2 ** 32), "own entries keep room above it");
});

Deno.test("clock bound: a store whose clock already sits at 2^53-1 still takes our appends and honest entries", async () => {
  await using t = await tempStore();
  const [me, peer] = [await signer("me"), await signer("peer")];
  const first = await new ChatLog(t.store).append(CHAT, me, "msg", "before");
  // What an unbounded log left behind.
  await t.store.kv.set(keys.chatClock(CHAT), Number.MAX_SAFE_INTEGER);
  const log = new ChatLog(t.store);
  const a = await log.append(CHAT, me, "msg", "after");
  const b = await log.append(CHAT, me, "msg", "again");
  assert.equal(a.lamport, first.lamport + 1, "from our own previous entry");
  assert.equal(b.lamport, a.lamport + 1);
  const honest = await next(peer, undefined, 5, "peer");
  assert.equal((await log.merge(CHAT, [raw(honest)])).stored.length, 1);
  const many = await log.appendMany(CHAT, me, [{ type: "msg", body: "x" }, {
    type: "msg",
    body: "y",
  }]);
  assert.deepEqual(many.map((e) => e.lamport), [b.lamport + 1, b.lamport + 2]);
});

Deno.test("clock bound: nextLamport follows the chat's clock below the ceiling only", () => {
  assert.equal(nextLamport(0, 0), 1);
  assert.equal(nextLamport(10, 3), 11);
  assert.equal(nextLamport(3, 10), 11);
  assert.equal(nextLamport(LAMPORT_CEILING - 1, 7), LAMPORT_CEILING);
  assert.equal(nextLamport(LAMPORT_CEILING, 7), 8);
  assert.equal(nextLamport(Number.MAX_SAFE_INTEGER, 7), 8);
  assert.throws(() => nextLamport(0, Number.MAX_SAFE_INTEGER));
});
