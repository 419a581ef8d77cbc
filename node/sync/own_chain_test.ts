/**
 * ChatSync's check of our own chain against a peer's copy (feature
 * `own-chain`): a head hash that is not ours counts only with the entry to
 * prove it, signed by our key, so a hostile contact cannot stop our writes by
 * naming a hash.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog, createEntry } from "../log/mod.ts";
import { encodeB64, OWN_CHAIN_FEATURE, RpcSession } from "../protocol/mod.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatSync, type OwnChainReport } from "./chat_sync.ts";

const CHAT = "t-own";
const features = ["sync1", OWN_CHAIN_FEATURE];

async function setup() {
  const t = await tempStore();
  const me = await createSigner(await generateKeyPair("me"));
  const bob = await generateKeyPair("bob");
  const log = new ChatLog(t.store);
  await log.appendMany(CHAT, me, [{ type: "msg", body: "one" }, { type: "msg", body: "two" }]);
  const [pa, pb] = memoryPipePair();
  const rpc = new RpcSession(pa, { hello: { features, name: "me" } });
  const peer = new RpcSession(pb, { hello: { features, name: "bob" } });
  const reports: OwnChainReport[] = [];
  peer.handle("sync.push", () => ({ heads: [], stored: 0, rejected: 0 }));
  const sync = new ChatSync(log, rpc, CHAT, {
    own: {
      me: me.publicKey,
      peer: bob.publicKey,
      seen: (r) => reports.push(r),
      diverged: () => {},
    },
  });
  return { t, me, log, rpc, peer, sync, reports };
}

Deno.test("own chain: a head hash not ours without a signed entry behind it is no conflict", async () => {
  const { t, me, rpc, peer, sync, reports } = await setup();
  await using _ = t;
  const fake = encodeB64(new Uint8Array(32).fill(7));
  peer.handle("sync.heads", () => ({ heads: [{ a: encodeB64(me.publicKey), s: 2, h: fake }] }));
  peer.handle("sync.own", () => ({}));
  await Promise.all([rpc.ready, peer.ready]);
  await sync.start();
  assert.deepEqual(reports, []);
  rpc.close();
});

Deno.test("own chain: another entry of ours at that place, signed by our key, is reported", async () => {
  const { t, me, log, rpc, peer, sync, reports } = await setup();
  await using _ = t;
  const [one] = await log.read(CHAT);
  const other = await createEntry(me, {
    chat: CHAT,
    author: me.publicKey,
    seq: 2,
    prev: one!.hash,
    lamport: 2,
    ts: 5,
    type: "msg",
    body: "two, elsewhere",
  });
  const h = encodeB64(other.hash);
  peer.handle("sync.heads", () => ({ heads: [{ a: encodeB64(me.publicKey), s: 2, h }] }));
  peer.handle("sync.own", () => ({ e: { s: encodeB64(other.signed), g: encodeB64(other.sig) } }));
  await Promise.all([rpc.ready, peer.ready]);
  await sync.start();
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.seq, 2);
  assert.deepEqual(reports[0]!.theirs, other.hash);
  assert.notDeepEqual(reports[0]!.mine, other.hash);
  assert.equal(reports[0]!.fork, 2, "its entry follows our #1: the chains part at #2");
  rpc.close();
});

Deno.test("own chain: the fork point is found by walking the peer's entries back", async () => {
  const { t, me, rpc, peer, sync, reports } = await setup();
  await using _ = t;
  const fields = { chat: CHAT, author: me.publicKey, type: "msg" };
  const o1 = await createEntry(me, {
    ...fields,
    seq: 1,
    prev: null,
    lamport: 1,
    ts: 5,
    body: "1'",
  });
  const o2 = await createEntry(me, {
    ...fields,
    seq: 2,
    prev: o1.hash,
    lamport: 2,
    ts: 6,
    body: "2'",
  });
  const at = [o1, o2];
  peer.handle("sync.heads", () => ({
    heads: [{ a: encodeB64(me.publicKey), s: 2, h: encodeB64(o2.hash) }],
  }));
  peer.handle("sync.own", (p) => {
    const e = at[p.seq - 1]!;
    return { e: { s: encodeB64(e.signed), g: encodeB64(e.sig) } };
  });
  await Promise.all([rpc.ready, peer.ready]);
  await sync.start();
  assert.deepEqual(reports.map((r) => [r.seq, r.fork]), [[2, 1]]);
  rpc.close();
});

Deno.test("own chain: a peer holding our head as we do, or none of ours, is reported as agreeing", async () => {
  const { t, me, log, rpc, peer, sync, reports } = await setup();
  await using _ = t;
  const [, two] = await log.read(CHAT);
  let heads = [{ a: encodeB64(me.publicKey), s: 2, h: encodeB64(two!.hash) }];
  peer.handle("sync.heads", () => ({ heads }));
  await Promise.all([rpc.ready, peer.ready]);
  await sync.start();
  heads = [];
  await sync.start();
  assert.deepEqual(reports.map((r) => [r.seq, r.theirs === null, r.mine === null]), [
    [2, false, false],
    [0, true, true],
  ]);
  rpc.close();
});

Deno.test("own chain: a peer without own-chain tells only how far it holds our chain", async () => {
  const t = await tempStore();
  await using _ = t;
  const me = await createSigner(await generateKeyPair("me"));
  const bob = await generateKeyPair("bob");
  const log = new ChatLog(t.store);
  const [pa, pb] = memoryPipePair();
  const rpc = new RpcSession(pa, { hello: { features, name: "me" } });
  const peer = new RpcSession(pb, { hello: { features: ["sync1"], name: "bob" } });
  const reports: OwnChainReport[] = [];
  const sync = new ChatSync(log, rpc, CHAT, {
    own: {
      me: me.publicKey,
      peer: bob.publicKey,
      seen: (r) => reports.push(r),
      diverged: () => {},
    },
  });
  const fake = encodeB64(new Uint8Array(32).fill(7));
  peer.handle("sync.heads", () => ({ heads: [{ a: encodeB64(me.publicKey), s: 4, h: fake }] }));
  await Promise.all([rpc.ready, peer.ready]);
  await sync.start();
  assert.deepEqual(reports, [{ chat: CHAT, seq: 4, theirs: null, mine: null, hashless: true }]);
  rpc.close();
});

Deno.test("own chain: entries of ours pushed that do not fit tell the fork point when they show it", async () => {
  const t = await tempStore();
  await using _ = t;
  const me = await createSigner(await generateKeyPair("me"));
  const bob = await generateKeyPair("bob");
  const log = new ChatLog(t.store);
  const [one] = await log.appendMany(CHAT, me, [{ type: "msg", body: "one" }, {
    type: "msg",
    body: "two",
  }]);
  const [pa, pb] = memoryPipePair();
  const rpc = new RpcSession(pa, { hello: { features, name: "me" } });
  const peer = new RpcSession(pb, { hello: { features, name: "bob" } });
  const told: Array<[number, number | undefined]> = [];
  const sync = new ChatSync(log, rpc, CHAT, {
    own: {
      me: me.publicKey,
      peer: bob.publicKey,
      seen: () => {},
      diverged: (seq, fork) => told.push([seq, fork]),
    },
  });
  rpc.handleBulk("sync.push", (p) => sync.answerPush(p));
  await Promise.all([rpc.ready, peer.ready]);
  const fields = { chat: CHAT, author: me.publicKey, type: "msg", ts: 5 };
  const o2 = await createEntry(me, { ...fields, seq: 2, prev: one!.hash, lamport: 2, body: "2'" });
  const o3 = await createEntry(me, { ...fields, seq: 3, prev: o2.hash, lamport: 3, body: "3'" });
  const wire = (e: typeof o2) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) });
  await peer.request("sync.push", { chat: CHAT, entries: [wire(o2), wire(o3)] });
  // Only entries above our head (an older peer's push): no fork point shown.
  await peer.request("sync.push", { chat: CHAT, entries: [wire(o3)] });
  assert.deepEqual(told, [[2, 2], [3, undefined]]);
  rpc.close();
});
