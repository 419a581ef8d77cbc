import { befriend, startTestNode, until } from "/work/wt-groups/node/_testing/nodes.ts";
import { encryptGroupMessage, writeEpoch } from "/work/wt-groups/node/groups/mod.ts";
import { toHex } from "/work/wt-groups/node/log/mod.ts";
const N = Number(Deno.args[0] ?? 2000);
const anchor = await startTestNode("hive", { host: "127.0.0.90", passive: true, verbose: true });
const alice = await startTestNode("alice", { host: "127.0.0.91", verbose: true });
const bob = await startTestNode("bob", { host: "127.0.0.92" });
await befriend(anchor, alice);
await befriend(anchor, bob);
await befriend(alice, bob);
const { id } = await alice.node.call("group.create", { name: "bench" });
await alice.node.call("group.add", { group: "bench", members: ["bob"] });
await until(() => bob.node.groups.get(id) !== undefined, 30_000, "join");
await bob.stop();
const epoch = writeEpoch(alice.node.groups.get(id)!.membership, toHex(alice.node.publicKey))!;
const key = (await alice.node.groups.epochKey(id, epoch.id))!;
for (let i = 0; i < N; i += 1000) {
  await alice.node.log.appendMany(
    id,
    alice.node.signer,
    Array.from(
      { length: Math.min(1000, N - i) },
      () => ({
        type: "msg",
        body: encryptGroupMessage(key, id, alice.node.publicKey, epoch.id, "x".repeat(50)),
      }),
    ),
  );
}
const t0 = performance.now();
await alice.node.call("send", { chat: "bench", text: "last" });
const total = (await alice.node.log.read(id)).length;
await until(
  async () => {
    const b = (await anchor.node.call("status", {})).mailbox?.boxes ?? 0;
    return b >= total;
  },
  60_000,
  "anchor holds",
).catch((e) => console.log("FAIL", e.message));
console.log(
  "pushed",
  total,
  "in",
  performance.now() - t0,
  "ms",
  (await anchor.node.call("status", {})).mailbox,
);
await alice.stop();
await anchor.stop();
