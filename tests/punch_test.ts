/**
 * UDP hole punching coordinated by an anchor, over loopback: the protocol
 * end to end without NAT (tests/nat_punch_test.ts runs it behind real NAT).
 * Alice and bob publish addresses where nobody listens, so the only way they
 * meet is the punched QUIC path their anchor introduces them on.
 */
import assert from "node:assert/strict";
import { startTestNode, until } from "../testing/nodes.ts";
import { makeDataDir, seedContacts, startPunchTrio } from "../testing/netlab.ts";
import { formatEndpoint } from "../node/transport/mod.ts";

Deno.test("punch: two peers whose addresses do not answer meet on a punched path via their anchor", async () => {
  await using trio = await startPunchTrio(["127.0.0.61", "127.0.0.62", "127.0.0.60"]);
  const { alice, bob } = trio;
  const peerOf = async (n: typeof alice, name: string) =>
    (await n.node.call("peers", {})).find((p) => p.name === name);
  await until(
    async () => (await peerOf(alice, "bob"))?.path === "punched",
    20_000,
    "alice's punched session to bob",
  );
  const seen = await peerOf(alice, "bob");
  assert.equal(seen?.state, "connected");
  assert.match(seen?.address ?? "", /^127\.0\.0\.62:\d+$/, "bob's UDP endpoint");
  await until(
    async () => (await peerOf(bob, "alice"))?.path === "punched",
    5000,
    "bob's side of the punched session",
  );
  // Chat over it.
  await alice.node.call("send", { chat: "bob", text: "through the hole" });
  await until(
    async () =>
      (await bob.node.call("read", { chat: "alice" })).some((m) => m.body === "through the hole"),
    10_000,
    "bob reads alice's message",
  );
  await bob.node.call("send", { chat: "alice", text: "and back" });
  await until(
    async () => (await alice.node.call("read", { chat: "bob" })).some((m) => m.body === "and back"),
    10_000,
    "alice reads bob's answer",
  );
});

Deno.test("punch: a peer who is not the target's contact learns nothing of where it is", async () => {
  await using trio = await startPunchTrio(["127.0.0.66", "127.0.0.67", "127.0.0.65"]);
  const { bob, anchor } = trio;
  // Carol is the anchor's member and knows bob's key; bob never accepted her.
  const c = await makeDataDir("carol");
  const anchorAt = formatEndpoint(anchor.node.address!);
  await seedContacts(c.dir, [
    { publicKey: anchor.node.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
    { publicKey: bob.node.publicKey, name: "bob" },
  ]);
  await anchor.node.contacts.add(c.publicKey, "carol", [], Date.now());
  await using carol = await startTestNode("carol", { dir: c.dir, host: "127.0.0.68" });
  await until(
    async () =>
      (await carol.node.call("peers", {})).some((p) =>
        p.name === "anchor" && p.state === "connected"
      ),
    10_000,
    "carol's session with the anchor",
  );
  const res = await carol.node.punch(bob.node.publicKey);
  // The anchor says only that bob cannot be reached through it: as if he were not connected.
  assert.deepEqual(!res.ok && { code: res.code, attempts: res.attempts }, {
    code: "coordinators-failed",
    attempts: [{ via: "anchor", code: "not-found" }],
  });
  const view = (await carol.node.call("peers", {})).find((p) => p.name === "bob");
  assert.notEqual(view?.state, "connected");
  assert.ok(!(view?.address ?? "").startsWith("127.0.0.67"), "carol holds no address of bob's");
  await Deno.remove(c.dir, { recursive: true }).catch(() => {});
});
