/**
 * Binary sync pages (feature bulk1) between real nodes over SSH, and an
 * older peer that does not list bulk1: it gets JSON, and every entry still
 * arrives both ways, in order, a catch-up of several pages included.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode } from "../testing/nodes.ts";
import { withTimeout } from "../scripts/bench/_measure.ts";

/** Resolves when `t` has shown `n` messages from others (counting those shown already). */
function received(t: TestNode, n: number): Promise<void> {
  let count = t.events.filter((e) => e.type === "message" && !e.message.mine).length;
  if (count >= n) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const stop = t.node.subscribe((e) => {
      if (e.type === "message" && !e.message.mine && ++count >= n) {
        stop();
        resolve();
      }
    });
  });
}

/** Alice lists bulk1; bob does or not. Bob catches up on `n` entries, then each writes one. */
async function syncs(bobBulk: boolean, n: number): Promise<void> {
  const omit = bobBulk ? {} : { omitFeatures: ["bulk1"] };
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  const first = await startTestNode("bob", { host: "127.0.0.3", ...omit });
  const dir = first.dir;
  try {
    await befriend(alice, first);
    const port = first.node.address!.port;
    await first.stop();
    const chat = alice.node.chat("bob").id;
    const items = Array.from({ length: n }, (_, i) => ({ type: "msg", body: `offline ${i}` }));
    await alice.node.log.appendMany(chat, alice.node.signer, items);
    await using bob = await startTestNode("bob", { host: "127.0.0.3", port, dir, ...omit });
    await withTimeout(received(bob, n), 60_000, `bob's catch-up of ${n}`);
    const aliceGot = received(alice, 1);
    await bob.node.call("send", { chat: "alice", text: "from bob" });
    await withTimeout(aliceGot, 20_000, "bob's message at alice");
    const bobGot = received(bob, n + 1);
    await alice.node.call("send", { chat: "bob", text: "from alice" });
    await withTimeout(bobGot, 20_000, "alice's message at bob");
    const read = await bob.node.read("alice");
    const theirs = read.filter((e) => e.body.startsWith("offline"));
    assert.deepEqual(theirs.map((e) => e.body), items.map((i) => i.body), "all, in order");
    assert.equal(read.at(-1)?.body, "from alice");
    assert.equal((await alice.node.read("bob")).at(-1)?.body, "from alice");
    assert.ok((await alice.node.read("bob")).some((e) => e.body === "from bob"));
  } finally {
    await first.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("bulk1 on both nodes: a catch-up of several binary pages, then messages both ways", async () => {
  await syncs(true, 2500);
});

Deno.test("an older peer (bulk1 not offered) still syncs over JSON: catch-up and messages both ways", async () => {
  await syncs(false, 2500);
});
