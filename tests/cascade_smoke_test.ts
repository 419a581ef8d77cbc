import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../testing/nodes.ts";

Deno.test("cascade: two friends who both moved find each other through a stable third", async () => {
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  const c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(b, c);
  await befriend(a, c);
  await a.stop();
  await c.stop();
  await using a2 = await startTestNode("alice", { host: "127.0.0.12", dir: a.dir });
  await using c2 = await startTestNode("carol", { host: "127.0.0.14", dir: c.dir });
  await until(
    async () => (await a2.node.call("peers", {})).every((p) => p.state === "connected"),
    10_000,
    "alice reaches all",
  );
  await until(
    async () => (await c2.node.call("peers", {})).every((p) => p.state === "connected"),
    10_000,
    "carol reaches all",
  );
  const peers = await a2.node.call("peers", {});
  const carol = peers.find((p) => p.name === "carol")!;
  assert.ok(/via bob|direct/.test(carol.learnt), carol.learnt);
  await Deno.remove(a.dir, { recursive: true });
  await Deno.remove(c.dir, { recursive: true });
});

/** A TCP port forward from `from` to `to`, as a router or a VPS tunnel would do it. */
function forward(from: Deno.NetAddr, to: Deno.NetAddr): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: from.hostname, port: from.port });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const inbound of listener) {
      conns.add(inbound);
      Deno.connect({ hostname: to.hostname, port: to.port }).then((outbound) => {
        conns.add(outbound);
        inbound.readable.pipeTo(outbound.writable).catch(() => {});
        outbound.readable.pipeTo(inbound.writable).catch(() => {});
      }, () => inbound.close());
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test("cascade: --advertise replaces the listening address in what is published", async () => {
  const probe = Deno.listen({ hostname: "127.33.0.2", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const fwd = forward(
    { transport: "tcp", hostname: "127.33.0.9", port: 0 },
    { transport: "tcp", hostname: "127.33.0.2", port },
  );
  try {
    const advertised = `127.33.0.9:${fwd.port}`;
    await using alice = await startTestNode("alice", {
      host: "127.33.0.2",
      port,
      advertise: [advertised],
    });
    await using bob = await startTestNode("bob", { host: "127.33.0.3" });
    await befriend(alice, bob); // the invite names only the forwarded address
    await until(
      () => (bob.node.contacts.byName("alice")?.recordSeq ?? 0) >= 1,
      5000,
      "bob has alice's record",
    );
    assert.deepEqual(bob.node.contacts.byName("alice")!.addresses, [advertised]);
    const first = alice.events.find((e) => e.type === "record-published" && e.seq === 1);
    assert.deepEqual(first, {
      type: "record-published",
      seq: 1,
      addresses: [advertised],
      relays: 0,
    });
    // No record, dial or session of bob's names it.
    const listening = `127.33.0.2:${port}`;
    assert.deepEqual(
      bob.events.filter((e) => e.type !== "log" && JSON.stringify(e).includes(listening)),
      [],
      "bob never saw alice's listening address",
    );
  } finally {
    fwd.close();
  }
});

Deno.test("cascade: an anchor counts its members, records and sessions; peers say who was learnt via the anchor", async () => {
  await using anchor = await startTestNode("anchor", { host: "127.34.0.9", passive: true });
  const a = await startTestNode("alice", { host: "127.34.0.1" });
  const b = await startTestNode("bob", { host: "127.34.0.2" });
  try {
    for (const member of [a, b]) {
      await member.node.call("add", { invite: (await anchor.node.call("invite", {})).text });
    }
    await befriend(a, b);
    // Each person's sealed copy for the other, and nothing readable.
    // Sessions settle too: a reachability dial-back may briefly add one.
    await until(
      async () => {
        const s = await anchor.node.call("status", {});
        return (s.records ?? 0) >= 2 && s.sessions === 2;
      },
      5000,
      "the anchor holds both copies over two sessions",
    );
    const status = await anchor.node.call("status", {});
    assert.equal(status.passive, true);
    assert.equal(status.members, 2);
    assert.equal(status.sessions, 2);
    assert.equal(status.records, 2);
    const aPeers = await a.node.call("peers", {});
    const bPeers = await b.node.call("peers", {});
    assert.deepEqual(aPeers.map((p) => [p.name, p.kind]).sort(), [["anchor", "anchor"], [
      "bob",
      "person",
    ]]);
    assert.ok(bPeers.every((p) => p.state === "connected"));

    // Both move; only the anchor stayed where it was.
    await a.stop();
    await b.stop();
    await until(
      async () => (await anchor.node.call("status", {})).sessions === 0,
      5000,
      "the anchor sees both go",
    );
    await using a2 = await startTestNode("alice", { host: "127.34.0.11", dir: a.dir });
    await using b2 = await startTestNode("bob", { host: "127.34.0.12", dir: b.dir });
    const connected = async (n: typeof a2) =>
      (await n.node.call("peers", {})).every((p) => p.state === "connected");
    await until(async () => await connected(a2) && await connected(b2), 10_000, "both back");
    const bobAtAlice = (await a2.node.call("peers", {})).find((p) => p.name === "bob")!;
    const aliceAtBob = (await b2.node.call("peers", {})).find((p) => p.name === "alice")!;
    // Whoever dialled learnt the other's address from the anchor; the other heard it directly.
    assert.ok(
      [bobAtAlice.learnt, aliceAtBob.learnt].includes("via anchor anchor"),
      `${bobAtAlice.learnt} / ${aliceAtBob.learnt}`,
    );
    assert.ok(bobAtAlice.address?.startsWith("127.34.0.12:"), bobAtAlice.address ?? "");
    await until(
      async () => (await anchor.node.call("status", {})).sessions === 2,
      5000,
      "the anchor sees both back, once each",
    );
  } finally {
    await a.stop();
    await b.stop();
    for (const d of [a.dir, b.dir]) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
