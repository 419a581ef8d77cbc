/**
 * kill -9 during a 5,000-message catch-up, on either side: after restarts,
 * every message the sender saw acknowledged is still there and sync completes.
 */
import assert from "node:assert/strict";
import { initProfile } from "../node/home/mod.ts";
import { RojNode } from "../node/mod.ts";
import { addByInvite, spawnNode } from "../testing/processes.ts";
import { seededRandom, tempDir, testSeed } from "../testing/temp.ts";

const N = 5000;

async function lastSeq(node: Awaited<ReturnType<typeof spawnNode>>, chat: string): Promise<number> {
  const c = await node.control();
  try {
    const [m] = await c.call("read", { chat, last: 1, markRead: false });
    return m?.seq ?? 0;
  } finally {
    await c.close();
  }
}

async function deliveredCount(
  node: Awaited<ReturnType<typeof spawnNode>>,
  chat: string,
): Promise<number> {
  const c = await node.control();
  try {
    return (await c.call("read", { chat, markRead: false })).filter((m) =>
      // A read message was delivered first (bob's reads send receipts).
      m.mine && (m.state === "delivered" || m.state === "read")
    ).length;
  } finally {
    await c.close();
  }
}

/** Entries of `author`'s chain in `dir`'s copy of the chat, counted with the node stopped. */
async function storedCount(dir: string, chatName: string): Promise<number> {
  const node = await RojNode.open({ dataDir: dir });
  try {
    return (await node.read(chatName)).length;
  } finally {
    await node.close();
  }
}

/** "host:port" with a port free on `host` now. */
function freeAddress(host: string): string {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `${host}:${port}`;
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const victim of ["receiver", "sender"] as const) {
  Deno.test(`kill -9 the ${victim} during a ${N}-message catch-up: nothing acknowledged is lost, sync completes`, async () => {
    const rand = seededRandom(testSeed(`kill -9 ${victim}`));
    await using d = await tempDir();
    const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`;
    (await initProfile(aDir, { name: "alice" })).store.close();
    (await initProfile(bDir, { name: "bob" })).store.close();
    // Free ports, kept across the restarts (bob must find alice where she was).
    const aAddr = freeAddress("127.0.72.2"), bAddr = freeAddress("127.0.72.3");
    let a = await spawnNode(aDir, aAddr, "alice");
    let b = await spawnNode(bDir, bAddr, "bob");
    try {
      await addByInvite(a, b);
      await b.stop();

      // Alice writes 5,000 messages while bob is away (straight into her store, with her node stopped).
      await a.stop();
      const offline = await RojNode.open({ dataDir: aDir });
      const chat = offline.chat("bob").id;
      for (let i = 0; i < N; i += 1000) {
        await offline.log.appendMany(
          chat,
          offline.signer,
          Array.from({ length: 1000 }, (_, j) => ({ type: "msg", body: `m${i + j}` })),
        );
      }
      await offline.close();
      a = await spawnNode(aDir, aAddr, "alice");
      b = await spawnNode(bDir, bAddr, "bob");

      // Let the catch-up run a random while, then kill one side mid-way.
      await waitFor(async () => (await lastSeq(b, "alice")) > 0, 20_000, "catch-up started");
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 40)));
      const acknowledged = await deliveredCount(a, "bob");
      if (victim === "receiver") {
        await b.kill9();
        const kept = await storedCount(bDir, "alice");
        console.log(
          `killed bob with ${kept} of ${N} stored; alice had seen ${acknowledged} acknowledged`,
        );
        assert.ok(
          kept >= acknowledged,
          `bob kept ${kept} but alice saw ${acknowledged} acknowledged`,
        );
        b = await spawnNode(bDir, bAddr, "bob");
      } else {
        await a.kill9();
        console.log(`killed alice with ${acknowledged} of ${N} acknowledged`);
        a = await spawnNode(aDir, aAddr, "alice");
      }
      await waitFor(async () => (await lastSeq(b, "alice")) === N, 60_000, `all ${N} at bob`);
      const c = await b.control();
      const all = await c.call("read", { chat: "alice" });
      await c.close();
      assert.deepEqual(all.map((m) => m.body), Array.from({ length: N }, (_, i) => `m${i}`));
      await waitFor(
        async () => (await deliveredCount(a, "bob")) === N,
        20_000,
        "alice sees all delivered",
      );
    } catch (err) {
      console.error(`alice:\n${a.output()}\nbob:\n${b.output()}`);
      throw err;
    } finally {
      await a.stop();
      await b.stop();
    }
  });
}
