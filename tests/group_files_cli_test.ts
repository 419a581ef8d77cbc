/** `roj send <group> --file`, `roj files <group>`, `roj get <group>` against real nodes, and a member whose hello lacks gfiles1. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { foundGroup } from "../testing/groups.ts";
import { content } from "../testing/bytes.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";

Deno.test("roj send, files and get in a group: sent once a member has it, saved in plain", async () => {
  await using dir = await tempDir();
  await using out = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await befriend(a, b);
  await foundGroup(a, [b]);
  const ctlA = await serveControl(controlSocketPath(a.dir), a.node);
  const ctlB = await serveControl(controlSocketPath(b.dir), b.node);
  try {
    const bytes = content(900_000, 11);
    await Deno.writeFile(`${dir.path}/topo.pdf`, bytes);
    const sent = await cliRun([
      "send",
      "climbers",
      "--file",
      `${dir.path}/topo.pdf`,
      "--data",
      a.dir,
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^[0-9a-f]{12} topo\.pdf \(900 kB\): sent\n$/);
    const id = sent.stdout.slice(0, 12);
    await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.id === id);
    const listed = await cliRun(["files", "climbers", "--data", b.dir]);
    assert.match(listed.stdout, new RegExp(`^${id} +topo\\.pdf +900 kB +alice +complete `));
    const got = await cliRun(["get", "climbers", id, "--out", out.path, "--data", b.dir]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(await Deno.readFile(`${out.path}/topo.pdf`), bytes);
    const theirs = await cliRun(["files", "climbers", "--cancel", id, "--data", b.dir]);
    assert.equal(theirs.code, 5, "a complete file has nothing to cancel");
    assert.match(theirs.stderr, /^roj: refused: topo\.pdf is complete: nothing to cancel\n$/);
    // Alice withdraws hers: no member is served it from her node; --retry offers it again.
    const own = await cliRun(["files", "climbers", "--cancel", id, "--data", a.dir]);
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /failed: cancelled: no longer sent/);
    const back = await a.node.call("file.retry", { chat: "climbers", id });
    assert.equal(back.state, "complete");
  } finally {
    await ctlA.close();
    await ctlB.close();
  }
});

Deno.test("a member whose hello lacks gfiles1 (an older node) is never asked for a group file's chunks", async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.5", quic: false });
  await using b = await startTestNode("bob", {
    host: "127.0.0.6",
    quic: false,
    omitFeatures: ["gfiles1"],
  });
  const c = await startTestNode("carol", { host: "127.0.0.7", quic: false });
  const port = c.node.address!.port;
  await using _c = c;
  await befriend(a, b);
  await befriend(a, c);
  await befriend(b, c);
  await foundGroup(a, [b, c]);
  await c.stop();
  await Deno.writeFile(`${dir.path}/f.bin`, content(300_000, 2));
  const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/f.bin` });
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.side === "receive");
  await a.stop();
  // Carol is back with only bob online: he has the file, but does not say he serves group files.
  await using c2 = await startTestNode("carol", {
    host: "127.0.0.7",
    port,
    dir: c.dir,
    quic: false,
  });
  const waiting = await c2.waitFor((e) => e.type === "file" && e.op === "interrupted") as {
    reason?: string;
  };
  assert.equal(waiting.reason, "waiting for a member or an anchor that holds it");
  const [f] = await c2.node.call("files", { chat: "climbers" });
  assert.deepEqual({ id: f?.id, state: f?.state, done: f?.done }, {
    id: sent.id,
    state: "fetching",
    done: 0,
  });
  // Bob's messages still come: he is a member like any other.
  await b.node.call("send", { chat: "climbers", text: "got it" });
  const said = await c2.waitFor((e) => e.type === "message" && e.message.body === "got it");
  assert.ok(said);
});

Deno.test("a group's files over the quota here are refused before any chunk, saying it is the group's quota", async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.8", quic: false });
  await using b = await startTestNode("bob", {
    host: "127.0.0.9",
    quic: false,
    fileQuota: 500_000,
  });
  await befriend(a, b);
  await foundGroup(a, [b]);
  await Deno.writeFile(`${dir.path}/f.bin`, content(600_000, 3));
  const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/f.bin` });
  const refused = await b.waitFor((e) => e.type === "file" && e.op === "refused") as {
    id: string;
    reason?: string;
  };
  assert.equal(refused.id, sent.id);
  assert.match(
    refused.reason ?? "",
    /^this group's files would take 600000 bytes here, over the quota of 500000 bytes per group/,
  );
  const [f] = await b.node.call("files", { chat: "climbers" });
  assert.deepEqual({ state: f?.state, done: f?.done }, { state: "refused", done: 0 });
});
