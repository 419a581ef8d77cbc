/**
 * A node on the default-style dual-stack listen ("::", here on a free port)
 * takes IPv4 peers too, and nothing it or they publish, compare or log holds
 * the IPv4-mapped form (::ffff:127.0.0.3) the dual-stack socket reports.
 *
 * alice listens on "::"; bob on 127.0.0.3 and carol on "::" both know alice
 * only at 127.0.0.2:<port> and dial her over IPv4. Alice sees bob at
 * 127.0.0.3 and carol at 127.0.0.1 (her source on loopback) and tells each
 * where she sees them; carol, listening everywhere, would publish that
 * address if it were not loopback: a mapped form slipped past that check.
 */
import assert from "node:assert/strict";
import { type NodeOptions, RojNode } from "../node/node.ts";
import { until } from "../testing/nodes.ts";
import { makeDataDir, seedContacts } from "../testing/netlab.ts";
import type { NodeEvent, PeerView } from "../node/api/mod.ts";

/** Each node's events, by name, kept from its open on. */
type Said = Map<string, NodeEvent[]>;

/** Opens a node that logs into `lines` and records its events into `said`. */
function opener(lines: string[], said: Said, nodes: RojNode[]) {
  return async (dir: string, name: string, options: Omit<NodeOptions, "dataDir">) => {
    const node = await RojNode.open({
      dataDir: dir,
      log: (l) => lines.push(`[${name}] ${l}`),
      ...options,
    });
    const list: NodeEvent[] = [];
    said.set(name, list);
    node.subscribe((e) => list.push(e));
    nodes.push(node);
    return node;
  };
}

/** Waits until `name` has said an event that matches; resolves with it. */
async function saidBy(said: Said, name: string, match: (e: NodeEvent) => boolean) {
  await until(() => said.get(name)!.some(match), 10_000, `an event of ${name}`);
  return said.get(name)!.find(match)!;
}

const up = (peer: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer;

Deno.test("dual stack: a node on [::] reached by IPv4 peers sees, tells and publishes plain IPv4", async () => {
  const [a, b, c] = await Promise.all(["alice", "bob", "carol"].map((n) => makeDataDir(n)));
  const lines: string[] = [];
  const said: Said = new Map();
  const nodes: RojNode[] = [];
  const open = opener(lines, said, nodes);
  try {
    await seedContacts(a!.dir, [
      { publicKey: b!.publicKey, name: "bob" },
      { publicKey: c!.publicKey, name: "carol" },
    ]);
    const alice = await open(a!.dir, "alice", { listen: { host: "::", port: 0 }, quic: true });
    await alice.start();
    const port = Number((await alice.call("status", {})).listen[0]!.match(/:(\d+)$/)![1]);
    assert.deepEqual((await alice.call("status", {})).listen, [`[::]:${port}`]);
    for (const x of [b!, c!]) {
      await seedContacts(x.dir, [
        { publicKey: a!.publicKey, name: "alice", addresses: [`127.0.0.2:${port}`] },
      ]);
    }
    const bob = await open(b!.dir, "bob", { listen: { host: "127.0.0.3", port: 0 } });
    await bob.start();
    const carol = await open(c!.dir, "carol", {
      listen: { host: "::", port: 0 },
      interfacePollMs: 100,
    });
    await carol.start();
    const peersOf = (n: RojNode) => n.call("peers", {}) as Promise<PeerView[]>;
    await until(
      async () => (await peersOf(alice)).every((p) => p.state === "connected"),
      10_000,
      "bob and carol to reach alice over IPv4",
    );
    const seen = await peersOf(alice);
    const bobAt = seen.find((p) => p.name === "bob")?.address ?? "";
    const carolAt = seen.find((p) => p.name === "carol")?.address ?? "";
    assert.match(bobAt, /^127\.0\.0\.3:\d+$/, JSON.stringify(seen));
    assert.match(carolAt, /^127\.0\.0\.1:\d+$/, JSON.stringify(seen));
    // Messages flow on those sessions.
    await bob.call("send", { chat: "alice", text: "hi over v4" });
    await until(
      async () => (await alice.call("read", { chat: "bob" })).some((m) => m.body === "hi over v4"),
      5000,
      "alice reads bob",
    );
    // What carol would publish: her invite holds the addresses of her record. Alice's
    // word of where she sees carol came in carol's session's hello, and was weighed as the
    // session came up (seen-as, and a new record, would follow): a loopback address is none.
    await saidBy(said, "carol", up("alice"));
    assert.deepEqual(said.get("carol")!.filter((e) => e.type === "seen-as"), []);
    const invite = await carol.call("invite", {});
    assert.ok(
      invite.addresses.every((x) => !/::ffff:|127\.0\.0\.1/i.test(x)),
      invite.addresses.join(" "),
    );
    for (const e of said.get("carol")!) {
      if (e.type === "record-published") {
        assert.ok(e.addresses.every((x) => !/::ffff:|127\.0\.0\.1/i.test(x)), JSON.stringify(e));
      }
    }
    // Nothing any node said or logged holds the mapped form.
    const mapped = [...lines, ...[...said.values()].flat().map((e) => JSON.stringify(e))]
      .filter((l) => /::ffff:/i.test(l));
    assert.deepEqual(mapped, []);
  } catch (err) {
    console.log(lines.join("\n"));
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    for (const x of [a, b, c]) await Deno.remove(x!.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("dual stack: a contact known at an IPv4 and an IPv6 address is dialled over IPv6 alone when it answers", async () => {
  const [a, b] = await Promise.all(["alice", "bob"].map((n) => makeDataDir(n)));
  const lines: string[] = [];
  const said: Said = new Map();
  const nodes: RojNode[] = [];
  const open = opener(lines, said, nodes);
  try {
    await seedContacts(a!.dir, [{ publicKey: b!.publicKey, name: "bob" }]);
    const alice = await open(a!.dir, "alice", { listen: { host: "::", port: 0 }, quic: false });
    await alice.start();
    const port = Number((await alice.call("status", {})).listen[0]!.match(/:(\d+)$/)![1]);
    // IPv4 listed first: the order of a record is no preference.
    await seedContacts(b!.dir, [
      { publicKey: a!.publicKey, name: "alice", addresses: [`127.0.0.2:${port}`, `[::1]:${port}`] },
    ]);
    const bob = await open(b!.dir, "bob", { listen: { host: "::", port: 0 }, quic: false });
    await bob.start();
    await until(
      async () => ((await alice.call("peers", {})) as PeerView[])[0]?.state === "connected",
      10_000,
      "bob to reach alice",
    );
    // Bob's session kept: the IPv6 dial claimed the race, after which no IPv4 dial can start.
    await saidBy(said, "bob", up("alice"));
    const view = ((await bob.call("peers", {})) as PeerView[]).find((p) => p.name === "alice");
    assert.equal(view?.address, `[::1]:${port}`, JSON.stringify(view));
    // IPv6 answered within its head start: bob dialled no IPv4 address of alice, and alice
    // saw one connection, not two.
    const dialled = said.get("bob")!.flatMap((e) =>
      e.type === "dialling" && e.peer === "alice" ? [e.address] : []
    );
    assert.deepEqual(dialled.filter((d) => d !== `[::1]:${port}`), [], dialled.join(" "));
    const connects = said.get("alice")!.filter(up("bob"));
    assert.equal(connects.length, 1, lines.join("\n"));
    assert.ok(connects[0]!.type === "session" && connects[0]!.state === "up");
    assert.match(connects[0]!.remote, /^\[::1\]:\d+$/);
  } catch (err) {
    console.log(lines.join("\n"));
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    for (const x of [a, b]) await Deno.remove(x!.dir, { recursive: true }).catch(() => {});
  }
});
