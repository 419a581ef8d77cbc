/**
 * Introductions made on a person's device (issues 13 and 14 item 2), over
 * real SSH: alice's laptop holds the person key, her phone a certified device
 * key. The phone signs its cards with its own key; bob and carol take them as
 * alice's (the card's key speaks for her: certified, valid, not revoked), and
 * answer on the phone's session, as only the phone knows the introduction.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { isRojError, RojError } from "../node/errors.ts";
import { decodeB64, encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { isCardV2, openCard, signCard } from "../node/introductions/mod.ts";
import { fingerprint } from "../node/identity/mod.ts";
import { toHex } from "../node/wire/mod.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const sessionUp = (peer: string, device?: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer && e.device === device;
const intro = (op: string, peer?: string) => (e: NodeEvent) =>
  e.type === "introduction" && e.op === op && (peer === undefined || e.peer === peer);
const contactNames = async (n: TestNode) => (await n.node.call("contacts", {})).map((c) => c.name);

interface Four extends AsyncDisposable {
  laptop: TestNode;
  phone: TestNode;
  bob: TestNode;
  carol: TestNode;
  /** The phone's key's fingerprint (what bob's session events name it by). */
  phoneFp: string;
}

/** alice (laptop and phone) is a contact of bob and of carol, and both hold a session with her phone. */
async function four(base: string): Promise<Four> {
  const tmp = await tempDir();
  const laptop = await startTestNode("alice", { host: `${base}.2`, quic: false });
  const bob = await startTestNode("bob", { host: `${base}.3`, quic: false });
  const carol = await startTestNode("carol", { host: `${base}.4`, quic: false });
  await befriend(laptop, bob);
  await befriend(laptop, carol);
  const dir = `${tmp.path}/phone`;
  const joined = await joinPerson(dir, (await laptop.node.call("device.link", {})).text, {
    name: "phone",
  });
  const phone = await startTestNode("alice", { host: `${base}.5`, dir, quic: false });
  await phone.waitFor(ownUp, 15_000);
  await bob.waitFor(sessionUp("alice", joined.fingerprint), 20_000);
  await carol.waitFor(sessionUp("alice", joined.fingerprint), 20_000);
  await until(async () => (await contactNames(phone)).length === 2, 10_000, "contacts synced");
  return {
    laptop,
    phone,
    bob,
    carol,
    phoneFp: joined.fingerprint,
    [Symbol.asyncDispose]: async () => {
      for (const n of [phone, carol, bob, laptop]) await n[Symbol.asyncDispose]();
      await tmp[Symbol.asyncDispose]();
    },
  };
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

Deno.test("introduced on alice's phone: bob and carol see alice introduce them, accept, and chat", async () => {
  await using f = await four("127.0.93");
  const { phone, bob, carol } = f;
  const made = await phone.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"), 15_000);
  await carol.waitFor(intro("offered", "bob"), 15_000);
  const [offered] = await carol.node.call("introductions", {});
  assert.equal(offered?.id, made.id);
  assert.equal(offered?.introducer, "alice", "alice introduces, not an unknown key");
  assert.equal(offered?.fingerprint, bob.node.fingerprint);
  await carol.node.call("accept", { id: made.id });
  await bob.node.call("accept", { id: made.id });
  await bob.waitFor(intro("contacts", "carol"), 15_000);
  await carol.waitFor(intro("contacts", "bob"), 15_000);
  await phone.waitFor((e) => intro("contacts")(e) && e.type === "introduction" && e.id === made.id);
  await until(
    async () =>
      (await bob.node.call("contacts", {})).find((c) => c.name === "carol")?.online === true,
    20_000,
    "bob reaches carol",
  );
  await bob.node.call("send", { chat: "carol", text: "hello from bob" });
  await carol.waitFor((e) => e.type === "message" && e.message.body === "hello from bob", 15_000);
});

Deno.test("introduced on alice's phone: a decline ends it for both; once revoked, the phone's cards are refused", async () => {
  await using f = await four("127.0.94");
  const { laptop, phone, bob, carol } = f;
  const made = await phone.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"), 15_000);
  await carol.waitFor(intro("offered", "bob"), 15_000);
  // carol's yes reaches the phone first (so it knows she holds the card, and tells her the end).
  await carol.node.call("accept", { id: made.id });
  await phone.waitFor((e) =>
    intro("accepted", "carol")(e) && e.type === "introduction" && e.id === made.id
  );
  await bob.node.call("decline", { id: made.id });
  await carol.waitFor((e) => intro("declined")(e) && e.type === "introduction" && e.id === made.id);
  await phone.waitFor((e) => intro("declined")(e) && e.type === "introduction" && e.id === made.id);
  assert.deepEqual(await carol.node.call("introductions", {}), []);
  assert.ok(!(await contactNames(carol)).includes("bob"));

  // One more, open when the phone is revoked: it ends, as the phone speaks for alice no more.
  const open = await phone.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor((e) => intro("offered")(e) && e.type === "introduction" && e.id === open.id);
  await bob.node.call("accept", { id: open.id });
  // Revoked: bob knows, and a card the phone signs is no longer alice's, whoever hands it over.
  await laptop.node.call("device.remove", { name: "phone" });
  await bob.waitFor((e) => e.type === "device" && e.op === "revoked", 15_000);
  await until(async () => (await bob.node.call("introductions", {})).length === 0, 10_000, "ended");
  await bob.waitFor((e) => intro("declined")(e) && e.type === "introduction" && e.id === open.id);
  await phone.stop();
  await laptop.stop();
  const card = (signer: typeof phone.node.signer) =>
    signCard(signer, {
      person: carol.node.publicKey,
      name: "carol",
      expires: Date.now() + 3_600_000,
      id: crypto.getRandomValues(new Uint8Array(16)),
    });
  const client = await dialSsh({
    keyPair: laptop.node.profile.keyPair,
    to: bob.node.address!,
    expectedKey: bob.node.publicKey,
    expectedName: bob.node.name,
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1", "intro"], name: "alice" },
  });
  try {
    await rpc.ready;
    const fromPhone = await card(phone.node.signer);
    const err = await refusal(rpc.request("intro.offer", { card: encodeB64(fromPhone) }));
    assert.ok(isRojError(err, "bad_input"), err.message);
    assert.deepEqual(await bob.node.call("introductions", {}), []);
    // The same session takes a card signed by alice's person key.
    await rpc.request("intro.offer", { card: encodeB64(await card(laptop.node.signer)) });
    assert.equal((await bob.node.call("introductions", {})).length, 1);
  } finally {
    rpc.close();
    client.close();
  }
});

Deno.test("a card made on alice's phone: carol imports it as alice's, bob accepts, they are contacts", async () => {
  await using f = await four("127.0.95");
  const { phone, bob, carol } = f;
  const card = await phone.node.call("card", { name: "bob" });
  const asked = await carol.node.call("card.import", { card: card.text });
  assert.equal(asked.introducer, "alice");
  assert.equal(asked.fingerprint, bob.node.fingerprint);
  await bob.waitFor(intro("offered", "carol"), 15_000);
  assert.equal((await bob.node.call("introductions", {}))[0]?.introducer, "alice");
  await bob.node.call("accept", { id: asked.id });
  await carol.waitFor(intro("contacts", "bob"), 15_000);
  await bob.waitFor(intro("contacts", "carol"), 15_000);
});

Deno.test("introduced on alice's laptop while her phone is bob's and carol's primary session: answers reach the laptop", async () => {
  await using f = await four("127.0.96");
  const { laptop, bob, carol } = f;
  // The laptop's sessions end and come back: the phone's, kept meanwhile, stay the primary ones.
  await laptop.stop();
  await using back = await startTestNode("alice", {
    host: "127.0.96.2",
    dir: laptop.dir,
    quic: false,
  });
  const from = [bob.events.length, carol.events.length];
  await bob.waitFor(sessionUp("alice"), 20_000, from[0]);
  await carol.waitFor(sessionUp("alice"), 20_000, from[1]);
  const made = await back.node.call("introduce", { a: "bob", b: "carol" });
  await bob.waitFor(intro("offered", "carol"), 15_000);
  await carol.waitFor(intro("offered", "bob"), 15_000);
  await bob.node.call("accept", { id: made.id });
  await carol.node.call("accept", { id: made.id });
  await bob.waitFor(intro("contacts", "carol"), 15_000);
  await carol.waitFor(intro("contacts", "bob"), 15_000);
});

Deno.test("bob introduces alice to dave: the node of hers that took it is told, though her other one is bob's primary session", async () => {
  await using f = await four("127.0.97");
  const { laptop, phone, bob } = f;
  await using dave = await startTestNode("dave", { host: "127.0.97.6", quic: false });
  await befriend(bob, dave);
  // The offer goes to alice's primary session at bob, whichever of her nodes that is.
  const made = await bob.node.call("introduce", { a: "alice", b: "dave" });
  const offered = intro("offered", "dave");
  const holder = await Promise.any(
    [laptop, phone].map(async (n) => (await n.waitFor(offered, 15_000), n)),
  );
  // It goes away and comes back: her other node is bob's primary session meanwhile.
  const from = bob.events.length;
  await holder.stop();
  await using back = await startTestNode("alice", {
    host: holder === laptop ? "127.0.97.2" : "127.0.97.5",
    dir: holder.dir,
    quic: false,
  });
  await bob.waitFor(sessionUp("alice", holder === laptop ? undefined : f.phoneFp), 20_000, from);
  await back.node.call("accept", { id: made.id });
  await dave.waitFor(intro("offered", "alice"), 15_000);
  await dave.node.call("accept", { id: made.id });
  await back.waitFor(intro("contacts", "dave"), 15_000);
  await dave.waitFor(intro("contacts", "alice"), 15_000);
});

Deno.test("bob introduces alice: both her nodes hold it; she accepts on one, or declines on the other", async () => {
  await using f = await four("127.0.98");
  const { laptop, phone, bob } = f;
  await using dave = await startTestNode("dave", { host: "127.0.98.6", quic: false });
  await using erin = await startTestNode("erin", { host: "127.0.98.7", quic: false });
  await befriend(bob, dave);
  await befriend(bob, erin);
  const met = await bob.node.call("introduce", { a: "alice", b: "dave" });
  await laptop.waitFor(intro("offered", "dave"), 15_000);
  await phone.waitFor(intro("offered", "dave"), 15_000);
  // Accepted on the phone: dave and alice are contacts, and the laptop's copy is done with.
  await phone.node.call("accept", { id: met.id });
  await dave.waitFor(intro("offered", "alice"), 15_000);
  await dave.node.call("accept", { id: met.id });
  await phone.waitFor(intro("contacts", "dave"), 15_000);
  await dave.waitFor(intro("contacts", "alice"), 15_000);
  await until(async () => (await contactNames(laptop)).includes("dave"), 15_000, "dave synced");
  await until(
    async () => (await laptop.node.call("introductions", {})).length === 0,
    10_000,
    "done",
  );

  // Declined on the laptop: the phone's copy ends, and erin is told.
  const no = await bob.node.call("introduce", { a: "alice", b: "erin" });
  const declined = (e: NodeEvent) =>
    intro("declined")(e) && e.type === "introduction" && e.id === no.id;
  await laptop.waitFor(intro("offered", "erin"), 15_000);
  await phone.waitFor(intro("offered", "erin"), 15_000);
  await erin.waitFor(intro("offered", "alice"), 15_000);
  await erin.node.call("accept", { id: no.id });
  await bob.waitFor((e) =>
    intro("accepted", "erin")(e) && e.type === "introduction" && e.id === no.id
  );
  await laptop.node.call("decline", { id: no.id });
  await phone.waitFor(declined, 15_000);
  await erin.waitFor(declined, 15_000);
  assert.deepEqual(await phone.node.call("introductions", {}), []);
  assert.ok(!(await contactNames(phone)).includes("erin"));
});

Deno.test("bob introduces alice while her phone is away: the phone gets its copy when it is back, and accepts there", async () => {
  await using f = await four("127.0.99");
  const { phone, bob } = f;
  await using dave = await startTestNode("dave", { host: "127.0.99.6", quic: false });
  await befriend(bob, dave);
  await phone.stop();
  const made = await bob.node.call("introduce", { a: "alice", b: "dave" });
  await f.laptop.waitFor(intro("offered", "dave"), 15_000);
  await using back = await startTestNode("alice", {
    host: "127.0.99.5",
    dir: phone.dir,
    quic: false,
  });
  await back.waitFor(intro("offered", "dave"), 20_000);
  await back.node.call("accept", { id: made.id });
  await dave.waitFor(intro("offered", "alice"), 15_000);
  await dave.node.call("accept", { id: made.id });
  await back.waitFor(intro("contacts", "dave"), 15_000);
  await dave.waitFor(intro("contacts", "alice"), 15_000);
});

Deno.test("a card made on alice's phone reaches carol, who never met the phone: v2, she imports it, bob accepts, they chat", async () => {
  const tmp = await tempDir();
  await using laptop = await startTestNode("alice", { host: "127.0.92.2", quic: false });
  await using bob = await startTestNode("bob", { host: "127.0.92.3", quic: false });
  await befriend(laptop, bob);
  const dir = `${tmp.path}/phone`;
  await joinPerson(dir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
  const phone = await startTestNode("alice", { host: "127.0.92.5", dir, quic: false });
  try {
    await phone.waitFor(ownUp, 15_000);
    await until(async () => (await contactNames(phone)).includes("bob"), 10_000, "bob synced");
    // Signed on the phone: the card carries the phone's certificate, so it is a v2 card.
    const card = await phone.node.call("card", { name: "bob" });
    assert.match(card.text, /^rojcard2:/);
    await phone.stop();
    // carol meets alice's laptop only; the phone is gone before she could meet it.
    await using carol = await startTestNode("carol", { host: "127.0.92.4", quic: false });
    await befriend(laptop, carol);
    const asked = await carol.node.call("card.import", { card: card.text });
    assert.equal(asked.introducer, "alice", "the phone's card is alice's, by its certificate");
    assert.equal(asked.fingerprint, bob.node.fingerprint);
    await bob.waitFor(intro("offered", "carol"), 15_000);
    await bob.node.call("accept", { id: asked.id });
    await carol.waitFor(intro("contacts", "bob"), 15_000);
    await bob.waitFor(intro("contacts", "carol"), 15_000);
    await until(
      async () =>
        (await bob.node.call("contacts", {})).find((c) => c.name === "carol")?.online === true,
      20_000,
      "bob reaches carol",
    );
    await bob.node.call("send", { chat: "carol", text: "hello carol" });
    await carol.waitFor((e) => e.type === "message" && e.message.body === "hello carol", 15_000);
  } finally {
    await phone[Symbol.asyncDispose]();
    await tmp[Symbol.asyncDispose]();
  }
});

Deno.test("introduced on alice's phone: a contact without intro2 is handed a v1 card (the phone's key), one with it a v2 card", async () => {
  await using f = await four("127.0.91");
  const { phone, bob, carol } = f;
  // bob as an older node: his key, a hello without intro2; it keeps the cards it is handed.
  await bob.stop();
  const client = await dialSsh({
    keyPair: bob.node.profile.keyPair,
    to: phone.node.address!,
    expectedKey: phone.node.publicKey,
    expectedName: "alice's phone",
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: ["sync1", "intro"], name: "bob" },
  });
  const handed: Uint8Array[] = [];
  rpc.handle("intro.offer", (p) => {
    handed.push(decodeB64(p.card));
    return Promise.resolve({});
  });
  try {
    await rpc.ready;
    await until(
      async () =>
        (await phone.node.call("contacts", {})).find((c) => c.name === "bob")?.online === true,
      15_000,
      "the phone holds bob's session",
    );
    const made = await phone.node.call("introduce", { a: "bob", b: "carol" });
    await carol.waitFor(intro("offered", "bob"), 15_000);
    await until(() => Promise.resolve(handed.length > 0), 15_000, "bob is handed a card");
    const old = handed[0]!;
    assert.ok(!isCardV2(old), "bob does not list intro2: a v1 card");
    const opened = await openCard(old, Date.now());
    assert.equal(toHex(opened.id), made.id);
    assert.equal(opened.by, undefined);
    assert.equal(fingerprint(opened.introducer), f.phoneFp, "signed by the phone's own key");
    // carol lists intro2: her card (of bob, signed on the phone) is v2, and she took it as alice's.
    const [offered] = await carol.node.call("introductions", {});
    assert.equal(offered?.introducer, "alice");
  } finally {
    rpc.close();
    client.close();
  }
});
