/**
 * One identity on two nodes, as a person meets it (issue 17, item 12): two
 * `roj run` processes on one copied data folder and a contact. The CLI says
 * so in one line on both, `roj send` on the second exits 5 with
 * `identity_conflict`, and `roj identity resolve` gets the chat going again
 * without losing the copy's message.
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { initProfile } from "../node/home/mod.ts";
import { RojNode } from "../node/mod.ts";
import { cliRun, freePort } from "../testing/cli_run.ts";
import { addByInvite, spawnNode } from "../testing/processes.ts";
import { tempDir } from "../testing/temp.ts";

Deno.test("roj run twice on a copied data folder: told on both, refused on the second, resolved", async () => {
  await using d = await tempDir();
  const aDir = `${d.path}/alice`, a2Dir = `${d.path}/alice-copy`, bDir = `${d.path}/bob`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  (await initProfile(bDir, { name: "bob" })).store.close();
  const listen = (host: string) => `${host}:${freePort(host)}`;
  const aListen = listen("127.0.0.2");
  let a = await spawnNode(aDir, aListen, "alice");
  const b = await spawnNode(bDir, listen("127.0.0.3"), "bob");
  let a2: Awaited<ReturnType<typeof spawnNode>> | undefined;
  try {
    await addByInvite(a, b);
    assert.equal((await cliRun(["send", "--data", aDir, "bob", "a1-1"])).code, 0);
    await b.waitForEvent("message", (e) => e.message.body === "a1-1", { timeoutMs: 20_000 });

    // The folder is copied with the node stopped; the copy writes before it reaches bob.
    await a.stop();
    await cp(aDir, a2Dir, { recursive: true });
    for (const f of Deno.readDirSync(a2Dir)) {
      if (f.name.startsWith("events-") || f.name.endsWith(".sock")) {
        await Deno.remove(`${a2Dir}/${f.name}`);
      }
    }
    const offline = await RojNode.open({ dataDir: a2Dir });
    await offline.call("send", { chat: "bob", text: "a2-1" });
    await offline.close();
    a = await spawnNode(aDir, aListen, "alice");
    await a.waitForEvent("session", (e) => e.state === "up", { timeoutMs: 20_000 });
    await cliRun(["send", "--data", aDir, "bob", "a1-2"]);
    await b.waitForEvent("message", (e) => e.message.body === "a1-2", { timeoutMs: 20_000 });
    a2 = await spawnNode(a2Dir, listen("127.0.0.4"), "alice-copy");

    await a2.waitForEvent("identity", (e) => e.op === "conflict" && e.conflict.role === "second", {
      timeoutMs: 30_000,
      what: "the copy told it is the second",
    });
    await a.waitForEvent("identity", (e) => e.op === "conflict" && e.conflict.role === "first", {
      timeoutMs: 30_000,
      what: "the first node told",
    });
    for (const [dir, role] of [[a2Dir, "second"], [aDir, "first"]] as const) {
      const json = await cliRun(["status", "--json", "--data", dir]);
      assert.equal(JSON.parse(json.stdout).identity.conflict.role, role);
      const text = await cliRun(["status", "--data", dir]);
      const lines = text.stdout.split("\n").filter((l) => l.startsWith("identity:"));
      assert.equal(lines.length, 1, text.stdout);
      assert.match(lines[0]!, /roj identity resolve/);
    }
    const refused = await cliRun(["send", "--data", a2Dir, "bob", "refused"]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /^roj: identity_conflict: /);

    // The person stops the first node and resolves on the copy.
    await a.stop();
    const resolved = await cliRun(["identity", "resolve", "--json", "--data", a2Dir]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.deepEqual(JSON.parse(resolved.stdout).rebasing, ["bob"]);
    await a2.waitForEvent("identity", (e) => e.op === "rebased", { timeoutMs: 30_000 });
    await b.waitForEvent("message", (e) => e.message.body === "a2-1", { timeoutMs: 20_000 });
    assert.equal((await cliRun(["send", "--data", a2Dir, "bob", "a2-2"])).code, 0);
    await b.waitForEvent("message", (e) => e.message.body === "a2-2", { timeoutMs: 20_000 });
    const read = await cliRun(["read", "--json", "--data", bDir, "alice"]);
    const bodies = (JSON.parse(read.stdout) as { body: string }[]).map((m) => m.body);
    assert.deepEqual(bodies, ["a1-1", "a1-2", "a2-1", "a2-2"]);
  } finally {
    await a2?.stop();
    await a.stop();
    await b.stop();
  }
});
