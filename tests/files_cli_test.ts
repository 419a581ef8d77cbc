/** `roj send --file`, `roj files`, `roj get` against real nodes through their control sockets. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { fileState, parseSize, progressBar } from "../cli/commands_files.ts";

Deno.test("parseSize, fileState and the progress bar", () => {
  assert.equal(parseSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseSize("500M"), 500 * 1024 ** 2);
  assert.equal(parseSize("64k"), 65536);
  assert.equal(parseSize("1048576"), 1048576);
  assert.throws(() => parseSize("lots"), /expected a size/);
  const f = {
    id: "abc",
    chat: "bob",
    name: "x",
    size: 10,
    type: "text/plain",
    from: "bob",
    mine: false,
    ts: 0,
    done: 2,
    total: 5,
  };
  assert.equal(fileState({ ...f, state: "complete" }), "complete");
  assert.equal(fileState({ ...f, state: "fetching", active: true }), "40%");
  assert.equal(
    fileState({ ...f, state: "failed", reason: "chunk 1 failed" }),
    "failed: chunk 1 failed",
  );
  assert.equal(progressBar(1, 2, 1000, "x"), "\rx [############............] 50% of 1.0 kB");
});

Deno.test("roj send --file with progress, roj files, roj get; bad input is one line", async () => {
  await using dir = await tempDir();
  await using out = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await befriend(a, b);
  const ctlA = await serveControl(controlSocketPath(a.dir), a.node);
  const ctlB = await serveControl(controlSocketPath(b.dir), b.node);
  try {
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    const big = new Uint8Array(1_500_000);
    for (let i = 0; i < big.length; i += 60_000) big.set(bytes.subarray(0, big.length - i), i);
    await Deno.writeFile(`${dir.path}/notes.txt`, big);
    const sent = await cliRun([
      "send",
      "bob",
      "--file",
      `${dir.path}/notes.txt`,
      "--caption",
      "read me",
      "--data",
      a.dir,
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^[0-9a-f]{12} notes\.txt \(1\.5 MB\): sent\n$/);
    assert.match(sent.stderr, /notes\.txt \[#+\] 100% of 1\.5 MB\n/);
    const id = sent.stdout.slice(0, 12);
    await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.id === id);

    const listed = await cliRun(["files", "alice", "--data", b.dir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${id} +notes\\.txt +1\\.5 MB +alice +complete `));
    const asJson = JSON.parse((await cliRun(["files", "alice", "--json", "--data", b.dir])).stdout);
    assert.equal(asJson[0].caption, "read me");

    const got = await cliRun(["get", "alice", id, "--out", out.path, "--data", b.dir]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, `saved ${out.path}/notes.txt (1.5 MB)\n`);
    assert.deepEqual(await Deno.readFile(`${out.path}/notes.txt`), big);

    const missing = await cliRun(["send", "bob", "--file", `${dir.path}/nope`, "--data", a.dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^roj: not_found: cannot read .*nope"\n$/);
    const both = await cliRun([
      "send",
      "bob",
      "hi",
      "--file",
      `${dir.path}/notes.txt`,
      "--data",
      a.dir,
    ]);
    assert.equal(both.code, 2);
    const noId = await cliRun(["get", "alice", "ffffffffffff", "--data", b.dir]);
    assert.match(noId.stderr, /^roj: not_found: no file ffffffffffff in alice\n$/);
    const done = await cliRun(["files", "alice", "--cancel", id, "--data", b.dir]);
    assert.equal(done.code, 5, "a complete file has nothing to cancel");
    assert.match(done.stderr, /^roj: refused: notes\.txt is complete: nothing to cancel\n$/);
    const withdrawn = await cliRun(["files", "bob", "--cancel", id, "--data", a.dir]);
    assert.equal(withdrawn.code, 0, withdrawn.stderr);
    assert.match(withdrawn.stdout, /failed: cancelled: no longer sent/);
    const help = await cliRun(["get", "--help"]);
    assert.match(help.stdout, /--out <dir>/);
  } finally {
    await ctlA.close();
    await ctlB.close();
  }
});
