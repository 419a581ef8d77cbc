/**
 * Relayed sessions on loopback: two contacts that cannot dial each other
 * (each publishes a dead address, as behind NAT) chat through the anchor
 * they both reach; the anchor forwards only ciphertext; refusals carry
 * reasons; a relayed session moves to a direct path when one opens.
 */
import assert from "node:assert/strict";
import net from "node:net";
import {
  befriend,
  joinAnchor,
  startTestNode,
  type TestNode,
  type TestNodeOptions,
  until,
} from "../testing/nodes.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { RojError } from "../node/errors.ts";
import type { PeerView } from "../node/api/mod.ts";
import { keys } from "../node/store/mod.ts";
import { initProfile } from "../node/home/mod.ts";
import { fingerprint } from "../node/identity/mod.ts";
import { RojNode } from "../node/node.ts";

const peerOf = async (n: TestNode, name: string): Promise<PeerView | undefined> =>
  (await n.node.call("peers", {})).find((p) => p.name === name);

/** A raw protocol session as `as` (whose node is stopped) to `to`. */
async function rawSession(as: TestNode, to: TestNode) {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: to.node.address!,
    expectedKey: to.node.publicKey,
    expectedName: to.node.name,
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: as.node.name },
  });
  await rpc.ready;
  return { rpc, [Symbol.dispose]: () => (rpc.close(), client.close()) };
}

async function refusal(p: Promise<unknown>): Promise<RojError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RojError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

/**
 * alice and bob are contacts and members of anchor `hive`; then both restart
 * on a new port publishing a dead address, so neither can dial the other.
 */
async function unreachablePair(
  host: string,
  relay: TestNodeOptions["relay"] = {},
  options: { bobAdvertise?: string; timing?: TestNodeOptions["relay"] } = {},
): Promise<{ hive: TestNode; alice: TestNode; bob: TestNode; cleanup: () => Promise<void> }> {
  const hive = await startTestNode("hive", { host: `${host}.1`, passive: true, relay });
  const a0 = await startTestNode("alice", { host: `${host}.2` });
  const b0 = await startTestNode("bob", { host: `${host}.3` });
  await befriend(a0, b0);
  await joinAnchor(a0, hive);
  await joinAnchor(b0, hive);
  await a0.stop();
  await b0.stop();
  const timing = options.timing ?? { recheckMs: 60_000, upgradeMs: 60_000 };
  const alice = await startTestNode("alice", {
    host: `${host}.2`,
    dir: a0.dir,
    advertise: [`${host}.2:1`],
    relay: timing,
    // No punched path: it would replace the relayed session these tests look at.
    quic: false,
  });
  const bob = await startTestNode("bob", {
    host: `${host}.3`,
    dir: b0.dir,
    advertise: [options.bobAdvertise ?? `${host}.3:1`],
    relay: timing,
    quic: false,
  });
  return {
    hive,
    alice,
    bob,
    cleanup: async () => {
      for (const n of [alice, bob, hive]) await n.stop();
      for (const n of [a0, b0, hive]) await Deno.remove(n.dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("relay: two unreachable contacts chat through their anchor, which forwards only ciphertext", async () => {
  const { hive, alice, bob, cleanup } = await unreachablePair("127.21.0");
  const spliced: Uint8Array[] = [];
  const untap = hive.node.relay.tap((_from, chunk) => spliced.push(chunk.slice()));
  try {
    await until(
      () => alice.node.relay.reachable === false,
      10_000,
      "alice finds she is unreachable",
    );
    await until(() => bob.node.relay.reachable === false, 10_000, "bob finds he is unreachable");
    await until(
      async () => (await peerOf(alice, "bob"))?.path === "relayed",
      20_000,
      "alice reaches bob through the hive",
    );
    const view = (await peerOf(alice, "bob"))!;
    assert.equal(view.via, "hive");
    assert.equal((await alice.node.call("status", {})).reachable, false);
    assert.equal((await hive.node.call("status", {})).relay?.active, 1);
    await until(async () => (await peerOf(bob, "alice"))?.path === "relayed", 5000, "bob's side");

    const secretA = `to bob ${crypto.randomUUID()}`;
    const secretB = `to alice ${crypto.randomUUID()}`;
    await alice.node.call("send", { chat: "bob", text: secretA });
    await bob.waitFor((e) => e.type === "message" && e.message.body === secretA, 10_000);
    await bob.node.call("send", { chat: "alice", text: secretB });
    await alice.waitFor((e) => e.type === "message" && e.message.body === secretB, 10_000);
    await until(
      async () =>
        (await alice.node.call("read", { chat: "bob" })).some((m) =>
          m.body === secretA && m.state !== "stored"
        ),
      10_000,
      "alice's message delivered",
    );

    // The relay forwarded the session's bytes, and none of them is a message in the clear.
    assert.ok(hive.node.relay.bytesRelayed > 0 && spliced.length > 0);
    const all = new Uint8Array(spliced.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of spliced) all.set(c, (at += c.length) - c.length);
    const text = new TextDecoder("latin1").decode(all);
    for (const secret of [secretA, secretB, "to bob", "to alice"]) {
      assert.ok(!text.includes(secret), `the relay saw ${JSON.stringify(secret)} in the clear`);
    }
    assert.ok(text.startsWith("SSH-2.0-"), "what the relay forwards is an SSH session");
  } finally {
    untap();
    await cleanup();
  }
});

Deno.test("relay: refusals carry a reason (target does not accept, not connected, --no-relay, per-member cap)", async () => {
  await using hive = await startTestNode("hive", {
    host: "127.21.1.1",
    passive: true,
    relay: { maxSessionsPerMember: 1 },
  });
  await using quiet = await startTestNode("quiet", {
    host: "127.21.1.5",
    relay: { enabled: false },
  });
  await using tester = await startTestNode("tester", { host: "127.21.1.2" });
  await using friend = await startTestNode("friend", { host: "127.21.1.3" });
  await using stranger = await startTestNode("stranger", { host: "127.21.1.4" });
  await befriend(tester, friend);
  await befriend(quiet, tester);
  for (const n of [tester, friend, stranger]) await joinAnchor(n, hive);
  await until(
    async () => (await peerOf(friend, "hive"))?.state === "connected",
    5000,
    "friend on the hive",
  );
  // Raw sessions as tester, whose own node is stopped so that its redials do not replace them.
  await tester.stop();
  {
    using s = await rawSession(tester, hive);
    const open = (to: Uint8Array) => s.rpc.request("relay.open", { to: encodeB64(to) }, 10_000);

    const notAccepted = await refusal(open(stranger.node.publicKey));
    assert.equal(notAccepted.code, "refused");
    assert.match(notAccepted.message, /does not accept relayed sessions from your key/);

    const nobody = await refusal(open(crypto.getRandomValues(new Uint8Array(32))));
    assert.equal(nobody.code, "not_found");
    assert.match(nobody.message, /not connected to this relay/);

    const self = await refusal(open(tester.node.publicKey));
    assert.equal(self.code, "bad_input");

    // friend accepts tester: the first is set up (the relay waits for tester's channel), the second is over the cap.
    const first = await open(friend.node.publicKey);
    assert.match(first.token, /^[0-9a-f]{32}$/);
    assert.equal(hive.node.relay.active, 1);
    const capped = await refusal(open(friend.node.publicKey));
    assert.equal(capped.code, "busy");
    assert.match(capped.message, /already have 1 relayed sessions here \(the limit is 1\)/);

    // Dial-back: only at the address the checker sees the asker at (this raw session comes
    // from 127.0.0.1); a closed port there is reported as not reached.
    const elsewhere = await refusal(s.rpc.request("reach.check", { address: "127.21.1.9:22" }));
    assert.equal(elsewhere.code, "refused");
    assert.match(elsewhere.message, /only the address this node sees you at/);
    assert.deepEqual(await s.rpc.request("reach.check", { address: "127.0.0.1:1" }), {
      reached: false,
    });
  }
  {
    using s = await rawSession(tester, quiet);
    const off = await refusal(
      s.rpc.request("relay.open", { to: encodeB64(friend.node.publicKey) }),
    );
    assert.equal(off.code, "refused");
    assert.match(off.message, /does not relay for others \(--no-relay\)/);
  }
});

/** A free port on `host` (nothing listens there once this returns). */
async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A TCP forward from host:port to `to`, like a port mapping that appears on a router. */
async function forward(host: string, port: number, to: { host: string; port: number }) {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((inbound) => {
    const out = net.connect(to.port, to.host);
    for (const s of [inbound, out]) {
      s.setNoDelay(true);
      socks.add(s);
      s.on("close", () => socks.delete(s));
      s.on("error", () => {});
    }
    inbound.pipe(out).on("close", () => inbound.destroy());
    out.pipe(inbound).on("close", () => out.destroy());
    out.on("close", () => inbound.destroy());
    inbound.on("close", () => out.destroy());
  });
  await new Promise<void>((r) => srv.listen(port, host, () => r()));
  return {
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

Deno.test("relay: a relayed session moves to a direct path when one opens, losing no message", async () => {
  const port = await freePort("127.21.2.3");
  const { alice, bob, hive, cleanup } = await unreachablePair("127.21.2", {}, {
    bobAdvertise: `127.21.2.3:${port}`,
    timing: { recheckMs: 60_000, upgradeMs: 300 },
  });
  let mapping: { close(): Promise<void> } | undefined;
  try {
    await until(
      async () => (await peerOf(alice, "bob"))?.path === "relayed",
      20_000,
      "alice reaches bob through the hive",
    );
    // Messages both ways while the port mapping appears and the session moves.
    const sent: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < 60; i++) {
        const text = `m${i} ${crypto.randomUUID()}`;
        sent.push(text);
        await (i % 2 ? bob : alice).node.call("send", { chat: i % 2 ? "alice" : "bob", text });
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    // A few messages go through the relay before the mapping appears.
    await until(() => sent.length >= 10, 10_000, "messages sent over the relayed session");
    mapping = await forward("127.21.2.3", port, bob.node.address!);
    await sending;
    await until(
      async () => (await peerOf(alice, "bob"))?.path === "direct",
      10_000,
      "the session moved to the direct path",
    );
    await until(async () => (await peerOf(bob, "alice"))?.path === "direct", 5000, "bob's side");
    const peer = (await peerOf(alice, "bob"))!;
    assert.equal(peer.address, `127.21.2.3:${port}`);
    await alice.waitFor((e) => e.type === "moved-direct" && e.peer === "bob", 5000);
    assert.ok(
      !alice.events.some((e) => e.type === "session" && e.state === "down" && e.peer === "bob"),
      "the move is not a disconnection",
    );
    // Every message reached the other side, and each sender sees it delivered.
    await until(
      async () => {
        const atBob = await bob.node.call("read", { chat: "alice" });
        const atAlice = await alice.node.call("read", { chat: "bob" });
        return sent.every((t) =>
          atBob.some((m) => m.body === t) && atAlice.some((m) => m.body === t)
        ) &&
          [...atBob, ...atAlice].every((m) => !m.mine || m.state !== "stored"); // delivered, or read
      },
      10_000,
      "every message on both sides, delivered",
    );
    await until(() => hive.node.relay.active === 0, 5000, "the relay's splice ended");
  } finally {
    await mapping?.close();
    await cleanup();
  }
});

Deno.test("relay: a member's bytes per second are capped at the relay", async () => {
  const rate = 32 * 1024;
  const { alice, bob, hive, cleanup } = await unreachablePair("127.21.3", {
    bytesPerSecondPerMember: rate,
  });
  try {
    await until(
      async () => (await peerOf(alice, "bob"))?.path === "relayed",
      20_000,
      "alice reaches bob through the hive",
    );
    await until(async () => (await peerOf(bob, "alice"))?.path === "relayed", 5000, "bob's side");
    // 8 messages of 16 KiB: 128 KiB that may pass the relay at 32 KiB/s after a 32 KiB burst.
    const bodies = Array.from({ length: 8 }, (_, i) => `${i} `.padEnd(16 * 1024, "x"));
    const t0 = performance.now();
    for (const text of bodies) await alice.node.call("send", { chat: "bob", text });
    await until(
      async () => {
        const got = await bob.node.call("read", { chat: "alice" });
        return bodies.every((b) => got.some((m) => m.body === b));
      },
      30_000,
      "bob holds all 8",
    );
    const seconds = (performance.now() - t0) / 1000;
    const floor = (bodies.length * 16 * 1024 - rate) / rate;
    assert.ok(seconds >= floor * 0.9, `128 KiB passed a 32 KiB/s relay in ${seconds.toFixed(2)} s`);
    assert.ok(hive.node.relay.bytesRelayed > bodies.length * 16 * 1024);
  } finally {
    await cleanup();
  }
});

Deno.test("relay: removing a contact drops the relays its record named, also from the store", async () => {
  const { alice, bob, hive, cleanup } = await unreachablePair("127.21.4");
  try {
    await until(
      () => alice.node.relay.relaysOf(bob.node.publicKey).length > 0,
      20_000,
      "alice learns which relays bob's record names",
    );
    assert.deepEqual(alice.node.relay.relaysOf(bob.node.publicKey), [hive.node.publicKey]);
    const kv = alice.node.profile.store.kv;
    assert.ok((await kv.get(keys.relaysOf(bob.node.publicKey))).value);

    await alice.node.call("remove", { name: "bob" });
    assert.deepEqual(alice.node.relay.relaysOf(bob.node.publicKey), []);
    assert.equal((await kv.get(keys.relaysOf(bob.node.publicKey))).value, null);
    // Nothing under the relay lists names bob, and no list is kept for anyone but contacts.
    for await (const e of kv.list({ prefix: keys.relaysOfAll() })) {
      const owner = e.key[2] as Uint8Array;
      assert.ok(alice.node.contacts.get(owner), "a relay list of a non-contact is kept");
    }
  } finally {
    await cleanup();
  }
});

Deno.test("relay: a relay list left behind for someone no longer a contact is dropped when the node opens", async () => {
  const dir = await Deno.makeTempDir({ prefix: "roj-carol-" });
  try {
    (await initProfile(dir, { name: "carol" })).store.close();
    const stranger = crypto.getRandomValues(new Uint8Array(32));
    const relay = crypto.getRandomValues(new Uint8Array(32));
    let node = await RojNode.open({ dataDir: dir });
    await node.profile.store.kv.set(keys.relaysOf(stranger), [relay]);
    await node.close();
    node = await RojNode.open({ dataDir: dir });
    try {
      assert.equal((await node.profile.store.kv.get(keys.relaysOf(stranger))).value, null);
      assert.deepEqual(node.relay.relaysOf(stranger), []);
    } finally {
      await node.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("reach: a session a peer from outside dialled is the evidence; no dial-back is asked for", async () => {
  const a0 = await startTestNode("alice", { host: "127.21.6.2" });
  const b0 = await startTestNode("bob", { host: "127.21.6.3" });
  await befriend(a0, b0);
  const port = a0.node.address!.port;
  await a0.stop();
  await b0.stop();
  const timing = { recheckMs: 60_000, upgradeMs: 60_000 };
  // Alice first: bob is not there yet, so her only session is the one bob dials to her.
  const alice = await startTestNode("alice", {
    host: "127.21.6.2",
    port,
    dir: a0.dir,
    relay: timing,
  });
  const bob = await startTestNode("bob", { host: "127.21.6.3", dir: b0.dir, relay: timing });
  try {
    await until(() => alice.node.relay.reachable === true, 10_000, "alice knows she is reachable");
    assert.deepEqual(alice.events.filter((e) => e.type === "reachability"), [
      {
        type: "reachability",
        reachable: true,
        how: "inbound",
        peer: "bob",
        fingerprint: fingerprint(bob.node.publicKey),
      },
    ]);
    // Bob dialled out only: he asks alice to dial him back, a moment after his first session.
    await until(() => bob.node.relay.reachable === true, 10_000, "bob's dial-back");
    assert.ok(
      alice.events.some((e) =>
        e.type === "dial-back" && e.peer === "bob" && e.reached &&
        /^127\.21\.6\.3:\d+$/.test(e.address)
      ),
      "alice dialled bob back where he is, and reached him",
    );
    assert.ok(!bob.events.some((e) => e.type === "dial-back"), "nobody dialled alice back");
  } finally {
    for (const n of [alice, bob]) await n.stop();
    for (const n of [a0, b0]) await Deno.remove(n.dir, { recursive: true }).catch(() => {});
  }
});
