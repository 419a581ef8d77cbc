/**
 * A member who fetched a group file offers it to anchors (issue 15): when
 * its fetch completes, and at each later session with an anchor, so a file
 * sent while no anchor took it still reaches members offline until after
 * its sender left. Real nodes over real SSH.
 */
import assert from "node:assert/strict";
import { befriend, joinAnchor, startTestNode, type TestNode } from "../testing/nodes.ts";
import { content } from "../testing/bytes.ts";
import { foundGroup } from "../testing/groups.ts";
import { tempDir } from "../testing/temp.ts";
import type { NodeEvent } from "../node/api/mod.ts";

type FileEvent = Extract<NodeEvent, { type: "file" }>;
const fileEvent = (op: FileEvent["op"], side: FileEvent["side"] = "receive") => (e: NodeEvent) =>
  e.type === "file" && e.op === op && e.side === side;

const quiet = { quic: false } as const;

async function saved(t: TestNode, id: string): Promise<Uint8Array> {
  await using out = await tempDir();
  const s = await t.node.call("file.save", { chat: "climbers", id, out: out.path });
  return await Deno.readFile(s.path);
}

Deno.test("group files: bob, who fetched alice's file, offers it to the anchor he meets after she left; carol gets it from the anchor alone", async () => {
  await using dir = await tempDir();
  const hive = await startTestNode("hive", { passive: true, ...quiet });
  const a = await startTestNode("alice", quiet);
  const b = await startTestNode("bob", quiet);
  const c = await startTestNode("carol", quiet);
  const more: TestNode[] = [];
  try {
    await befriend(a, b);
    await befriend(a, c);
    await befriend(b, c);
    // Only carol uses the anchor yet: alice never does, so no anchor takes the file from her.
    await joinAnchor(c, hive);
    await foundGroup(a, [b, c]);
    await c.node.mailboxIdle();
    await c.stop();

    const bytes = content(600_000, 7);
    await Deno.writeFile(`${dir.path}/topo.pdf`, bytes);
    const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/topo.pdf` });
    const atBob = await b.waitFor(fileEvent("complete"), 20_000) as FileEvent;
    assert.equal(atBob.from, "alice");
    await a.stop();
    assert.deepEqual((await hive.node.call("status", {})).groupFiles, { files: 0, bytes: 0 });

    // Bob meets the anchor: he offers the file he fetched, and it takes it from him.
    await joinAnchor(b, hive);
    const anchored = await b.waitFor(fileEvent("anchored"), 30_000) as FileEvent;
    assert.equal(anchored.id, sent.id);
    assert.deepEqual((await hive.node.call("status", {})).groupFiles, {
      files: 1,
      bytes: bytes.length + 3 * 16,
    });
    // His file is still complete here, and his entries (alice's too) are handed to the anchor.
    const [f] = await b.node.call("files", { chat: "climbers" });
    assert.equal(f?.state, "complete");
    await b.node.mailboxIdle();
    await b.stop();

    // Carol, back with only the anchor reachable, learns of the file and fetches it from it.
    const c2 = await startTestNode("carol", { dir: c.dir, ...quiet });
    more.push(c2);
    const done = await c2.waitFor(fileEvent("complete"), 30_000) as FileEvent;
    assert.equal(done.id, sent.id);
    assert.equal(done.from, "hive");
    assert.deepEqual(await saved(c2, sent.id), bytes);
  } finally {
    for (const n of [...more, hive, a, b, c]) await n[Symbol.asyncDispose]();
  }
});

Deno.test("group files: a member offers a file to the anchor it is connected to as soon as its fetch completes", async () => {
  await using dir = await tempDir();
  const hive = await startTestNode("hive", { passive: true, ...quiet });
  const a = await startTestNode("alice", quiet);
  const b = await startTestNode("bob", quiet);
  try {
    await befriend(a, b);
    await joinAnchor(b, hive);
    await foundGroup(a, [b]);
    const bytes = content(300_000, 8);
    await Deno.writeFile(`${dir.path}/map.png`, bytes);
    const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/map.png` });
    await b.waitFor(fileEvent("complete"), 20_000);
    const anchored = await b.waitFor(fileEvent("anchored"), 30_000) as FileEvent;
    assert.equal(anchored.id, sent.id);
    assert.equal(anchored.anchor, "hive");
    assert.equal((await hive.node.call("status", {})).groupFiles?.files, 1);
  } finally {
    for (const n of [hive, a, b]) await n[Symbol.asyncDispose]();
  }
});
