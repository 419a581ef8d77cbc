import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../node/_testing/nodes.ts";

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
    assert.ok(
      alice.events.some((e) =>
        e.type === "log" && e.line === `published address record 1: ${advertised}`
      ),
    );
    assert.ok(
      !bob.events.some((e) => e.type === "log" && e.line.includes(`127.33.0.2:${port}`)),
      "bob never saw alice's listening address",
    );
  } finally {
    fwd.close();
  }
});
