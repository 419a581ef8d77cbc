/**
 * Direct chats under adverse conditions, with real nodes over real SSH:
 * offline catch-up, strangers, impostors at old addresses, hostile frames.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { isRojError } from "../node/errors.ts";
import { generateKeyPair } from "../node/identity/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { encodeFrame, MAX_FRAME } from "../node/protocol/mod.ts";

Deno.test("offline catch-up: 1,000 messages written while bob was away arrive in order", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b = await startTestNode("bob", { host: "127.0.0.3" });
  try {
    await befriend(a, b);
    const port = b.node.address!.port;
    await b.stop();
    await until(async () => !(await a.node.call("contacts", {}))[0]!.online, 5000, "bob offline");
    for (let i = 0; i < 1000; i++) await a.node.call("send", { chat: "bob", text: `m${i}` });
    assert.ok((await a.node.call("read", { chat: "bob", last: 1 }))[0]!.state === "stored");

    // Bob comes back at the same address; he dials alice himself on start.
    await using b2 = await startTestNode("bob", { host: "127.0.0.3", port, dir: b.dir });
    await until(
      async () => (await b2.node.call("read", { chat: "alice", markRead: false })).length === 1000,
      20_000,
      "catch-up",
    );
    const got = await b2.node.call("read", { chat: "alice" });
    assert.deepEqual(got.map((m) => m.body), Array.from({ length: 1000 }, (_, i) => `m${i}`));
    await until(
      async () => (await a.node.call("read", { chat: "bob", last: 1 }))[0]!.state !== "stored", // delivered, or read
      5000,
      "delivered",
    );

    // And the other direction, after bob's return.
    await b2.node.call("send", { chat: "alice", text: "back" });
    await a.waitFor((e) => e.type === "message" && e.message.body === "back");
  } finally {
    await b.stop();
    await Deno.remove(b.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a stranger's key is refused at SSH authentication", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const stranger = await generateKeyPair("mallory");
  await assert.rejects(
    () =>
      dialSsh({
        keyPair: stranger,
        to: a.node.address!,
        expectedKey: a.node.publicKey,
        expectedName: "alice",
        timeoutMs: 3000,
      }),
    (e) => isRojError(e, "refused"),
  );
  // Not with a made-up invite nonce either.
  await assert.rejects(
    () =>
      dialSsh({
        keyPair: stranger,
        to: a.node.address!,
        expectedKey: a.node.publicKey,
        expectedName: "alice",
        username: `invite-${"0".repeat(32)}`,
        timeoutMs: 3000,
      }),
    (e) => isRojError(e, "refused"),
  );
});

Deno.test("a node at a contact's old address with another key is refused, and nothing is sent", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const port = b.node.address!.port;
  await b.stop();
  await using m = await startTestNode("mallory", { host: "127.0.0.3", port });
  await a.node.call("send", { chat: "bob", text: "for bob only" });
  const err = await dialSsh({
    keyPair: a.node.profile.keyPair,
    to: { host: "127.0.0.3", port },
    expectedKey: b.node.publicKey,
    expectedName: "bob",
    timeoutMs: 3000,
  })
    .then(() => null, (e) => e);
  assert.ok(isRojError(err, "protocol"), String(err));
  assert.equal(
    err.message,
    `127.0.0.3:${port} answered with key ${m.node.fingerprint} which is not bob`,
  );
  // Alice's own redials fail the same way (another key answered, before any login), and
  // mallory never hears anything: no session, contact or message.
  await a.waitFor(
    (e) =>
      e.type === "dial-failed" && e.peer === "bob" && e.address === `127.0.0.3:${port}` &&
      e.stage === "ssh" && e.code === "protocol",
    10_000,
  );
  assert.deepEqual(
    m.events.filter((e) => e.type === "session" || e.type === "contact" || e.type === "message"),
    [],
  );
  await Deno.remove(b.dir, { recursive: true }).catch(() => {});
});

Deno.test("random, oversized and invalid frames close that session only; the node still serves a contact", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(a, c);
  const hostile: Uint8Array[] = [
    crypto.getRandomValues(new Uint8Array(4096)),
    (() => {
      const f = new Uint8Array(8);
      new DataView(f.buffer).setUint32(0, MAX_FRAME + 1);
      return f;
    })(),
    encodeFrame({ t: "req", id: 1, m: "sync.push", p: { chat: "x", entries: [] } }), // before hello
    new Uint8Array([
      ...encodeFrame({ t: "hello", v: 1, features: [], name: "c" }),
      ...encodeFrame({ t: "req", id: "x" } as never),
    ]),
    new Uint8Array([
      ...encodeFrame({ t: "hello", v: 1, features: [], name: "c" }),
      0,
      0,
      0,
      5,
      1,
      2,
      3,
      4,
      5,
    ]),
  ];
  for (const bytes of hostile) {
    const client = await dialSsh({
      keyPair: c.node.profile.keyPair,
      to: a.node.address!,
      expectedKey: a.node.publicKey,
      expectedName: "alice",
      localAddress: "127.0.0.4",
    });
    const pipe = await client.openRoj();
    const closed = new Promise<void>((r) => pipe.onClose(() => r()));
    pipe.send(bytes);
    await closed;
    client.close();
  }
  // A push of forged entries into the shared chat is refused and stores nothing.
  const before = (await a.node.call("read", { chat: "carol", markRead: false })).length;
  await a.node.call("send", { chat: "bob", text: "still here" });
  await b.waitFor((e) => e.type === "message" && e.message.body === "still here");
  assert.equal((await a.node.call("read", { chat: "carol", markRead: false })).length, before);
});
