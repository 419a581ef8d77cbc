/**
 * Addresses never reach anyone their owner has not accepted: not a stranger,
 * not a friend's other friends, not the anchor that holds the sealed copies.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { pairwise } from "../node/discovery/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { decodeB64, encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { isRojError } from "../node/errors.ts";
import { generateKeyPair } from "../node/identity/mod.ts";
import { personNeedles, scanFolder } from "../testing/folder_scan.ts";

/** A raw protocol session as `as` to `to`, capturing every byte received. */
async function rawSession(as: TestNode, to: TestNode, received: Uint8Array[]) {
  const client = await dialSsh({
    keyPair: as.node.profile.keyPair,
    to: to.node.address!,
    expectedKey: to.node.publicKey,
    expectedName: to.node.name,
  });
  const pipe = await client.openRoj();
  const tap = {
    ...pipe,
    onData: (l: (c: Uint8Array) => void) =>
      pipe.onData((c) => {
        received.push(c.slice());
        l(c);
      }),
  };
  const rpc = new RpcSession(tap, { hello: { features: ["sync1"], name: as.node.name } });
  await rpc.ready;
  return { rpc, close: () => (rpc.close(), client.close()) };
}

const contains = (haystack: Uint8Array[], needle: string) =>
  haystack.some((b) => new TextDecoder().decode(b).includes(needle));

async function filesOf(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out.push(await Deno.readFile(`${dir}/${e.name}`));
  }
  return out;
}

function ipBytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split(".").map(Number));
}

function containsBytes(haystack: Uint8Array[], needle: Uint8Array): boolean {
  return haystack.some((h) => {
    outer: for (let i = 0; i + needle.length <= h.length; i++) {
      for (let j = 0; j < needle.length; j++) if (h[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  });
}

Deno.test("privacy: strangers, friends of friends and the anchor learn no address; the anchor's folder holds none", async () => {
  await using anchor = await startTestNode("hive", { host: "127.0.0.9", passive: true });
  const alice = await startTestNode("alice", { host: "127.3.0.2" });
  await using bob = await startTestNode("bob", { host: "127.3.0.3" });
  await using mallory = await startTestNode("mallory", { host: "127.3.0.4" });
  try {
    await joinAnchor(alice, anchor);
    await joinAnchor(bob, anchor);
    await joinAnchor(mallory, anchor);
    await befriend(alice, bob);
    await befriend(bob, mallory); // mallory is bob's friend, not alice's

    // Alice moves; bob and the anchor get her fresh sealed copies.
    const port = alice.node.address!.port;
    await alice.stop();
    await using alice2 = await startTestNode("alice", { host: "127.3.0.12", dir: alice.dir, port });
    await until(
      async () =>
        (await bob.node.call("peers", {})).some((p) =>
          p.name === "alice" && p.state === "connected"
        ),
      10_000,
      "bob reaches alice",
    );
    const aliceAddrs = ["127.3.0.2", "127.3.0.12"];

    // The anchor holds sealed records...
    await until(
      async () => ((await anchor.node.call("status", {})).records ?? 0) >= 3,
      5000,
      "anchor holds copies",
    );
    const status = await anchor.node.call("status", {});
    assert.equal(status.passive, true);
    assert.equal(status.members, 3);
    // ...but its data folder holds no member's address in any form it can read.
    for (const m of [...aliceAddrs, "127.3.0.3", "127.3.0.4"]) {
      const files = await filesOf(anchor.dir);
      assert.ok(
        !containsBytes(files, new TextEncoder().encode(m)),
        `anchor folder holds ${m} as text`,
      );
      assert.ok(!containsBytes(files, ipBytes(m)), `anchor folder holds ${m} as 4 bytes`);
    }

    // Mallory, an accepted friend of bob and member of the hive, asks both for alice.
    // (Her own node is stopped first, so its redials do not replace the raw sessions.)
    await mallory.stop();
    const pair = pairwise(mallory.node.profile.keyPair)(alice2.node.publicKey);
    const tag = encodeB64(pair.tag(alice2.node.publicKey));
    for (const holder of [bob, anchor]) {
      const received: Uint8Array[] = [];
      const s = await rawSession(mallory, holder, received);
      const res = await s.rpc.request("addr.get", { tags: [tag] });
      assert.deepEqual(
        res.items,
        [],
        `${holder.node.name} has no copy of alice's record for mallory`,
      );
      // Even with a tag alice made for bob, what comes back does not open for mallory.
      const bobsTag = pairwise(bob.node.profile.keyPair)(alice2.node.publicKey).tag(
        alice2.node.publicKey,
      );
      const got = await s.rpc.request("addr.get", { tags: [encodeB64(bobsTag)] });
      for (const item of got.items) {
        assert.throws(() => pair.open(alice2.node.publicKey, decodeB64(item.b)));
      }
      s.close();
      for (const a of aliceAddrs) {
        assert.ok(
          !contains(received, a),
          `${holder.node.name} sent alice's address ${a} to mallory`,
        );
      }
    }

    // A stranger who knows alice's key cannot even log in to her friends or the anchor.
    const stranger = await generateKeyPair("stranger");
    for (const holder of [bob, anchor, alice2]) {
      await assert.rejects(
        () =>
          dialSsh({
            keyPair: stranger,
            to: holder.node.address!,
            expectedKey: holder.node.publicKey,
            expectedName: holder.node.name,
            timeoutMs: 3000,
          }),
        (e) => isRojError(e, "refused"),
      );
    }
    assert.ok(toHex(alice2.node.publicKey).length === 64);
  } finally {
    await alice.stop();
    await Deno.remove(alice.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("privacy: after 1:1 mail flowed, the anchor's folder holds no text, name, key or fingerprint of either member", async () => {
  const names = { alice: "alicia-wren", bob: "bertram-oak" };
  await using anchor = await startTestNode("hive", { host: "127.3.1.9", passive: true });
  const a = await startTestNode(names.alice, { host: "127.3.1.2" });
  const b = await startTestNode(names.bob, { host: "127.3.1.3" });
  let b2: TestNode | undefined;
  try {
    await joinAnchor(a, anchor);
    await joinAnchor(b, anchor);
    await befriend(a, b);
    await until(
      async () => ((await anchor.node.call("status", {})).records ?? 0) >= 2,
      10_000,
      "the anchor holds both sealed records",
    );
    await b.stop();
    await a.node.call("send", { chat: names.bob, text: "see you at the mill" });
    await a.waitFor((e) => e.type === "direct-mail" && e.op === "deposited", 15_000);
    await a.stop();
    b2 = await startTestNode(names.bob, { host: "127.3.1.3", dir: b.dir });
    await b2.waitFor((e) => e.type === "direct-mail" && e.op === "taken", 20_000);
    await b2.stop();
  } finally {
    await a.stop();
    await b.stop();
    await b2?.stop();
  }
  await anchor.stop();
  const needles = [
    { what: "the text", bytes: new TextEncoder().encode("see you at the mill") },
    ...personNeedles("alice", names.alice, a.node.publicKey),
    ...personNeedles("bob", names.bob, b.node.publicKey),
  ];
  try {
    assert.deepEqual(await scanFolder(anchor.dir, needles), []);
  } finally {
    await Deno.remove(a.dir, { recursive: true }).catch(() => {});
    await Deno.remove(b.dir, { recursive: true }).catch(() => {});
  }
});
