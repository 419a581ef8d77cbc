/**
 * Introductions with three real nodes on loopback: alice introduces bob and
 * carol (or hands carol a card of bob); both must accept before they become
 * contacts, and neither learns an address of the other before that. Then the
 * first session runs through alice, like a relay, and the addresses follow as
 * between any contacts.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import { isRojError, RojError } from "../node/errors.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { cardBytes, cardText, signCard } from "../node/introductions/mod.ts";
import { keys } from "../node/store/mod.ts";

interface Trio extends AsyncDisposable {
  alice: TestNode;
  bob: TestNode;
  carol: TestNode;
  /** Moves every node's clock forward (ms). */
  skew(ms: number): void;
}

/**
 * alice is a contact of bob and of carol; bob and carol do not know each other.
 * With `hidden`, bob and carol publish an address where nothing listens (as
 * behind NAT): they reach each other only through alice.
 */
async function trio(base: string, options: { hidden?: boolean } = {}): Promise<Trio> {
  let skew = 0;
  const now = () => Date.now() + skew;
  const hide = (host: string) => options.hidden ? { advertise: [`${host}:1`] } : {};
  const alice = await startTestNode("alice", { host: `${base}.2`, now, quic: false });
  const bob = await startTestNode("bob", {
    host: `${base}.3`,
    now,
    quic: false,
    ...hide(`${base}.3`),
  });
  const carol = await startTestNode("carol", {
    host: `${base}.4`,
    now,
    quic: false,
    ...hide(`${base}.4`),
  });
  await befriend(alice, bob);
  await befriend(alice, carol);
  return {
    alice,
    bob,
    carol,
    skew: (ms) => (skew += ms),
    [Symbol.asyncDispose]: async () => {
      for (const n of [carol, bob, alice]) await n[Symbol.asyncDispose]();
    },
  };
}

const intro = (op: string, peer?: string) => (e: NodeEvent) =>
  e.type === "introduction" && e.op === op && (peer === undefined || e.peer === peer);

/** Every value in a node's store and every event it emitted, as text to search. */
async function everythingOf(n: TestNode): Promise<string> {
  const parts: string[] = [];
  const text = (v: unknown): string =>
    JSON.stringify(v, (_k, x) => x instanceof Uint8Array ? new TextDecoder().decode(x) : x);
  for await (const e of n.node.profile.store.kv.list({ prefix: [] })) {
    parts.push(text(e.key), text(e.value));
  }
  for (const e of n.events) parts.push(text(e));
  return parts.join("\n");
}

/** Resolves once the introducer has one side's acceptance of introduction `id`. */
const heardOne = (introducer: TestNode, id: string) =>
  introducer.waitFor((e) => e.type === "introduction" && e.op === "accepted" && e.id === id);

const hostOf = (n: TestNode) => n.node.address!.host;
const contactNames = async (n: TestNode) => (await n.node.call("contacts", {})).map((c) => c.name);

async function refusal(p: Promise<unknown>): Promise<RojError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RojError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

Deno.test("introduce: both accept, they become contacts, the first session runs through alice, then they chat", async () => {
  await using t = await trio("127.0.41", { hidden: true });
  const { alice, bob, carol } = t;
  const made = await alice.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"));
  await carol.waitFor(intro("offered", "bob"));
  const [offered] = await carol.node.call("introductions", {});
  assert.equal(offered?.id, made.id);
  assert.equal(offered?.introducer, "alice");
  assert.equal(offered?.fingerprint, bob.node.fingerprint);
  assert.equal(offered?.state, "pending");

  await carol.node.call("accept", { id: made.id.slice(0, 6) });
  // One acceptance is not enough.
  assert.ok(!(await contactNames(carol)).includes("bob"));
  assert.equal((await carol.node.call("introductions", {}))[0]?.state, "accepted");

  const spliced = alice.events.length;
  await bob.node.call("accept", { id: made.id });
  await bob.waitFor(intro("contacts", "carol"));
  await carol.waitFor(intro("contacts", "bob"));
  // alice heard both, told both, and keeps neither's key in the introduction.
  await alice.waitFor((e) => intro("contacts")(e) && e.type === "introduction" && e.id === made.id);
  const kept = await alice.node.profile.store.kv.get<{ a: unknown; b: unknown }>(
    keys.introMade(made.id),
  );
  assert.deepEqual([kept.value?.a, kept.value?.b], [null, null]);
  const up = await carol.waitFor((e) =>
    e.type === "session" && e.state === "up" && e.peer === "bob"
  );
  assert.ok(up.type === "session" && up.state === "up" && up.via === "alice", "through alice");
  await alice.waitFor((e) => e.type === "relay" && e.state === "spliced", 10_000, spliced);
  assert.deepEqual(await carol.node.call("introductions", {}), []);

  // They chat, and the addresses follow as between any contacts.
  await bob.node.call("send", { chat: "carol", text: "hello carol" });
  await carol.waitFor((e) => e.type === "message" && e.message.body === "hello carol");
  await carol.waitFor((e) => e.type === "record-learnt" && e.peer === "bob");
  await until(
    async () =>
      (await carol.node.call("contacts", {})).find((c) => c.name === "bob")!.addresses
        .some((a) => a.startsWith(hostOf(bob))),
    10_000,
    "carol knows bob's address",
  );
  // Nothing of the card is left on either side: the introduction became a contact.
  const left = await bob.node.profile.store.kv.get<{ person: unknown; card: unknown }>(
    keys.introGot(made.id),
  );
  assert.deepEqual([left.value?.person, left.value?.card], [null, null]);
});

Deno.test("privacy: carol learns no address of bob's before bob accepts", async () => {
  await using t = await trio("127.0.42");
  const { alice, bob, carol } = t;
  const made = await alice.node.call("introduce", { a: "bob", b: "carol" });
  await carol.waitFor(intro("offered", "bob"));
  await carol.node.call("accept", { id: made.id });
  await heardOne(alice, made.id);
  await bob.waitFor(intro("offered", "carol"));
  // bob has not answered: nothing carol holds or was told names where bob is.
  const seen = await everythingOf(carol);
  assert.ok(seen.includes(bob.node.fingerprint), "the card itself is there");
  assert.ok(!seen.includes(hostOf(bob)), "no address of bob's in carol's store or events");
  assert.ok(!(await contactNames(carol)).includes("bob"));
  // Nor can carol reach bob's node: she is no contact of his.
  const err = await refusal(
    dialSsh({
      keyPair: carol.node.profile.keyPair,
      to: bob.node.address!,
      expectedKey: bob.node.publicKey,
      expectedName: "bob",
    }).then((c) => c.close()),
  );
  assert.ok(isRojError(err, "refused"), err.message);
});

Deno.test("decline: nothing is left but the fact that it was declined", async () => {
  await using t = await trio("127.0.43");
  const { alice, bob, carol } = t;
  const made = await alice.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"));
  await carol.waitFor(intro("offered", "bob"));
  await carol.node.call("accept", { id: made.id });
  await bob.node.call("decline", { id: made.id });
  await carol.waitFor(intro("declined"));
  assert.deepEqual(await carol.node.call("introductions", {}), []);
  assert.deepEqual(await bob.node.call("introductions", {}), []);
  assert.ok(!(await contactNames(carol)).includes("bob"));
  assert.ok(!(await contactNames(bob)).includes("carol"));
  const err = await refusal(bob.node.call("accept", { id: made.id }));
  assert.ok(isRojError(err, "refused"), err.message);
  // Only the fact: the id, "declined", when. No key, name or card of the other.
  for (const [n, other] of [[bob, carol], [carol, bob]] as const) {
    const v = (await n.node.profile.store.kv.get<Record<string, unknown>>(keys.introGot(made.id)))
      .value!;
    assert.equal(v.phase, "declined");
    assert.deepEqual([v.person, v.name, v.card], [null, null, null]);
    const stored = await everythingOf(n);
    const events = n.events.filter((e) => e.type === "introduction" && e.op === "declined");
    assert.ok(events.every((e) => e.type === "introduction" && e.peer === undefined));
    assert.ok(!JSON.stringify(v).includes(other.node.fingerprint));
    assert.ok(!stored.includes(hostOf(other)));
  }
  await until(
    async () => {
      const v = await alice.node.profile.store.kv.get<Record<string, unknown>>(
        keys.introMade(made.id),
      );
      return v.value?.phase === "declined" && v.value.a === null && v.value.b === null;
    },
    5000,
    "alice keeps only the fact",
  );
});

Deno.test("expiry: an unanswered introduction expires; whoever accepted is told", async () => {
  await using t = await trio("127.0.44");
  const { alice, bob, carol } = t;
  const made = await alice.node.call("introduce", { a: "bob", b: "carol", expiresIn: 60 });
  await bob.waitFor(intro("offered", "carol"));
  await carol.waitFor(intro("offered", "bob"));
  await carol.node.call("accept", { id: made.id });
  await heardOne(alice, made.id);
  t.skew(61_000);
  assert.deepEqual(await bob.node.call("introductions", {}), []);
  await bob.waitFor(intro("expired"));
  const late = await refusal(bob.node.call("accept", { id: made.id }));
  assert.ok(isRojError(late, "refused"), late.message);
  // alice's sweep (run by any listing) tells carol, who had accepted.
  await alice.node.call("introductions", {});
  await carol.waitFor(intro("expired"));
  assert.deepEqual(await carol.node.call("introductions", {}), []);
  assert.ok(!(await contactNames(carol)).includes("bob"));
  const v = (await bob.node.profile.store.kv.get<Record<string, unknown>>(keys.introGot(made.id)))
    .value!;
  assert.deepEqual([v.phase, v.person, v.card], ["expired", null, null]);
});

/** A raw protocol session as `as` to `to` (a contact of `to`). */
async function rawSession(as: TestNode, to: TestNode) {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: to.node.address!,
    expectedKey: to.node.publicKey,
    expectedName: to.node.name,
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1", "intro"], name: as.node.name },
  });
  await rpc.ready;
  return { rpc, [Symbol.dispose]: () => (rpc.close(), client.close()) };
}

Deno.test("a forged card is refused, on the wire and on import", async () => {
  await using t = await trio("127.0.45");
  const { alice, bob, carol } = t;
  const expires = Date.now() + 3_600_000;
  const id = crypto.getRandomValues(new Uint8Array(16));
  const good = await signCard(alice.node.signer, {
    person: carol.node.publicKey,
    name: "carol",
    expires,
    id,
  });
  // Signed by carol, handed over by alice: not alice's card.
  const byOther = await signCard(carol.node.signer, {
    person: carol.node.publicKey,
    name: "carol",
    expires,
    id,
  });
  const altered = good.slice();
  altered[40] = altered[40]! ^ 1; // inside the payload: a bit of the introducer's key blob
  const renamed = good.slice();
  // The name follows the outer length (4), the magic (4 + 11) and both key blobs (2 × (4 + 51)).
  const NAME_AT = 4 + 15 + 55 + 55 + 4;
  assert.equal(renamed[NAME_AT], 0x63);
  renamed[NAME_AT] = 0x64; // "carol" → "darol"
  // A card text changed by one character, and a card from someone carol does not know.
  const card = await alice.node.call("card", { name: "bob" });
  const bytes = cardBytes(card.text);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 1; // inside the signature
  const forged = await refusal(carol.node.call("card.import", { card: cardText(bytes) }));
  assert.ok(isRojError(forged, "bad_input"), forged.message);
  const stranger = await startTestNode("dave", { host: "127.0.45.5", quic: false });
  try {
    const foreign = await signCard(stranger.node.signer, {
      person: bob.node.publicKey,
      name: "bob",
      expires,
      id,
    });
    const err = await refusal(carol.node.call("card.import", { card: cardText(foreign) }));
    assert.ok(isRojError(err, "refused"), err.message);
  } finally {
    await stranger[Symbol.asyncDispose]();
  }
  assert.deepEqual(await carol.node.call("introductions", {}), []);
  // On the wire, as alice (whose node stops, so that this is her one session with bob).
  await alice.stop();
  {
    using raw = await rawSession(alice, bob);
    for (const card of [altered, renamed, byOther, new Uint8Array([1, 2, 3])]) {
      const err = await refusal(raw.rpc.request("intro.offer", { card: encodeB64(card) }));
      assert.ok(isRojError(err, "bad_input"), err.message);
    }
  }
  assert.deepEqual(await bob.node.call("introductions", {}), []);
});

Deno.test("card: carol imports alice's card of bob; bob accepts; they are contacts", async () => {
  await using t = await trio("127.0.46");
  const { alice, bob, carol } = t;
  const card = await alice.node.call("card", { name: "bob" });
  assert.match(card.text, /^rojcard1:/);
  assert.ok(!card.text.includes(hostOf(bob)));
  const asked = await carol.node.call("card.import", { card: card.text });
  assert.equal(asked.state, "accepted");
  assert.equal(asked.fingerprint, bob.node.fingerprint);
  await bob.waitFor(intro("offered", "carol"));
  assert.ok(!(await everythingOf(carol)).includes(hostOf(bob)), "nothing revealed yet");
  await bob.node.call("accept", { id: asked.id });
  await carol.waitFor(intro("contacts", "bob"));
  await bob.waitFor(intro("contacts", "carol"));
  await bob.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "carol");
  await carol.node.call("send", { chat: "bob", text: "thanks for the card" });
  await bob.waitFor((e) => e.type === "message" && e.message.body === "thanks for the card");
  const again = await refusal(carol.node.call("card.import", { card: card.text }));
  assert.ok(isRojError(again, "exists"), again.message);
});

Deno.test("offline: carol is away when bob accepts; alice tells her when she is back", async () => {
  await using t = await trio("127.0.49");
  const { alice, bob, carol } = t;
  const made = await alice.node.call("introduce", { a: "bob", b: "carol" });
  await carol.waitFor(intro("offered", "bob"));
  await bob.waitFor(intro("offered", "carol"));
  await carol.node.call("accept", { id: made.id });
  await heardOne(alice, made.id);
  await carol.stop();
  await bob.node.call("accept", { id: made.id });
  await bob.waitFor(intro("contacts", "carol"));
  // carol comes back from her folder: her node dials alice, who tells her now.
  await using back = await startTestNode("carol", {
    dir: carol.dir,
    host: hostOf(carol),
    quic: false,
  });
  await back.waitFor(intro("contacts", "bob"), 15_000);
  await back.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "bob", 15_000);
  await bob.node.call("send", { chat: "carol", text: "welcome back" });
  await back.waitFor((e) => e.type === "message" && e.message.body === "welcome back");
});

Deno.test("own card: bob's own card reaches him through the anchor he and carol share", async () => {
  await using hive = await startTestNode("hive", {
    host: "127.0.50.1",
    passive: true,
    quic: false,
  });
  // Both publish an address where nothing listens: they meet only through the anchor.
  const hidden = (host: string) => ({ host, quic: false, advertise: [`${host}:1`] });
  await using bob = await startTestNode("bob", hidden("127.0.50.3"));
  await using carol = await startTestNode("carol", hidden("127.0.50.4"));
  const card = await bob.node.call("card", {});
  assert.equal(card.fingerprint, bob.node.fingerprint);
  // Without an anchor in common there is nobody to carry the request.
  const alone = await refusal(carol.node.call("card.import", { card: card.text }));
  assert.ok(isRojError(alone, "unreachable"), alone.message);
  await joinAnchor(bob, hive);
  await joinAnchor(carol, hive);
  const asked = await carol.node.call("card.import", { card: card.text });
  assert.equal(asked.introducer, "hive");
  const offered = await bob.waitFor(intro("offered", "carol"));
  assert.ok(offered.type === "introduction" && offered.introducer === "hive");
  assert.ok(!(await everythingOf(carol)).includes(hostOf(bob)), "nothing revealed yet");
  await bob.node.call("accept", { id: asked.id });
  await carol.waitFor(intro("contacts", "bob"));
  const up = await bob.waitFor((e) =>
    e.type === "session" && e.state === "up" && e.peer === "carol"
  );
  assert.ok(up.type === "session" && up.state === "up" && up.via === "hive", "through the anchor");
  await carol.node.call("send", { chat: "bob", text: "found you through the hive" });
  await bob.waitFor((e) => e.type === "message" && e.message.body === "found you through the hive");
  // The anchor takes no introduction of its own.
  const refused = await refusal(hive.node.call("introductions", {}));
  assert.ok(isRojError(refused, "refused"), refused.message);
});

Deno.test("an older node that takes no introductions: it ends declined, and the other side is told", async () => {
  await using t = await trio("127.0.51");
  const { alice, bob, carol } = t;
  // bob's node is replaced by a session in his name whose hello lists no "intro".
  await bob.stop();
  const client = await dialSsh({
    keyPair: bob.node.profile.keyPair,
    to: alice.node.address!,
    expectedKey: alice.node.publicKey,
    expectedName: "alice",
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1"], name: "bob" },
  });
  try {
    await rpc.ready;
    await until(
      async () => (await alice.node.call("contacts", {})).some((c) => c.name === "bob" && c.online),
      5000,
      "the old bob is connected",
    );
    // carol is handed bob's card first, then bob's node is found to take none.
    const first = await alice.node.call("introduce", { a: "carol", b: "bob" });
    await carol.waitFor(intro("offered", "bob"));
    await carol.waitFor(intro("declined"));
    assert.deepEqual(await carol.node.call("introductions", {}), []);
    const ended = await alice.node.profile.store.kv.get<{ phase: string }>(
      keys.introMade(first.id),
    );
    assert.equal(ended.value?.phase, "declined");
    // The other way round, carol is never handed a card at all.
    const second = await alice.node.call("introduce", { a: "bob", b: "carol" });
    await until(
      async () => {
        const v = await alice.node.profile.store.kv.get<{ phase: string }>(
          keys.introMade(second.id),
        );
        return v.value?.phase === "declined";
      },
      5000,
      "alice ends it",
    );
    assert.equal(carol.events.filter(intro("offered")).length, 1);
  } finally {
    rpc.close();
    client.close();
  }
});

Deno.test("removing a contact ends the introductions they are part of", async () => {
  await using t = await trio("127.0.52");
  const { alice, bob, carol } = t;
  await alice.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"));
  await carol.waitFor(intro("offered", "bob"));
  // alice removes bob: carol is told it ended.
  await alice.node.call("remove", { name: "bob" });
  await carol.waitFor(intro("declined"));
  assert.deepEqual(await carol.node.call("introductions", {}), []);
  // bob removes alice: what she introduced is gone from his list too.
  assert.equal((await bob.node.call("introductions", {})).length, 1);
  await bob.node.call("remove", { name: "alice" });
  assert.deepEqual(await bob.node.call("introductions", {}), []);
});

Deno.test("a contact's card of bob, its maker offline: it goes through the anchor carol and bob share", async () => {
  await using hive = await startTestNode("hive", {
    host: "127.0.53.1",
    passive: true,
    quic: false,
  });
  await using t = await trio("127.0.53", { hidden: true });
  const { alice, bob, carol } = t;
  await joinAnchor(bob, hive);
  await joinAnchor(carol, hive);
  const card = await alice.node.call("card", { name: "bob" });
  await alice.stop();
  await until(
    async () => !(await carol.node.call("contacts", {})).find((c) => c.name === "alice")!.online,
    5000,
    "carol sees alice gone",
  );
  const asked = await carol.node.call("card.import", { card: card.text });
  assert.equal(asked.introducer, "hive");
  await bob.waitFor(intro("offered", "carol"));
  await bob.node.call("accept", { id: asked.id });
  await carol.waitFor(intro("contacts", "bob"));
  await carol.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "bob");
});

Deno.test("import while the card's maker is offline: queued, kept across a restart, sent once she is back", async () => {
  await using t = await trio("127.0.54");
  const { alice, bob, carol } = t;
  const card = await alice.node.call("card", { name: "bob" });
  const alicePort = alice.node.address!.port;
  const carolPort = carol.node.address!.port;
  await alice.stop();
  await until(
    async () => !(await carol.node.call("contacts", {})).find((c) => c.name === "alice")!.online,
    5000,
    "carol sees alice gone",
  );
  const queued = await carol.node.call("card.import", { card: card.text });
  assert.equal(queued.state, "queued");
  assert.equal(queued.introducer, "alice");
  // Durable: carol restarts, and it is still waiting, under the same id.
  await carol.stop();
  await using carol2 = await startTestNode("carol", {
    host: "127.0.54.4",
    port: carolPort,
    dir: carol.dir,
    quic: false,
  });
  assert.deepEqual(
    (await carol2.node.call("introductions", {})).map((i) => [i.id, i.state]),
    [[queued.id, "queued"]],
  );
  assert.equal(bob.events.filter(intro("offered")).length, 0);
  // alice comes back: the request goes to her, she offers bob a card of carol.
  await using alice2 = await startTestNode("alice", {
    host: "127.0.54.2",
    port: alicePort,
    dir: alice.dir,
    quic: false,
  });
  await bob.waitFor(intro("offered", "carol"), 20_000);
  assert.deepEqual(
    (await carol2.node.call("introductions", {})).map((i) => [i.id, i.state]),
    [[queued.id, "accepted"]],
  );
  await bob.node.call("accept", { id: queued.id });
  await carol2.waitFor(intro("contacts", "bob"), 15_000);
  assert.ok(alice2.node.contacts.byName("carol"));
});
