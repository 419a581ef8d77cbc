/**
 * The sender's commit overlaps its push (node/chats/commit_overlap.ts): kill -9
 * alice after bob stored her message but before her own commit of it is in
 * (her store held shut by a write lock from this test, so the window is
 * certain). Restarted, she takes it back from bob before writing again: nothing
 * bob acknowledged is lost, no fork, no identity conflict, the chat goes on.
 * A clean stop leaves no marker: the chat then writes before bob is reached.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { initProfile } from "../node/home/mod.ts";
import { RojNode } from "../node/mod.ts";
import type { MessageView } from "../node/mod.ts";
import { keys } from "../node/store/mod.ts";
import { addByInvite, callNode, type NodeProcess, spawnNode } from "../testing/processes.ts";
import { until } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { bytesEqual } from "../node/wire/mod.ts";

const read = async (p: NodeProcess, chat: string) =>
  await callNode(p, "read", { chat, markRead: false }) as MessageView[];
const texts = async (p: NodeProcess, chat: string) => (await read(p, chat)).map((m) => m.body);
const send = (p: NodeProcess, chat: string, text: string) => callNode(p, "send", { chat, text });

/** "host:port" with a port free on `host` now. */
function freeAddress(host: string): string {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `${host}:${port}`;
}

/** The overlap markers left in a stopped node's store (chat ids). */
async function markers(dir: string): Promise<string[]> {
  const kv = await Deno.openKv(`${dir}/roj.kv`);
  try {
    const out: string[] = [];
    for await (const r of kv.list({ prefix: keys.overlapMarks() })) out.push(String(r.key[2]));
    return out;
  } finally {
    kv.close();
  }
}

/** Alice's own messages to bob in her stopped store. */
async function heldByAlice(dir: string): Promise<string[]> {
  const node = await RojNode.open({ dataDir: dir });
  try {
    const me = node.publicKey;
    return (await node.read("bob")).filter((e) => bytesEqual(e.author, me)).map((e) => e.body);
  } finally {
    await node.close();
  }
}

async function pair(d: { path: string }) {
  const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  (await initProfile(bDir, { name: "bob" })).store.close();
  const aAddr = freeAddress("127.0.73.2"), bAddr = freeAddress("127.0.73.3");
  return { aDir, bDir, aAddr, bAddr };
}

/** Sends and waits until bob shows it. */
async function delivered(a: NodeProcess, b: NodeProcess, text: string): Promise<void> {
  const after = b.events().length;
  await send(a, "bob", text);
  await b.waitForEvent("message", (e) => e.message.body === text, { after, what: text });
}

Deno.test("kill -9 the sender after the peer stored its message, before its own commit: taken back, no fork, the chat goes on", async () => {
  await using d = await tempDir();
  const { aDir, bDir, aAddr, bAddr } = await pair(d);
  let a = await spawnNode(aDir, aAddr, "alice");
  let b = await spawnNode(bDir, bAddr, "bob");
  try {
    await addByInvite(a, b);
    // The first commit of this run sets the chat's marker; from the second on, pushes go early.
    await delivered(a, b, "m1");
    await delivered(a, b, "m2");

    // Alice's store is held shut: her commit of m3 waits, her push of it does not.
    const lock = new DatabaseSync(`${aDir}/roj.kv`);
    lock.exec("BEGIN IMMEDIATE");
    let locked = true;
    try {
      const after = b.events().length;
      const sending = send(a, "bob", "m3").catch((err) => err);
      await b.waitForEvent("message", (e) => e.message.body === "m3", { after, what: "m3 at bob" });
      await a.kill9();
      assert.ok(await sending instanceof Error, "alice's send never resolved");
      lock.exec("ROLLBACK");
      locked = false;
    } finally {
      if (locked) lock.exec("ROLLBACK");
      lock.close();
    }
    assert.deepEqual(await heldByAlice(aDir), ["m1", "m2"], "her commit of m3 never happened");
    assert.equal((await markers(aDir)).length, 1, "the chat's marker outlived the kill");

    // Restarted while bob is away, she must not write m4 as her seq 3: bob holds m3 there.
    await b.stop();
    a = await spawnNode(aDir, aAddr, "alice");
    await assert.rejects(send(a, "bob", "m4"), { code: "busy" });
    // Bob is back: she takes m3 from him before writing again; then m4 follows it.
    b = await spawnNode(bDir, bAddr, "bob");
    await until(async () => (await texts(a, "bob")).includes("m3"), 20_000, "m3 back at alice");
    await until(() => send(a, "bob", "m4").then(() => true, () => false), 20_000, "alice writes");
    await until(async () => (await texts(b, "alice")).includes("m4"), 10_000, "m4 at bob");
    const atBob = await read(b, "alice");
    assert.deepEqual(atBob.map((m) => [m.body, m.seq]), [["m1", 1], ["m2", 2], ["m3", 3], [
      "m4",
      4,
    ]]);
    assert.deepEqual((await read(a, "bob")).map((m) => m.body), ["m1", "m2", "m3", "m4"]);
    assert.deepEqual(await callNode(a, "forks", {}), []);
    assert.deepEqual(await callNode(b, "forks", {}), []);
    const status = await callNode(a, "status", {}) as { identity?: { conflict?: unknown } };
    assert.equal(status.identity?.conflict, undefined, "no identity conflict");
    await send(b, "alice", "still here");
    await until(async () => (await texts(a, "bob")).includes("still here"), 10_000);
  } catch (err) {
    console.error(`alice:\n${a.output()}\nbob:\n${b.output()}`);
    throw err;
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("after kill -9 a chat written early waits for its peer; after a clean stop it does not", async () => {
  await using d = await tempDir();
  const { aDir, bDir, aAddr, bAddr } = await pair(d);
  let a = await spawnNode(aDir, aAddr, "alice");
  let b = await spawnNode(bDir, bAddr, "bob");
  try {
    await addByInvite(a, b);
    await delivered(a, b, "m1");
    await delivered(a, b, "m2");
    await b.stop();
    await a.kill9();
    a = await spawnNode(aDir, aAddr, "alice");
    // Bob is away: what reached him before the kill cannot be known yet.
    await assert.rejects(send(a, "bob", "too early"), (err: Error & { code?: string }) => {
      assert.equal(err.code, "busy");
      assert.match(err.message, /stopped without closing/);
      return true;
    });
    b = await spawnNode(bDir, bAddr, "bob");
    await until(() => send(a, "bob", "m3").then(() => true, () => false), 20_000, "alice writes");
    await until(async () => (await texts(b, "alice")).includes("m3"), 10_000, "m3 at bob");
    await delivered(a, b, "m4");

    // A clean stop: no marker left, and the chat writes at once with bob away.
    await a.stop();
    await b.stop();
    assert.deepEqual(await markers(aDir), []);
    a = await spawnNode(aDir, aAddr, "alice");
    await send(a, "bob", "written while bob is away");
    assert.deepEqual((await texts(a, "bob")).at(-1), "written while bob is away");
    assert.deepEqual(await callNode(a, "forks", {}), []);
  } catch (err) {
    console.error(`alice:\n${a.output()}\nbob:\n${b.output()}`);
    throw err;
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("after kill -9 a chat written only while its peer was away is not held", async () => {
  await using d = await tempDir();
  const { aDir, bDir, aAddr, bAddr } = await pair(d);
  let a = await spawnNode(aDir, aAddr, "alice");
  const b = await spawnNode(bDir, bAddr, "bob");
  try {
    await addByInvite(a, b);
    await b.stop();
    await until(
      async () =>
        !(await callNode(a, "peers", {}) as Array<{ state: string }>).some((p) =>
          p.state === "connected"
        ),
      10_000,
      "alice sees bob gone",
    );
    // Alice restarts (a clean stop), then writes with bob away: nothing can go out early.
    await a.stop();
    a = await spawnNode(aDir, aAddr, "alice");
    await send(a, "bob", "written with bob away");
    assert.deepEqual(await markers(aDir), [], "no marker for a chat whose peer was away");
    await a.kill9();
    a = await spawnNode(aDir, aAddr, "alice");
    // Not held: bob is still away, and she writes at once.
    await send(a, "bob", "and again, after the kill");
    assert.deepEqual((await texts(a, "bob")).slice(-2), [
      "written with bob away",
      "and again, after the kill",
    ]);
  } catch (err) {
    console.error(`alice:\n${a.output()}`);
    throw err;
  } finally {
    await a.stop();
    await b.stop();
  }
});
