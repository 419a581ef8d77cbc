/**
 * A contact that asks and never reads the answers must not make the victim
 * hold them (issue 17, item 3). Mallory, a contact, speaks raw SSH: she files
 * a few hundred sealed copies with alice, then asks for all of them again and
 * again (each answer ~0.5 MB for a ~7 kB request) without ever reading her
 * channel. Alice stops reading her, then closes the session once the backlog
 * passes its hard cap; her memory grows by no more than that cap plus 32 MiB.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import ssh2 from "ssh2";
import { encodePrivateKey, generateKeyPair } from "../node/identity/mod.ts";
import { encodeFrame, HARD_BUFFER_BYTES, PROTOCOL_VERSION } from "../node/protocol/mod.ts";
import { encodeB64 } from "../node/protocol/mod.ts";
import { startTestNode } from "../testing/nodes.ts";

const MiB = 2 ** 20;

Deno.test("a contact that never reads is paused, then cut off: the victim's memory stays bounded", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.71", quic: false });
  const mallory = await generateKeyPair("mallory");
  await alice.node.contacts.add(mallory.publicKey, "mallory", [], Date.now(), ["notes"]);

  const client = new ssh2.Client();
  client.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    client.on("ready", () => resolve());
    client.on("error", reject);
    encodePrivateKey(mallory).then((privateKey) =>
      client.connect({
        host: "127.0.0.71",
        port: alice.node.address!.port,
        localAddress: "127.0.0.72",
        username: "roj",
        privateKey,
        hostVerifier: () => true,
      })
    );
  });
  const channel = await new Promise<{ write(b: Uint8Array): boolean }>((resolve, reject) =>
    client.subsys(
      "roj",
      (err: Error | undefined, ch: { write(b: Uint8Array): boolean }) =>
        err ? reject(err) : resolve(ch),
    )
  );
  // Never read: no 'data' listener, so ssh2 never extends alice's window.
  const send = (frame: unknown) => channel.write(Buffer.from(encodeFrame(frame as never)));
  send({ t: "hello", v: PROTOCOL_VERSION, features: ["sync1"], name: "mallory" });
  const tags = Array.from(
    { length: 256 },
    () => encodeB64(crypto.getRandomValues(new Uint8Array(16))),
  );
  const blob = encodeB64(crypto.getRandomValues(new Uint8Array(1400)));
  send({ t: "req", id: 1, m: "addr.put", p: { items: tags.map((t) => ({ t, b: blob })) } });

  const down = alice.waitFor(
    (e) => e.type === "session" && e.state === "down" && e.peer === "mallory",
    60_000,
  );
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sample = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
  try {
    // ~300 requests (~2 MB) would ask for ~150 MB of answers.
    for (let id = 2; id < 300; id++) send({ t: "req", id, m: "addr.get", p: { tags } });
    await down;
  } finally {
    clearInterval(sample);
    client.end();
  }
  const grew = (peak - before) / MiB;
  assert.ok(
    grew < HARD_BUFFER_BYTES / MiB + 32,
    `alice's RSS grew by ${grew.toFixed(0)} MiB (cap ${HARD_BUFFER_BYTES / MiB} MiB + 32)`,
  );
  // Alice is fine: her status answers.
  assert.equal((await alice.node.call("status", {})).name, "alice");
});
