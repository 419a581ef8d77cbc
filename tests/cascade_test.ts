/**
 * The reconnect cascade at hive scale (DESIGN.md, "Finding each other"): real
 * nodes over real SSH in this process, each on its own loopback address, with
 * a seeded random contact graph (replay a failure with the printed ROJ_SEED).
 *
 * What a pair needs to come back after a move, by design: one end still at
 * its address, a typed address, or a contact both ends reach, who holds the
 * sealed copy one of them handed over and serves it to the other
 * (learnablePairs in testing/hive.ts). Anchors are such a contact for
 * everyone; without them, reachability is a property of the graph.
 */
import assert from "node:assert/strict";
import {
  type Hive,
  learnablePairs,
  type Pair,
  pairKey,
  pairKeys,
  randomGraph,
  stableSetFor,
  startHive,
} from "../testing/hive.ts";
import { seededRandom, shuffle, testSeed } from "../testing/temp.ts";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { pairwise, signRecord } from "../node/discovery/mod.ts";
import {
  fingerprint as fingerprintOf,
  NAMESPACES,
  publicKeyBlob,
  type Signer,
  signSshsig,
} from "../node/identity/mod.ts";
import { isRojError } from "../node/errors.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { keys, openStore } from "../node/store/mod.ts";
import { dataPaths } from "../node/home/mod.ts";
import { WireWriter } from "../node/wire/mod.ts";
import type { NodeEvent } from "../node/api/mod.ts";

/** Runs `fn`; on failure prints the hive's recent logs first. */
async function logsOnFailure<T>(hive: Hive, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    console.log(hive.dump(undefined, 40));
    throw err;
  }
}

const names = (hive: Hive, pairs: Iterable<Pair>) =>
  [...pairs].map(([a, b]) => `${hive.members[a]!.name}–${hive.members[b]!.name}`).join(", ");

const fromKeys = (keys: Set<string>): Pair[] =>
  [...keys].map((k) => k.split("-").map(Number) as unknown as Pair);

/** How many events each member has said so far, to look at what comes after. */
const marks = (hive: Hive): number[] => hive.members.map((m) => hive.events(m.index).length);

/**
 * The proof that nothing more comes back, instead of a sleep: once every
 * session has exchanged records, every person still missing a contact runs
 * its cascade once more, and those runs learn nothing, while no record is
 * learnt anywhere and no session comes up for a pair outside `expected`.
 * Then nothing will: the retries dial and ask the same again. Returns the
 * pairs (as "a-b") that came up meanwhile outside `expected` (none, if so).
 */
async function nothingMore(hive: Hive, expected: Set<string>): Promise<string[]> {
  await hive.handedOver(10_000);
  const since = Date.now();
  const from = marks(hive);
  const runs = await hive.ranSince(since, 40_000);
  for (const [i, run] of runs) {
    assert.ok(run.type === "cascade" && run.state === "done" && !run.failed, JSON.stringify(run));
    assert.equal(run.learnt, 0, `${hive.members[i]!.name}'s run since the last change learnt`);
  }
  const byName = new Map(hive.members.map((m) => [m.name, m.index]));
  const later = (i: number): NodeEvent[] => hive.events(i).slice(from[i]);
  const learnt = hive.members.flatMap((m) =>
    later(m.index).filter((e) => e.type === "record-learnt").map((e) =>
      `${m.name}: ${JSON.stringify(e)}`
    )
  );
  assert.deepEqual(learnt, [], "records learnt after the last change");
  return hive.members.flatMap((m) =>
    later(m.index).flatMap((e) =>
      e.type === "session" && e.state === "up" &&
        !expected.has(pairKey(m.index, byName.get(e.peer)!))
        ? [pairKey(m.index, byName.get(e.peer)!)]
        : []
    )
  );
}

Deno.test("cascade: 30 people and 2 anchors, every person moves at once: every pair reconnects", async () => {
  const seed = testSeed("cascade (a)");
  await using hive = await startHive({
    seed,
    nodes: 30,
    anchors: 2,
    degree: 8,
    hostBase: "127.10",
  });
  const up = await hive.move("all", "127.11");
  const ms = await logsOnFailure(hive, () => hive.waitConnected(30_000));
  const s = hive.stats;
  console.log(
    `  ${hive.edges.length} pairs reconnected ${ms.toFixed(0)} ms after the restart ` +
      `(nodes listening after ${
        up.toFixed(0)
      } ms); learnt ${s.learntViaAnchor} records via anchors, ` +
      `${s.learntViaPeer} via peers, ${s.learntDirect} direct; ${s.connects} session starts`,
  );
  // Every person published a new record, and the anchors were the way back.
  assert.equal(s.published, 30);
  assert.ok(s.learntViaAnchor > 0);
});

Deno.test("cascade: no anchors, a stable third: every pair reconnects; with a random third, exactly the learnable pairs do", async () => {
  const seed = testSeed("cascade (b)");
  // Not every graph has a third that makes every pair learnable (most random
  // thirds leave some pairs of movers with no contact in common): take the
  // first graph from the seed on that has one, so the run replays exactly.
  let graphSeed = seed;
  let stable: Set<number> | null = null;
  for (; !stable; graphSeed++) {
    stable = stableSetFor(randomGraph(30, 8, seededRandom(graphSeed)), 30, 10, seededRandom(seed));
  }
  graphSeed--;
  const graph = randomGraph(30, 8, seededRandom(graphSeed));
  await using hive = await startHive({
    seed: graphSeed,
    nodes: 30,
    anchors: 0,
    degree: 8,
    hostBase: "127.12",
  });
  assert.deepEqual(hive.edges, graph);
  const movers = hive.persons.map((m) => m.index).filter((i) => !stable!.has(i));
  assert.equal(movers.length, 20);
  await hive.move(movers, "127.13");
  const ms = await logsOnFailure(hive, () => hive.waitConnected(30_000));
  console.log(
    `  graph seed ${graphSeed}: all ${hive.edges.length} pairs reconnected ${
      ms.toFixed(0)
    } ms after 20 of 30 moved; learnt ${hive.stats.learntViaPeer} records via peers`,
  );

  // Now a random third stays and the other 20 move (again): the pairs that come
  // back are exactly those with a learnable path; the others cannot.
  const rand = seededRandom(seed ^ 0x5eed);
  const stay = new Set(shuffle(hive.persons.map((m) => m.index), rand).slice(0, 10));
  // A mover reaches a stable contact at the address in its contact book. That
  // book should hold every contact's current address by now, but a learnt
  // record can be lost to a concurrent update of the same contact (a lost
  // update in ContactBook.update); then the mover cannot dial that contact,
  // and the expectation below follows what the books really hold, once every
  // session has handed its records over (and the peer taken them in).
  await logsOnFailure(hive, () => hive.handedOver(10_000));
  const staleNow = hive.staleContacts();
  const stale = new Set(staleNow.map(([i, j]) => `${i}>${j}`));
  const live = hive.edges.filter(([a, b]) =>
    (stay.has(a) && stay.has(b)) || (stay.has(a) && !stale.has(`${b}>${a}`)) ||
    (stay.has(b) && !stale.has(`${a}>${b}`))
  );
  if (stale.size > 0) {
    console.log(
      `  contact books lagging after the first move (lost record updates): ${
        staleNow.map(([i, j]) =>
          `${hive.members[i]!.name} has no current address of ${hive.members[j]!.name}`
        ).join("; ")
      }`,
    );
  }
  // Every contact holds a stayer's current sealed copy since the first move.
  const learnable = learnablePairs(hive.edges, live, stay);
  hive.resetStats();
  await hive.move(hive.persons.map((m) => m.index).filter((i) => !stay.has(i)), "127.14");
  const ms2 = await logsOnFailure(hive, () => hive.waitConnected(30_000, fromKeys(learnable)));
  // The unlearnable ones do not show up: the cascade runs once more everywhere and finds nothing.
  const extra = await logsOnFailure(hive, () => nothingMore(hive, learnable));
  assert.deepEqual(extra, [], "pairs that came up although not learnable");
  const got = pairKeys(await hive.connectedPairs());
  const lost = hive.edges.filter(([a, b]) => !got.has(pairKey(a, b)));
  console.log(
    `  random third: ${learnable.size} of ${hive.edges.length} pairs learnable, reconnected in ${
      ms2.toFixed(0)
    } ms; not learnable (no contact both reach holds the other's current record), so not reconnected: ${lost.length}` +
      (lost.length > 0 ? ` (${names(hive, lost.slice(0, 8))}${lost.length > 8 ? ", …" : ""})` : ""),
  );
  assert.deepEqual([...got].sort(), [...learnable].sort());
});

Deno.test("cascade: everyone moved, no anchor, nobody stable: nothing reconnects until one typed address, then exactly what that makes learnable", async () => {
  const seed = testSeed("cascade (c)");
  await using hive = await startHive({
    seed,
    nodes: 30,
    anchors: 0,
    degree: 8,
    hostBase: "127.15",
  });
  const moved = Date.now();
  await hive.move("all", "127.16");
  // Everyone knows only dead addresses, and nobody knows anyone's new one: the
  // first run of each dials them all in vain, has nobody to ask and learns
  // nothing. With no session anywhere then, nothing can come of the retries.
  const first = await logsOnFailure(hive, () => hive.ranSince(moved, 20_000));
  assert.equal(first.size, 30);
  for (const run of first.values()) {
    assert.ok(run.type === "cascade" && run.state === "done" && run.learnt === 0);
  }
  assert.deepEqual(await hive.halfConnectedPairs(), []);
  assert.equal(hive.stats.connects, 0);

  const [x, y] = hive.edges[Math.floor(seededRandom(seed)() * hive.edges.length)]!;
  const t0 = performance.now();
  await hive.node(x).call("connect", { address: hive.address(y) });
  await logsOnFailure(hive, () => hive.waitConnected(5000, [[x, y]]));
  const typedMs = performance.now() - t0;

  // x and y now hold each other's sealed copies for their other contacts, but
  // every other node knows only dead addresses and is known by nobody: no
  // third node has a session to hand its record over or ask through.
  const predicted = learnablePairs(hive.edges, [[x, y]]);
  const extra = await logsOnFailure(hive, () => nothingMore(hive, predicted));
  const got = pairKeys(await hive.connectedPairs());
  const others = [...got].filter((k) => k !== pairKey(x, y));
  console.log(
    `  ${hive.members[x]!.name} typed ${hive.members[y]!.name}'s address: connected in ${
      typedMs.toFixed(0)
    } ms; other pairs reconnected after every cascade ran again: ${others.length}` +
      ` (learnable: ${predicted.size - 1}); ${hive.stats.dialFailures} failed dials meanwhile`,
  );
  assert.deepEqual(extra, []);
  assert.equal(hive.stats.typedByHand, 1);
  assert.deepEqual([...got].sort(), [...predicted].sort());
  assert.equal(others.length, 0);
});

/** Record bytes as address_record.ts lays them out, for any owner, signed by anyone. */
async function forgedRecord(
  owner: Uint8Array,
  signer: Signer,
  seq: number,
  addresses: string[],
): Promise<Uint8Array> {
  const w = new WireWriter().string("roj-addr-v1").string(publicKeyBlob(owner)).u64(seq).u64(
    Date.now(),
  ).u32(addresses.length);
  for (const a of addresses) w.string(a);
  const bytes = w.bytes();
  const sig = await signSshsig(signer, NAMESPACES.addr, bytes);
  return new WireWriter().string(bytes).string(sig).bytes();
}

/** A raw protocol session as `as` to `to`, serving nothing. */
async function rawSession(as: TestNode, to: TestNode) {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: to.node.address!,
    expectedKey: to.node.publicKey,
    expectedName: to.node.name,
    localAddress: as.node.address!.host,
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: as.node.name },
  });
  await rpc.ready;
  return {
    rpc,
    [Symbol.dispose]: () => {
      rpc.close();
      client.close();
    },
  };
}

Deno.test("cascade: forged and replayed records, direct or sealed, change nothing", async () => {
  await using bob = await startTestNode("bob", { host: "127.19.0.2" });
  await using carol = await startTestNode("carol", { host: "127.19.0.3" });
  await using mallory = await startTestNode("mallory", { host: "127.19.0.4" });
  const alice1 = await startTestNode("alice", { host: "127.19.0.1" });
  let alice2: TestNode | undefined;
  try {
    await befriend(alice1, bob);
    await befriend(alice1, carol);
    await befriend(bob, carol);
    await befriend(bob, mallory);
    const alicePub = alice1.node.publicKey;
    const old = (await alice1.node.profile.store.kv.get<Uint8Array>(keys.ownRecord())).value!;
    await until(() => bob.node.contacts.get(alicePub)!.recordSeq === 1, 5000, "bob has record 1");
    await alice1.stop();

    // Alice comes back elsewhere (record 2), bob and carol get it, she leaves again.
    alice2 = await startTestNode("alice", { host: "127.19.0.11", dir: alice1.dir });
    await until(() => bob.node.contacts.get(alicePub)!.recordSeq === 2, 10_000, "bob has record 2");
    await until(
      async () =>
        (await carol.node.call("peers", {})).some((p) =>
          p.name === "alice" && p.state === "connected"
        ),
      10_000,
      "carol reaches alice",
    );
    await alice2.stop();
    await until(
      async () =>
        (await bob.node.call("peers", {})).every((p) =>
          p.name !== "alice" || p.state !== "connected"
        ),
      5000,
      "bob sees alice gone",
    );
    const before = bob.node.contacts.get(alicePub)!;
    assert.equal(before.recordSeq, 2);
    assert.ok(before.addresses[0]!.startsWith("127.19.0.11:"), before.addresses.join());
    const unchanged = () => {
      const now = bob.node.contacts.get(alicePub)!;
      assert.equal(now.recordSeq, 2);
      assert.deepEqual(now.addresses, before.addresses);
    };
    const trap = ["127.19.0.66:7022"];
    const malSigner = mallory.node.signer;
    // Mallory's node stays out of it: her raw session would replace its session with bob.
    await mallory.stop();
    const forged = await forgedRecord(alicePub, malSigner, 9, trap);
    const mals = await signRecord(malSigner, { seq: 9, time: Date.now(), addresses: trap });
    // What bob drops from alice herself from here on (a holder may still serve him an old copy).
    const n0 = bob.events.length;
    const drops = () =>
      bob.events.slice(n0).filter((e) => e.type === "record-dropped" && e.from === "alice");

    // 1. Pushed directly (addr.mine), on a session that authenticated as alice:
    {
      using s = await rawSession(alice2, bob);
      // a record for alice signed by mallory,
      await assert.rejects(
        () => s.rpc.request("addr.mine", { record: encodeB64(forged) }),
        (e) => isRojError(e, "bad_signature"),
      );
      // mallory's own, well-signed record,
      await assert.rejects(
        () => s.rpc.request("addr.mine", { record: encodeB64(mals.packed) }),
        (e) => isRojError(e, "refused"),
      );
      // and alice's own old record 1, replayed.
      await s.rpc.request("addr.mine", { record: encodeB64(old) });
      // Each said before its answer: the forged one, mallory's, and the replay (seq 1, have 2).
      const said = { type: "record-dropped", peer: "alice", fingerprint: fingerprintOf(alicePub) };
      assert.deepEqual(drops(), [
        { ...said, from: "alice", reason: "bad-signature" },
        { ...said, from: "alice", reason: "not-theirs" },
        { ...said, from: "alice", reason: "old", seq: 1, have: 2 },
      ]);
      unchanged();
    }
    // ...and on mallory's own session: a perfectly good record, but alice's.
    {
      using s = await rawSession(mallory, bob);
      await assert.rejects(
        () => s.rpc.request("addr.mine", { record: encodeB64(old) }),
        (e) => isRojError(e, "refused"),
      );
      unchanged();
    }

    // 2. Sealed under the tag alice and bob share, handed to carol (addr.put);
    //    carol tells bob, who is waiting for alice and asks, and drops each.
    await until(
      async () =>
        (await bob.node.call("peers", {})).every((p) =>
          p.name !== "alice" || p.state !== "connected"
        ),
      5000,
      "raw session gone",
    );
    const pair = pairwise(alice2.node.profile.keyPair)(bob.node.publicKey);
    const tag = encodeB64(pair.tag(alicePub));
    const sealed = (packed: Uint8Array) => encodeB64(pair.seal(alicePub, packed));
    // What bob says of each copy: the reason, with the seqs of an old one.
    const copies: Array<[string, string, Record<string, unknown>]> = [
      ["replayed record 1", sealed(old), { reason: "old", seq: 1, have: 2 }],
      ["random bytes", encodeB64(crypto.getRandomValues(new Uint8Array(200))), {
        reason: "undecryptable",
      }],
      [
        "alice's record signed by mallory",
        sealed(await forgedRecord(alicePub, malSigner, 99, trap)),
        {
          reason: "bad-signature",
        },
      ],
      [
        "mallory's record",
        sealed(
          (await signRecord(malSigner, { seq: 99, time: Date.now(), addresses: trap })).packed,
        ),
        { reason: "not-theirs" },
      ],
    ];
    {
      using s = await rawSession(alice2, carol);
      for (const [what, blob, expect] of copies) {
        const n = bob.events.length;
        const res = await s.rpc.request("addr.put", { items: [{ t: tag, b: blob }] });
        assert.equal(res.stored, 1, what);
        const got = await bob.waitFor((e) => e.type === "record-dropped", 10_000, n);
        assert.deepEqual(got, {
          type: "record-dropped",
          peer: "alice",
          fingerprint: fingerprintOf(alicePub),
          from: "carol",
          ...expect,
        }, what);
        unchanged();
      }
    }
    // Nothing bob did or learnt names the trap: no record, dial or session.
    const trapped = bob.events.filter((e) =>
      e.type !== "log" && JSON.stringify(e).includes("127.19.0.66")
    );
    assert.deepEqual(trapped, []);
    assert.ok(
      (await bob.node.call("peers", {})).some((p) => p.name === "alice" && p.state !== "connected"),
    );

    // And alice's real next record still gets through (the slot at carol is hers).
    await using alice3 = await startTestNode("alice", { host: "127.19.0.21", dir: alice1.dir });
    await until(() => bob.node.contacts.get(alicePub)!.recordSeq === 3, 10_000, "bob has record 3");
    await until(
      async () =>
        (await bob.node.call("peers", {})).some((p) =>
          p.name === "alice" && p.state === "connected"
        ),
      10_000,
      "bob reaches alice again",
    );
    assert.ok(alice3.node.address!.host === "127.19.0.21");
  } finally {
    await alice1.stop();
    await alice2?.stop();
    await Deno.remove(alice1.dir, { recursive: true }).catch(() => {});
  }
});

/** "tag/uploader" → stored-at, of the sealed copies in a store. */
async function sealedIn(kv: Deno.Kv): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of kv.list<{ at: number }>({ prefix: keys.sealedAll() })) {
    out.set(`${String(e.key[1])}/${String(e.key[2])}`, e.value.at);
  }
  return out;
}

Deno.test("cascade: an anchor restarted in the middle of a move loses no sealed record, and members still come back through it", async () => {
  const seed = testSeed("cascade (f)");
  await using hive = await startHive({
    seed,
    nodes: 12,
    anchors: 1,
    degree: 4,
    hostBase: "127.17",
  });
  const anchor = hive.anchors[0]!;
  const records0 = (await anchor.node!.call("status", {})).records!;
  const held0 = await sealedIn(anchor.node!.profile.store.kv);
  assert.equal(held0.size, records0);

  await hive.move("all", "127.18");
  // Mid-cascade: as soon as a member is back with the anchor, kill it.
  await until(
    async () => ((await anchor.node!.call("status", {})).sessions ?? 0) > 0,
    10_000,
    "a member back",
  );
  const connectedAtKill = (await hive.connectedPairs()).length;
  // The members whose last word of the anchor was a session up: each sees it go.
  const withAnchor = hive.persons.filter((p) => {
    const last = hive.events(p.index).filter((e) => e.type === "session" && e.peer === anchor.name)
      .at(-1);
    return last?.type === "session" && last.state === "up";
  });
  const killedAt = marks(hive);
  await hive.stop([anchor.index]);
  const t0 = performance.now();

  // Everything it held before is still in its store, at least as new.
  const store = await openStore(dataPaths(anchor.dir).store);
  const held1 = await sealedIn(store.kv);
  store.close();
  for (const [tag, at] of held0) assert.ok((held1.get(tag) ?? -1) >= at, `lost ${tag}`);
  const fresh = [...held1].filter(([tag, at]) => at > held0.get(tag)!).length;

  for (const p of withAnchor) {
    await hive.waitFor(
      p.index,
      (e) => e.type === "session" && e.state === "down" && e.peer === anchor.name,
      10_000,
      killedAt[p.index],
    );
  }
  await hive.start([anchor.index], { samePort: true });
  const records1 = (await anchor.node!.call("status", {})).records!;
  assert.ok(records1 >= records0, `${records1} < ${records0}`);
  hive.resetStats();
  await logsOnFailure(hive, () => hive.waitConnected(20_000));
  console.log(
    `  anchor held ${records0} records, killed with ${connectedAtKill} of ${hive.edges.length} pairs up ` +
      `and ${fresh} copies already refreshed; back with ${records1}; all pairs up ${
        (performance.now() - t0).toFixed(0)
      } ms after the kill (${hive.stats.learntViaAnchor} records learnt via the anchor after its restart)`,
  );
  assert.ok(hive.stats.learntViaAnchor > 0);
});
