/**
 * ChatSync between two real logs over an in-memory pipe: the notify() race,
 * and two logs converging over the memory transport.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import {
  ChatLog,
  createEntry,
  type Entry,
  type Head,
  MAX_LAMPORT_JUMP,
  toHex,
} from "../log/mod.ts";
import {
  encodeB64,
  encodePushPage,
  MAX_FRAME,
  MAX_PUSH_ENTRIES,
  type PushPage,
  RpcSession,
} from "../protocol/mod.ts";
import { MemoryNetwork, memoryPipePair } from "../transport/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatSync } from "./chat_sync.ts";

const CHAT = "t-sync";
type Heads = Map<string, Head & { author: Uint8Array }>;

/**
 * A log whose next heads() answers an older snapshot, as if an append
 * committed just after the read, and then runs `after`.
 */
class LateCommitLog extends ChatLog {
  stale: Heads | undefined;
  after: (() => void) | undefined;
  override async heads(chat: string): Promise<Heads> {
    const real = await super.heads(chat);
    const stale = this.stale;
    if (!stale) return real;
    this.stale = undefined;
    this.after?.();
    return stale;
  }
}

Deno.test("sync: a notify() arriving as a push loop ends is not lost, whatever the microtask it lands in", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  for (let ticks = 0; ticks <= 12; ticks++) {
    await using ta = await tempStore();
    await using tb = await tempStore();
    const logA = new LateCommitLog(ta.store);
    const logB = new ChatLog(tb.store);
    const [pa, pb] = memoryPipePair();
    const rpcA = new RpcSession(pa, { hello: { features: ["sync1"], name: "a" } });
    const rpcB = new RpcSession(pb, { hello: { features: ["sync1"], name: "b" } });
    const syncB = new ChatSync(logB, rpcB, CHAT, {});
    rpcB.handle("sync.heads", () => syncB.answerHeads());
    rpcB.handleBulk("sync.push", (p) => syncB.answerPush(p));
    await Promise.all([rpcA.ready, rpcB.ready]);
    const syncA = new ChatSync(logA, rpcA, CHAT, {});

    await logA.append(CHAT, alice, "msg", "one");
    await syncA.start(); // the peer holds "one"
    const before = await logA.heads(CHAT);
    await logA.append(CHAT, alice, "msg", "two"); // committed; its notify comes late

    let late: Promise<void> | undefined;
    logA.stale = before;
    logA.after = () => {
      let p = Promise.resolve();
      for (let i = 0; i < ticks; i++) p = p.then(() => {});
      p.then(() => late = syncA.notify());
    };
    await syncA.notify(); // a pass that reads the old heads and pushes nothing
    while (!late) await Promise.resolve();
    await late;
    const got = (await logB.heads(CHAT)).get([...before.keys()][0]!)?.seq;
    assert.equal(
      got,
      2,
      `notify ${ticks} microtask(s) after the last heads read: "two" not pushed`,
    );
    rpcA.close("done");
    rpcB.close("done");
  }
});

for (const features of [["sync1"], ["sync1", "bulk1"]]) {
  Deno.test(`sync over the memory transport (${features.join(", ")}): two logs converge both ways, in pushes that fit a frame`, async () => {
    await converges(features);
  });
}

async function converges(features: string[]): Promise<void> {
  const [alice, bob] = await Promise.all([
    generateKeyPair("alice").then(createSigner),
    generateKeyPair("bob").then(createSigner),
  ]);
  await using ta = await tempStore();
  await using tb = await tempStore();
  const logA = new ChatLog(ta.store);
  const logB = new ChatLog(tb.store);
  // More than one load of alice's (MAX_PUSH_ENTRIES), and large bodies that need several pushes per load.
  await logA.appendMany(
    CHAT,
    alice,
    Array.from({ length: 1200 }, (_, i) => ({ type: "msg", body: `a${i}` })),
  );
  await logA.appendMany(
    CHAT,
    alice,
    Array.from({ length: 12 }, () => ({ type: "msg", body: "x".repeat(60_000) })),
  );
  await logB.appendMany(
    CHAT,
    bob,
    Array.from({ length: 30 }, (_, i) => ({ type: "msg", body: `b${i}` })),
  );

  const net = new MemoryNetwork();
  const keyA = await generateKeyPair("a-node");
  const keyB = await generateKeyPair("b-node");
  const pushes: Array<{ entries: number; bytes: number }> = [];
  const hello = (name: string) => ({ hello: { features, name } });
  let syncB!: ChatSync;
  const listener = await net.listen({
    keyPair: keyB,
    address: "10.2.0.2:7022",
    authorize: () => true,
    onPipe: ({ pipe }) => {
      const rpc = new RpcSession(pipe, hello("b"));
      syncB = new ChatSync(logB, rpc, CHAT, {});
      rpc.handle("sync.heads", () => syncB.answerHeads());
      rpc.handleBulk("sync.push", (p) => {
        // The frame's payload in the form it came in: binary to a bulk1 peer, else JSON of base64.
        const bytes = features.includes("bulk1")
          ? encodePushPage(p).length
          : JSON.stringify({ t: "req", id: 1, m: "sync.push", p: bulkJson(p) }).length;
        pushes.push({ entries: p.entries.length, bytes });
        return syncB.answerPush(p);
      });
    },
  });
  const { pipe } = await net.dial({
    keyPair: keyA,
    address: listener.address,
    expectedKey: keyB.publicKey,
  });
  const rpcA = new RpcSession(pipe, hello("a"));
  const syncA = new ChatSync(logA, rpcA, CHAT, {});
  rpcA.handle("sync.heads", () => syncA.answerHeads());
  rpcA.handleBulk("sync.push", (p) => syncA.answerPush(p));
  await rpcA.ready;
  await Promise.all([syncA.start(), syncB.start()]);

  const [headsA, headsB] = [await logA.heads(CHAT), await logB.heads(CHAT)];
  assert.deepEqual(
    [...headsB].map(([k, h]) => [k, h.seq]).sort(),
    [...headsA].map(([k, h]) => [k, h.seq]).sort(),
  );
  assert.equal(headsA.get(toHex(alice.publicKey))?.seq, 1212);
  assert.equal(headsA.get(toHex(bob.publicKey))?.seq, 30);
  assert.ok(
    pushes.every((p) => p.entries <= MAX_PUSH_ENTRIES && p.bytes < MAX_FRAME),
    JSON.stringify(pushes),
  );
  assert.equal(pushes[0]?.entries, MAX_PUSH_ENTRIES, "a full first load goes in one push");
  // In JSON (base64) the large entries need two pushes; in binary they fit one with the rest.
  const least = features.includes("bulk1") ? 2 : 3;
  assert.ok(pushes.length >= least, `${JSON.stringify(pushes)}: the large entries' pushes`);
  rpcA.close("done");
  await listener.close();
}

function bulkJson(p: PushPage) {
  return {
    chat: p.chat,
    entries: p.entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
  };
}

/** Two logs joined by a ChatSync each over an in-memory pipe; B's sync logs into `lines`. */
async function pair(logA: ChatLog, logB: ChatLog, lines: string[]) {
  const [pa, pb] = memoryPipePair();
  const rpcA = new RpcSession(pa, { hello: { features: ["sync1"], name: "a" } });
  const rpcB = new RpcSession(pb, { hello: { features: ["sync1"], name: "b" } });
  const syncB = new ChatSync(logB, rpcB, CHAT, { log: (l) => lines.push(l) });
  rpcB.handle("sync.heads", () => syncB.answerHeads());
  rpcB.handleBulk("sync.push", (p) => syncB.answerPush(p));
  const syncA = new ChatSync(logA, rpcA, CHAT, {});
  rpcA.handle("sync.heads", () => syncA.answerHeads());
  rpcA.handleBulk("sync.push", (p) => syncA.answerPush(p));
  await Promise.all([rpcA.ready, rpcB.ready]);
  return {
    rpcA,
    syncA,
    close: () => {
      rpcA.close("done");
      rpcB.close("done");
    },
  };
}

Deno.test("sync: an entry too far ahead is refused with its reason, logged once however often it comes", async () => {
  const mallory = await createSigner(await generateKeyPair("mallory"));
  await using ta = await tempStore();
  await using tb = await tempStore();
  const logB = new ChatLog(tb.store);
  const lines: string[] = [];
  const p = await pair(new ChatLog(ta.store), logB, lines);
  const hostile = await createEntry(mallory, {
    chat: CHAT,
    author: mallory.publicKey,
    seq: 1,
    prev: null,
    lamport: Number.MAX_SAFE_INTEGER,
    ts: 0,
    type: "msg",
    body: "the end of time",
  });
  const push = (e: Entry) =>
    p.rpcA.request("sync.push", {
      chat: CHAT,
      entries: [{ s: encodeB64(e.signed), g: encodeB64(e.sig) }],
    }) as Promise<{ stored: number; rejected: number; reason?: string }>;
  for (let i = 0; i < 3; i++) {
    const res = await push(hostile);
    assert.equal(res.stored, 0);
    assert.equal(res.rejected, 1);
    assert.ok(res.reason, "the sender is told why");
  }
  assert.equal(lines.length, 1, "the receiver logs the refusal once per session");
  const honest = await createEntry(mallory, { ...hostile, lamport: 1, body: "hi" });
  assert.equal((await push(honest)).stored, 1);
  p.close();
});

Deno.test("sync: an honest entry that follows entries still on their way is taken on the next pass", async () => {
  // Y's entry follows X's two far-apart ones. Y's chain is pushed first
  // (heads go in author key order), so it is refused until X's are in.
  let [x, y] = await Promise.all([
    generateKeyPair("x").then(createSigner),
    generateKeyPair("y").then(createSigner),
  ]);
  if (toHex(x!.publicKey) < toHex(y!.publicKey)) [x, y] = [y, x];
  const J = MAX_LAMPORT_JUMP;
  const entry = (s: typeof x, seq: number, prev: Entry | null, lamport: number) =>
    createEntry(s!, {
      chat: CHAT,
      author: s!.publicKey,
      seq,
      prev: prev?.hash ?? null,
      lamport,
      ts: 0,
      type: "msg",
      body: `${seq}@${lamport}`,
    });
  const x1 = await entry(x, 1, null, J);
  const x2 = await entry(x, 2, x1, 2 * J);
  const y1 = await entry(y, 1, null, 2 * J + 1);
  await using ta = await tempStore();
  await using tb = await tempStore();
  const logA = new ChatLog(ta.store);
  const logB = new ChatLog(tb.store);
  const all = [x1, x2, y1].map((e) => ({ signed: e.signed, sig: e.sig }));
  assert.equal((await logA.merge(CHAT, all)).stored.length, 3, "in one merge, all are taken");
  assert.equal([...(await logA.heads(CHAT)).keys()][0], toHex(y!.publicKey));
  const lines: string[] = [];
  const p = await pair(logA, logB, lines);
  await p.syncA.start();
  assert.deepEqual((await logB.read(CHAT)).map((e) => e.body), [x1, x2, y1].map((e) => e.body));
  assert.equal(lines.length, 1, "the first refusal was logged");
  p.close();
});

Deno.test("sync: a session that closes with several pushes in flight fails the pass, and nothing escapes unhandled", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  await using ta = await tempStore();
  await using tb = await tempStore();
  const logA = new ChatLog(ta.store);
  const logB = new ChatLog(tb.store);
  // Bodies large enough that the pass cuts many pushes, several in flight at once.
  await logA.appendMany(
    CHAT,
    alice,
    Array.from({ length: 40 }, () => ({ type: "msg", body: "x".repeat(60_000) })),
  );
  const [pa, pb] = memoryPipePair();
  const rpcA = new RpcSession(pa, { hello: { features: ["sync1"], name: "a" } });
  const rpcB = new RpcSession(pb, { hello: { features: ["sync1"], name: "b" } });
  const syncB = new ChatSync(logB, rpcB, CHAT, {});
  rpcB.handle("sync.heads", () => syncB.answerHeads());
  let pushes = 0;
  // The peer takes two pushes without answering, then goes (a kill -9 of the receiver).
  rpcB.handle("sync.push", () => {
    if (++pushes === 2) queueMicrotask(() => rpcB.close("gone"));
    return new Promise(() => {});
  });
  await Promise.all([rpcA.ready, rpcB.ready]);
  const syncA = new ChatSync(logA, rpcA, CHAT, {});
  await assert.rejects(syncA.start(), (e) => e instanceof Error);
  assert.ok(pushes >= 2, `pushes in flight: ${pushes}`);
  // Every in-flight push failed with the session; none may reach the process unhandled.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  rpcA.close("done");
});
