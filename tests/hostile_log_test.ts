/**
 * A hostile contact against the log of a real node (issue 17, items 4 and 5):
 * it floods twins (two different signed entries for one place of its chain)
 * and pushes an entry with Lamport clock 2^53 - 1, over a raw session with
 * its own key, in the direct chat and in a group. The victim records one
 * fork and says so once, refuses the clock jump with a reason, and both
 * sides go on writing and reading.
 */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { createEntry, type Entry, toHex } from "../node/log/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { forkLine } from "../cli/format.ts";

interface PushAnswer {
  readonly stored: number;
  readonly rejected: number;
  readonly reason?: string;
}

/** Mallory's node stopped, and a raw session to `victim` under her key in its place. */
async function rawSession(mallory: TestNode, victim: TestNode) {
  await mallory.stop(); // its redials would replace the raw session
  const { client, pipe } = await rawRojPipe(mallory, victim);
  const rpc = new RpcSession(pipe, {
    hello: { features: ["sync1"], name: mallory.node.name },
  });
  await rpc.ready;
  return {
    push: (chat: string, entries: readonly Entry[]) =>
      rpc.request("sync.push", {
        chat,
        entries: entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
      }) as Promise<PushAnswer>,
    close: () => {
      rpc.close();
      client.close();
    },
  };
}

/** Mallory's own entries in `chat`, in seq order, as her store holds them. */
async function chainOf(m: TestNode, chat: string): Promise<Entry[]> {
  const mine = toHex(m.node.publicKey);
  return (await m.node.log.read(chat)).filter((e) => toHex(e.author) === mine)
    .sort((x, y) => x.seq - y.seq);
}

/** The entry after `head` by the node's key, at clock `lamport`. */
function after(m: TestNode, head: Entry, lamport: number, body: string): Promise<Entry> {
  return createEntry(m.node.signer, {
    chat: head.chat,
    author: m.node.publicKey,
    seq: head.seq + 1,
    prev: head.hash,
    lamport,
    ts: Date.now(),
    type: head.type,
    body,
  });
}

async function bodies(t: TestNode, chat: string): Promise<string[]> {
  return (await t.node.call("read", { chat, markRead: false })).map((m) => m.body);
}

/** Waits until `t` reads `body` in `chat` (a group may not be there yet). */
async function reads(t: TestNode, chat: string, body: string, what: string): Promise<void> {
  await until(
    async () => (await bodies(t, chat).catch((): string[] => [])).includes(body),
    15_000,
    what,
  );
}

const forkEvents = (t: TestNode) =>
  t.events.filter((e): e is Extract<NodeEvent, { type: "fork" }> => e.type === "fork");

Deno.test("hostile contact: a twin flood leaves one fork, shown once; a 2^53-1 clock is refused; both still write", async () => {
  await using a = await startTestNode("alice", { host: "127.0.17.4" });
  const m0 = await startTestNode("mallory", { host: "127.0.17.5" });
  let m: TestNode = m0;
  try {
    await befriend(a, m);
    await m.node.call("send", { chat: "alice", text: "hello alice" });
    await reads(a, "mallory", "hello alice", "alice reads mallory");
    const chat = a.node.chat("mallory").id;
    const chain = await chainOf(m, chat);
    const raw = await rawSession(m, a);
    try {
      // 3,000 twins of her first entry, pushed as sync would: a fork is recorded once.
      const twins: Entry[] = [];
      for (let i = 0; i < 3000; i++) {
        twins.push(await createEntry(m.node.signer, { ...chain[0]!, body: `twin ${i}` }));
      }
      let refused = 0;
      for (let i = 0; i < twins.length; i += 500) {
        const res = await raw.push(chat, twins.slice(i, i + 500));
        assert.equal(res.stored, 0);
        assert.ok(res.reason, "the sender is told why");
        refused += res.rejected;
      }
      assert.equal(refused, 3000);
      const event = await a.waitFor((e) => e.type === "fork");
      assert.ok(event.type === "fork");
      assert.equal(event.fork.chat, "mallory");
      assert.equal(event.fork.author, "mallory");
      assert.equal(event.fork.seq, 1);
      assert.equal(event.fork.kept, toHex(chain[0]!.hash));
      assert.equal(event.fork.twin, toHex(twins[0]!.hash));
      assert.match(forkLine(event.fork), /^! mallory's node signed two different entries #1 /);

      // Her next entry at the end of time: refused with a reason, nothing stored.
      const jump = await after(m, chain.at(-1)!, Number.MAX_SAFE_INTEGER, "the end of time");
      const res = await raw.push(chat, [jump]);
      assert.deepEqual([res.stored, res.rejected], [0, 1]);
      assert.match(res.reason ?? "", /clock/);
    } finally {
      raw.close();
    }
    assert.equal((await a.node.log.heads(chat)).get(toHex(m.node.publicKey))?.seq, chain.length);

    // Alice writes on; mallory's node comes back and both read each other.
    await a.node.call("send", { chat: "mallory", text: "still here" });
    m = await startTestNode("mallory", { host: "127.0.17.5", dir: m0.dir });
    await reads(m, "alice", "still here", "mallory reads alice after the attempt");
    await m.node.call("send", { chat: "alice", text: "me too" });
    await reads(a, "mallory", "me too", "alice reads mallory after the attempt");
    assert.deepEqual(await bodies(a, "mallory"), ["hello alice", "still here", "me too"]);
    assert.deepEqual(await bodies(m, "alice"), ["hello alice", "still here", "me too"]);

    const forks = await a.node.call("forks", { chat: "mallory" });
    assert.equal(forks.length, 1, "one fork on record");
    assert.deepEqual(await a.node.call("forks", {}), forks);
    assert.equal(forkEvents(a).length, 1, "the fork is told once");
  } finally {
    await m.stop();
    if (m !== m0) await m0.stop();
    await Deno.remove(m0.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("hostile group member: a 2^53-1 clock in a group is refused, and the group goes on", async () => {
  await using a = await startTestNode("alice", { host: "127.0.17.6" });
  const m0 = await startTestNode("mallory", { host: "127.0.17.7" });
  let m: TestNode = m0;
  try {
    await befriend(a, m);
    const g = await a.node.call("group.create", { name: "friends" });
    await a.node.call("group.add", { group: "friends", members: ["mallory"] });
    await a.node.call("send", { chat: "friends", text: "welcome" });
    await reads(m, "friends", "welcome", "mallory joins the group");
    await m.node.call("send", { chat: "friends", text: "thanks" });
    await reads(a, "friends", "thanks", "alice reads mallory in the group");
    const chain = await chainOf(m, g.id);
    const raw = await rawSession(m, a);
    try {
      const jump = await after(m, chain.at(-1)!, Number.MAX_SAFE_INTEGER, "AAAA");
      const res = await raw.push(g.id, [jump]);
      assert.deepEqual([res.stored, res.rejected], [0, 1]);
      assert.match(res.reason ?? "", /clock/);
    } finally {
      raw.close();
    }
    await a.node.call("send", { chat: "friends", text: "alice again" });
    m = await startTestNode("mallory", { host: "127.0.17.7", dir: m0.dir });
    await reads(m, "friends", "alice again", "mallory reads alice after the attempt");
    await m.node.call("send", { chat: "friends", text: "mallory again" });
    await reads(a, "friends", "mallory again", "alice reads mallory after the attempt");
  } finally {
    await m.stop();
    if (m !== m0) await m0.stop();
    await Deno.remove(m0.dir, { recursive: true }).catch(() => {});
  }
});
