/**
 * Group members who are not your contacts go by the name they gave
 * themselves (their signed group.hello), not by a bare fingerprint, and not
 * by the name the adder gave them; a contact keeps the name you gave them.
 * Real nodes in this process.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import type { NodeEvent } from "../node/api/mod.ts";

const joined = (e: NodeEvent) => e.type === "group" && e.op === "joined";

Deno.test("group members who are not contacts show their own name, the fingerprint second", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(a, c);
  // Alice knows carol as "Caz": bob used to see carol under alice's name for her.
  await a.node.call("rename", { name: "carol", to: "Caz" });
  await a.node.call("group.create", { name: "climbers" });
  await a.node.call("group.add", { group: "climbers", members: ["bob", "Caz"] });
  await Promise.all([b.waitFor(joined), c.waitFor(joined)]);
  await c.node.call("send", { chat: "climbers", text: "belay on" });

  const carolFp = (await c.node.call("status", {})).fingerprint;
  await until(
    async () =>
      (await b.node.call("group.members", { group: "climbers" }))
        .find((m) => m.fingerprint === carolFp)?.name === "carol",
    10_000,
    "bob sees carol by her own name",
  );
  const atBob = await b.node.call("group.members", { group: "climbers" });
  assert.deepEqual(
    atBob.map((m) => m.name).sort(),
    ["alice", "bob", "carol"],
    "names, no fingerprints",
  );
  await until(
    async () =>
      (await b.node.call("read", { chat: "climbers" })).some((m) =>
        m.body === "belay on" && m.author === "carol" && m.authorFingerprint === carolFp
      ),
    10_000,
    "carol's message at bob is by carol",
  );
  // Alice has carol as a contact: her own name for her stays.
  const atAlice = await a.node.call("group.members", { group: "climbers" });
  assert.equal(atAlice.find((m) => m.fingerprint === carolFp)?.name, "Caz");
  // Bob can act on carol by that name (admins only: alice makes bob one first).
  await a.node.call("group.promote", { group: "climbers", member: "bob" });
  await until(
    async () =>
      (await b.node.call("group.members", { group: "climbers" })).find((m) => m.me)?.admin ===
        true,
    10_000,
    "bob is an admin",
  );
  const after = await b.node.call("group.remove", { group: "climbers", member: "carol" });
  assert.ok(!after.members.some((m) => m.fingerprint === carolFp));
});
