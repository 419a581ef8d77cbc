/**
 * UDP hole punching coordinated by an anchor, over loopback: the protocol
 * end to end without NAT (tests/nat_punch_test.ts runs it behind real NAT).
 * Alice and bob publish addresses where nobody listens, so the only way they
 * meet is the punched QUIC path their anchor introduces them on.
 */
import assert from "node:assert/strict";
import { startTestNode, until } from "../node/_testing/nodes.ts";
import { makeDataDir, seedContacts } from "../node/_testing/netlab.ts";

function freePort(host: string): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("punch: two peers whose addresses do not answer meet on a punched path via their anchor", async () => {
  const [a, b, anchor] = await Promise.all([
    makeDataDir("alice"),
    makeDataDir("bob"),
    makeDataDir("anchor"),
  ]);
  const anchorAt = `127.0.0.60:${freePort("127.0.0.60")}`;
  await seedContacts(anchor.dir, [
    { publicKey: a.publicKey, name: "alice" },
    { publicKey: b.publicKey, name: "bob" },
  ]);
  await seedContacts(a.dir, [
    { publicKey: anchor.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
    { publicKey: b.publicKey, name: "bob" },
  ]);
  await seedContacts(b.dir, [
    { publicKey: anchor.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
    { publicKey: a.publicKey, name: "alice" },
  ]);
  await using anchorNode = await startTestNode("anchor", {
    dir: anchor.dir,
    host: "127.0.0.60",
    port: Number(anchorAt.split(":")[1]),
    passive: true,
  });
  // Published addresses where nothing listens: direct dials are refused.
  await using alice = await startTestNode("alice", {
    dir: a.dir,
    host: "127.0.0.61",
    advertise: ["127.0.0.63:9"],
  });
  await using bob = await startTestNode("bob", {
    dir: b.dir,
    host: "127.0.0.62",
    advertise: ["127.0.0.64:9"],
  });
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
  // The anchor introduced them and saw both endpoints; it holds no plaintext.
  assert.ok(anchorNode.node);
  for (const d of [a.dir, b.dir, anchor.dir]) {
    await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
