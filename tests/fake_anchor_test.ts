/**
 * A contact cannot make itself an anchor by saying so (issue 17, item 6):
 * being an anchor comes only from the anchor's own invite, as the person
 * accepted it. Mallory, added as a person, restarts as a passive anchor; her
 * hello now lists "anchor", and alice still takes her for a person.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";

Deno.test("a contact that restarts as an anchor stays a person to its contacts; an anchor's invite makes one", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.81", quic: false });
  const first = await startTestNode("mallory", { host: "127.0.0.82", quic: false });
  await befriend(alice, first);
  await first.stop();
  await using mallory = await startTestNode("mallory", {
    host: "127.0.0.82",
    port: first.node.address?.port ?? 0,
    dir: first.dir,
    passive: true,
    quic: false,
  });
  const from = alice.events.length;
  await alice.node.call("connect", { address: `127.0.0.82:${mallory.node.address!.port}` });
  const up = await alice.waitFor(
    (e) => e.type === "session" && e.state === "up" && e.peer === "mallory",
    10_000,
    from,
  );
  assert.equal(up.type === "session" && up.state === "up" && up.anchor, false);
  assert.equal(alice.node.contacts.byName("mallory")?.anchor, false);
  const [peer] = await alice.node.call("peers", {});
  assert.equal(peer?.kind, "person");

  // A real anchor, added from its invite, is one.
  await using hive = await startTestNode("hive", {
    host: "127.0.0.83",
    passive: true,
    quic: false,
  });
  await befriend(hive, alice);
  assert.equal(alice.node.contacts.byName("hive")?.anchor, true);
  await Deno.remove(first.dir, { recursive: true }).catch(() => {});
});
