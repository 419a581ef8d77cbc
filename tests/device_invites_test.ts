/**
 * Invites issued on a person's device (issue 13 items 2 and 4, issued
 * invites), over real SSH: alice's laptop (the person key), her phone (a
 * certified device) and bob. The phone's invite names alice the person, so
 * bob's contact is her person key and he chats with both of her devices; the
 * laptop knows the phone's invites (devinvites1), so it redeems them while
 * the phone is away.
 */
import assert from "node:assert/strict";
import { startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import { type NodeEvent, parseInvite } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";
const keyOf = (n: TestNode) => n.node.keyLine.split(" ").slice(0, 2).join(" ");
const contactOf = async (n: TestNode, who: TestNode) =>
  (await n.node.call("contacts", {})).find((c) => c.publicKey.startsWith(keyOf(who)));
const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat })).map((m) => m.body);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** alice's laptop, her phone linked to it (their sibling session up), and bob. */
async function alicePhoneBob(dir: string, base: string) {
  const a = await startTestNode("alice", { host: `${base}.2` });
  const b = await startTestNode("bob", { host: `${base}.3` });
  await joinPerson(`${dir}/phone`, (await a.node.call("device.link", {})).text, { name: "phone" });
  const p = await startTestNode("phone", { host: `${base}.4`, dir: `${dir}/phone` });
  await p.waitFor(ownUp, 15_000);
  return { a, b, p };
}

Deno.test("an invite issued on the phone makes bob a contact of alice the person: he chats with both devices", async () => {
  await using tmp = await tempDir();
  const { a, b, p } = await alicePhoneBob(tmp.path, "127.61.13");
  await using _a = a;
  await using _b = b;
  await using _p = p;
  const invite = await p.node.call("invite", {});
  const parsed = await parseInvite(invite.text, Date.now());
  assert.deepEqual(parsed.publicKey, a.node.publicKey, "the invite names the person key");
  await b.node.call("add", { invite: invite.text });
  // bob's contact is alice's person key, not the phone's.
  const alice = await contactOf(b, a);
  assert.ok(alice, "bob has alice's person key as a contact");
  assert.equal(await contactOf(b, p), undefined, "and not the phone's key");
  // The phone added bob; the laptop learns him (devcontacts1) and their session comes up.
  await until(async () => (await contactOf(a, b))?.online === true, 15_000, "laptop–bob session");
  // bob's message reaches both of alice's devices.
  await b.node.call("send", { chat: alice.name, text: "bob to alice" });
  const bobChat = (await contactOf(a, b))!.name;
  await until(async () => (await bodies(a, bobChat)).includes("bob to alice"), 15_000, "at laptop");
  await until(async () => (await bodies(p, bobChat)).includes("bob to alice"), 15_000, "at phone");
  // The laptop's and the phone's messages reach bob, in the one chat with alice.
  await a.node.call("send", { chat: bobChat, text: "laptop to bob" });
  await p.node.call("send", { chat: bobChat, text: "phone to bob" });
  await until(
    async () => {
      const got = await bodies(b, alice.name);
      return got.includes("laptop to bob") && got.includes("phone to bob");
    },
    15_000,
    "both at bob",
  );
  assert.ok(
    !b.events.some((e) => e.type === "device" && e.op === "refused"),
    "bob refused none of alice's devices",
  );
});

Deno.test("an invite issued on the phone is accepted while only the laptop is up, and used up on both", async () => {
  await using tmp = await tempDir();
  const { a, b, p } = await alicePhoneBob(tmp.path, "127.61.14");
  await using _a = a;
  await using _b = b;
  let phoneStopped = false;
  try {
    const invite = await p.node.call("invite", {});
    const nonce = hex((await parseInvite(invite.text, Date.now())).nonce);
    // The laptop hears of it over the sibling session (devinvites1).
    await until(() => a.node.invites.isValid(nonce, Date.now()), 10_000, "laptop knows the invite");
    await p.stop();
    phoneStopped = true;
    await b.node.call("add", { invite: invite.text });
    const alice = await contactOf(b, a);
    assert.ok(alice, "bob has alice's person key as a contact");
    assert.ok(!a.node.invites.isValid(nonce, Date.now()), "its one use is spent on the laptop");
    await until(async () => (await contactOf(a, b))?.online === true, 10_000, "laptop–bob session");
    await a.node.call("send", { chat: (await contactOf(a, b))!.name, text: "laptop to bob" });
    await until(async () => (await bodies(b, alice.name)).includes("laptop to bob"), 15_000);
    await b.node.call("send", { chat: alice.name, text: "bob to laptop" });
    await until(
      async () => (await bodies(a, (await contactOf(a, b))!.name)).includes("bob to laptop"),
      15_000,
    );
  } finally {
    if (!phoneStopped) await p.stop();
  }
  // The phone, back: the use spent on the laptop reaches it, and bob is its contact too.
  await using p2 = await startTestNode("phone", { host: "127.61.14.4", dir: `${tmp.path}/phone` });
  await p2.waitFor(ownUp, 15_000);
  const nonceOf = async () => {
    const r = await p2.node.invites.live(Date.now());
    return r.length;
  };
  await until(async () => (await nonceOf()) === 0, 10_000, "used up on the phone");
  await until(async () => (await contactOf(p2, b)) !== undefined, 10_000, "bob on the phone");
});

Deno.test("an invite the phone issued and the laptop withdrew is refused by both", async () => {
  await using tmp = await tempDir();
  const { a, b, p } = await alicePhoneBob(tmp.path, "127.61.15");
  await using _a = a;
  await using _b = b;
  await using _p = p;
  const invite = await p.node.call("invite", { uses: 3 });
  const nonce = hex((await parseInvite(invite.text, Date.now())).nonce);
  await until(() => a.node.invites.isValid(nonce, Date.now()), 10_000, "laptop knows the invite");
  assert.deepEqual(await a.node.call("invite.withdraw", { invite: invite.text }), {
    withdrawn: true,
  });
  await until(() => !p.node.invites.isValid(nonce, Date.now()), 10_000, "withdrawn on the phone");
  await assert.rejects(
    () => b.node.call("add", { invite: invite.text }),
    (e) => (e as { code?: string }).code === "refused",
  );
  assert.equal(await contactOf(b, a), undefined);
  assert.deepEqual(await p.node.call("invite.withdraw", { invite: invite.text }), {
    withdrawn: false,
  });
  // The person key's node still makes v1 invites, which every version reads.
  const v1 = await parseInvite((await a.node.call("invite", {})).text, Date.now());
  assert.equal(v1.devices, undefined);
  assert.deepEqual(v1.publicKey, a.node.publicKey);
});

Deno.test("the invites of a removed phone are withdrawn on the laptop and the tablet, and refused", async () => {
  await using tmp = await tempDir();
  const { a, b, p } = await alicePhoneBob(tmp.path, "127.61.16");
  await using _a = a;
  await using _b = b;
  await joinPerson(`${tmp.path}/tablet`, (await a.node.call("device.link", {})).text, {
    name: "tablet",
  });
  await using t = await startTestNode("tablet", { host: "127.61.16.5", dir: `${tmp.path}/tablet` });
  await t.waitFor(ownUp, 15_000);
  let phoneStopped = false;
  try {
    const invite = await p.node.call("invite", { uses: 3 });
    const nonce = hex((await parseInvite(invite.text, Date.now())).nonce);
    // The tablet's own invite outlives the phone's removal.
    const kept = await t.node.call("invite", {});
    const keptNonce = hex((await parseInvite(kept.text, Date.now())).nonce);
    for (const n of [a, t]) {
      await until(() => n.node.invites.isValid(nonce, Date.now()), 10_000, "knows the invite");
    }
    await until(() => a.node.invites.isValid(keptNonce, Date.now()), 10_000, "tablet's invite");
    await p.stop();
    phoneStopped = true;
    await a.node.call("device.remove", { name: "phone" });
    for (const n of [a, t]) {
      await until(
        async () => {
          const r = (await n.node.invites.records()).find((x) => x.nonce === nonce);
          return r?.usesLeft === 0;
        },
        10_000,
        "withdrawn",
      );
      assert.ok(!n.node.invites.isValid(nonce, Date.now()));
    }
    assert.ok(a.node.invites.isValid(keptNonce, Date.now()), "the tablet's still stands");
    await assert.rejects(() => b.node.call("add", { invite: invite.text }));
    assert.equal(await contactOf(b, a), undefined, "bob did not become alice's contact");
    // The tablet's invite still makes bob a contact of alice.
    await b.node.call("add", { invite: kept.text });
    assert.ok(await contactOf(b, a));
  } finally {
    if (!phoneStopped) await p.stop();
  }
});

Deno.test("a tablet without devinvites2 and devlist1 still hears that the removed phone's invite is withdrawn", async () => {
  await using tmp = await tempDir();
  const { a, b, p } = await alicePhoneBob(tmp.path, "127.61.17");
  await using _a = a;
  await using _b = b;
  await joinPerson(`${tmp.path}/tablet`, (await a.node.call("device.link", {})).text, {
    name: "tablet",
  });
  await using t = await startTestNode("tablet", {
    host: "127.61.17.5",
    dir: `${tmp.path}/tablet`,
    omitFeatures: ["devinvites2", "devlist1"],
  });
  await t.waitFor(ownUp, 15_000);
  let phoneStopped = false;
  try {
    const invite = await p.node.call("invite", { uses: 2 });
    const nonce = hex((await parseInvite(invite.text, Date.now())).nonce);
    for (const n of [a, t]) {
      await until(() => n.node.invites.isValid(nonce, Date.now()), 10_000, "knows the invite");
    }
    // The tablet was told no issuer (it does not list devinvites2).
    assert.equal((await t.node.invites.records()).find((r) => r.nonce === nonce)?.by, undefined);
    await p.stop();
    phoneStopped = true;
    await a.node.call("device.remove", { name: "phone" });
    // The laptop knows the issuer: it withdraws it, and the withdrawal reaches the tablet.
    await until(
      () => !t.node.invites.isValid(nonce, Date.now()),
      10_000,
      "withdrawn on the tablet",
    );
    assert.ok(!a.node.invites.isValid(nonce, Date.now()));
  } finally {
    if (!phoneStopped) await p.stop();
  }
});
