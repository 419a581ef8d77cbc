/**
 * A contact sees one person (issue 13, step 2), over real SSH: alice links a
 * phone; the phone starts with her contacts (a copy made at linking), dials
 * bob with its own key as a device of alice's, and bob keeps the session as
 * alice's once the certificate in its hello checked out. A device whose
 * certificate another key signed, or which shows none, is refused before
 * anything is served; the laptop keeps working with bob as before.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import { certifyDevice } from "../node/devices/mod.ts";
import { createSigner, fingerprint, generateKeyPair } from "../node/identity/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh, parseEndpoint } from "../node/transport/mod.ts";
import { toHex } from "../node/log/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { startAdmin } from "../routes/mod.ts";

const sessionUp = (peer: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer;

async function bobAddress(b: TestNode): Promise<string> {
  return (await b.node.call("status", {})).listen[0]!;
}

Deno.test("bob keeps a session from alice's phone as alice's; the laptop works as before", async () => {
  await using tmp = await tempDir();
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  let laptopUp = true;
  try {
    await befriend(a, b);
    // The laptop and bob, as before devices: a message each way.
    await a.node.call("send", { chat: "bob", text: "from the laptop" });
    await until(async () => (await b.node.call("read", { chat: "alice" })).length === 1);

    const code = await a.node.call("device.link", {});
    const phoneDir = `${tmp.path}/phone`;
    const joined = await joinPerson(phoneDir, code.text, { name: "phone" });
    assert.equal(joined.person, "alice");
    // Bob's session goes to the laptop or the phone, one at a time: stop the laptop.
    await a.stop();
    laptopUp = false;

    const from = b.events.length;
    await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
    // The phone starts with alice's contacts: bob, at his address.
    const contacts = await phone.node.call("contacts", {});
    assert.deepEqual(contacts.map((c) => c.name), ["bob"]);
    const up = await b.waitFor(sessionUp("alice"), 15_000, from) as NodeEvent & {
      type: "session";
    };
    assert.equal(up.fingerprint, a.node.fingerprint, "bob sees alice's key, not the phone's");
    const accepted = await b.waitFor((e) => e.type === "device" && e.op === "accepted", 5000, from);
    assert.equal((accepted as NodeEvent & { type: "device" }).fingerprint, joined.fingerprint);
    await phone.waitFor(sessionUp("bob"));
    const bobSees = await b.node.call("contacts", {});
    assert.deepEqual(bobSees.map((c) => [c.name, c.online]), [["alice", true]]);

    // The phone writes in alice's chat with bob, signed by its own key: bob shows it as alice's,
    // beside the laptop's message, with the phone's fingerprint as its author's.
    await phone.node.call("send", { chat: "bob", text: "from the phone" });
    await until(async () => (await b.node.call("read", { chat: "alice" })).length === 2);
    // (In Lamport order, which the phone counted without the laptop's entries: either first.)
    const atBob = await b.node.call("read", { chat: "alice" });
    const byText = new Map(atBob.map((m) => [m.body, m]));
    assert.equal(byText.get("from the phone")?.author, "alice");
    assert.equal(byText.get("from the phone")?.authorFingerprint, joined.fingerprint);
    assert.equal(byText.get("from the laptop")?.author, "alice");
    assert.equal(byText.get("from the laptop")?.authorFingerprint, a.node.fingerprint);
    // Which of alice's devices wrote it: the phone's certificate names it; the laptop's key none.
    assert.equal(byText.get("from the phone")?.device, "phone");
    assert.equal(byText.get("from the laptop")?.device, undefined);
    // And bob's admin shows it beside the author.
    const admin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
    try {
      const signIn = await fetch(admin.url, { redirect: "manual" });
      await signIn.body?.cancel();
      const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
      const page = await (await fetch(`${admin.origin}/chats/alice`, { headers: { cookie } }))
        .text();
      assert.match(
        page,
        /<span class="device muted" data-device="phone">on phone<\/span>/,
      );
      assert.equal(
        page.match(/data-device=/g)?.length,
        1,
        "only the phone's message names a device",
      );
    } finally {
      await admin.close();
    }
    // And bob's answer reaches the phone, in the same chat.
    await b.node.call("send", { chat: "alice", text: "hi phone" });
    await until(async () =>
      (await phone.node.call("read", { chat: "bob" })).some((m) => m.body === "hi phone")
    );
    // Bob, a member, also handed the phone what the laptop had written there.
    const atPhone = await phone.node.call("read", { chat: "bob" });
    const fromLaptop = atPhone.find((m) => m.body === "from the laptop");
    assert.equal(fromLaptop?.author, "alice", JSON.stringify(atPhone));
    assert.equal(fromLaptop?.authorFingerprint, a.node.fingerprint);
  } finally {
    if (laptopUp) await a.stop();
    await Deno.remove(a.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("bob refuses a 'device of alice' whose certificate is not alice's, or that shows none", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  // (While alice's laptop holds bob's session with her, any device of hers is refused at login.)
  await a.stop();
  const to = parseEndpoint(await bobAddress(b));
  const impostor = await generateKeyPair("impostor");
  const mallory = await createSigner(await generateKeyPair("mallory"));
  const now = Date.now();
  const forged = await certifyDevice(mallory, {
    deviceKey: impostor.publicKey,
    name: "phone",
    validFrom: now - 60_000,
    validUntil: now + 3_600_000,
    serial: 1n,
    nonce: new Uint8Array(32),
  });
  const attempt = async (cert: Uint8Array | undefined) => {
    const from = b.events.length;
    const client = await dialSsh({
      keyPair: impostor,
      to,
      expectedKey: b.node.publicKey,
      expectedName: "bob",
      username: `dev-${toHex(a.node.publicKey)}`,
    });
    try {
      const rpc = new RpcSession(await client.openRoj(), {
        hello: { features: [], name: "alice", ...(cert ? { cert: encodeB64(cert) } : {}) },
      });
      // Asked in the same flight as the hello: never served.
      const asked = rpc.request("sync.heads", { chat: "x" }).then(() => "served", () => "refused");
      const refused = await b.waitFor(
        (e) => e.type === "device" && e.op === "refused",
        5000,
        from,
      ) as NodeEvent & { type: "device" };
      assert.equal(refused.fingerprint, fingerprint(impostor.publicKey));
      assert.equal(await asked, "refused");
      assert.ok(!b.events.slice(from).some(sessionUp("alice")), "no session was kept");
      return refused.reason;
    } finally {
      client.close();
    }
  };
  assert.match((await attempt(forged.blob))!, /certificate/);
  assert.match((await attempt(undefined))!, /no certificate/);
});

Deno.test("roj device remove: bob takes alice's revocation and keeps it across a restart; the phone is refused after it", async () => {
  await using tmp = await tempDir();
  const a1 = await startTestNode("alice", { host: "127.0.0.2" });
  const b1 = await startTestNode("bob", { host: "127.0.0.3" });
  const phoneDir = `${tmp.path}/phone`;
  let joinedFp: string;
  try {
    await befriend(a1, b1);
    joinedFp = (await joinPerson(phoneDir, (await a1.node.call("device.link", {})).text, {
      name: "phone",
    })).fingerprint;
  } finally {
    await a1.stop();
  }
  const bobDir = b1.dir;
  try {
    {
      await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
      await b1.waitFor((e) => e.type === "device" && e.op === "accepted");
      await phone.waitFor(sessionUp("bob"));
      // The laptop comes back and removes the phone while bob has it up as alice.
      const from = b1.events.length;
      await using a = await startTestNode("alice", { host: "127.0.0.2", dir: a1.dir });
      const ctl = await serveControl(controlSocketPath(a.dir), a.node);
      try {
        const r = await cliRun(["device", "remove", "phone", "--data", a.dir, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).standing, "revoked");
        const listed = await cliRun(["devices", "--data", a.dir]);
        assert.match(listed.stdout, /^phone +SHA256:\S+ +since .* +revoked +offline\n$/);
      } finally {
        await ctl.close();
      }
      const revoked = await b1.waitFor(
        (e) => e.type === "device" && e.op === "revoked",
        15_000,
        from,
      ) as NodeEvent & { type: "device" };
      assert.equal(revoked.fingerprint, joinedFp);
      await a.stop();
    }
    // Bob restarts: the revocation is kept, and the phone is refused.
    await b1.stop();
    await using b = await startTestNode("bob", { host: "127.0.0.3", dir: bobDir });
    await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
    await phone.node.call("connect", { address: await bobAddress(b) }).catch(() => {});
    const refused = await b.waitFor(
      (e) => e.type === "device" && e.op === "refused",
      15_000,
    ) as NodeEvent & { type: "device" };
    assert.match(refused.reason!, /revoked/);
    assert.ok(!b.events.some(sessionUp("alice")));
  } finally {
    await b1.stop();
    for (const d of [a1.dir, bobDir]) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});

Deno.test("an entry a device dates after its certificate ends is refused by the contact", async () => {
  await using tmp = await tempDir();
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  const phoneDir = `${tmp.path}/phone`;
  try {
    await befriend(a, b);
    await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, { name: "phone" });
  } finally {
    await a.stop();
  }
  try {
    // The phone's clock runs 100 days ahead: past its 90-day certificate. Bob's is right, so
    // the certificate is valid for the session, but not at the time the phone puts on its entry.
    const ahead = 100 * 86_400_000;
    await using phone = await startTestNode("phone", {
      host: "127.0.0.4",
      dir: phoneDir,
      now: () => Date.now() + ahead,
    });
    await b.waitFor((e) => e.type === "device" && e.op === "accepted");
    await phone.waitFor(sessionUp("bob"));
    const sent = await phone.node.call("send", { chat: "bob", text: "from the future" });
    assert.equal(sent.state, "stored", "bob did not take it");
    // Bob's answer still reaches the phone: only the phone's entry was refused.
    await b.node.call("send", { chat: "alice", text: "hi" });
    await until(async () =>
      (await phone.node.call("read", { chat: "bob" })).some((m) => m.body === "hi")
    );
    assert.deepEqual((await b.node.call("read", { chat: "alice" })).map((m) => m.body), ["hi"]);
  } finally {
    await Deno.remove(a.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("the laptop and the phone up at once: bob keeps a session with each, and sees no twin", async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const phoneDir = `${tmp.path}/phone`;
  const joined = await joinPerson(phoneDir, (await a.node.call("device.link", {})).text, {
    name: "phone",
  });
  const from = b.events.length;
  await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  // One session per device (issue 13): the phone's sits beside the laptop's, which stays.
  const up = await b.waitFor(
    (e) => sessionUp("alice")(e) && (e as { device?: string }).device === joined.fingerprint,
    15_000,
    from,
  ) as NodeEvent & { type: "session" };
  assert.equal(up.fingerprint, a.node.fingerprint, "bob sees alice, from her phone");
  await phone.waitFor(sessionUp("bob"));
  const later = b.events.slice(from);
  assert.ok(
    !later.some((e) => e.type === "session" && e.state === "down"),
    "the laptop's session was not replaced",
  );
  assert.ok(!later.some((e) => e.type === "identity"), "no twin-sessions alarm for a device");
  // The laptop goes: bob still has alice, from her phone.
  await a.stop();
  await b.waitFor((e) => e.type === "session" && e.state === "down", 10_000, from);
  assert.deepEqual((await b.node.call("contacts", {})).map((c) => [c.name, c.online]), [[
    "alice",
    true,
  ]]);
  assert.ok(!b.events.slice(from).some((e) => e.type === "identity"));
});
