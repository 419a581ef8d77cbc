/**
 * `roj backup` and `roj restore` with real `roj run` processes over real SSH:
 * a backup taken while alice's node runs and writes, her folder wiped after
 * she moved once more, the backup restored into a new folder, and the
 * restored node, started at yet another address while bob is away, refuses to
 * write to him (it would fork her chain), rejoins through the cascade once he
 * is back (bob takes its new record although he holds one newer than the
 * backup's), gets back from bob what she wrote after the backup, and the chat
 * goes on both ways with no fork. Then the refusals: a non-empty target, a wrong
 * passphrase, a truncated or foreign file, an existing --out; each with its
 * reason, and nothing left behind or changed.
 */
import assert from "node:assert/strict";
import { initProfile } from "../node/home/mod.ts";
import type { MessageView } from "../node/mod.ts";
import { callNode, type NodeProcess, spawnNode } from "../testing/processes.ts";
import { cliRun, freePort } from "../testing/cli_run.ts";
import { tempDir } from "../testing/temp.ts";
import { until } from "../testing/nodes.ts";

const PASS = "correct horse battery staple";

const read = async (p: NodeProcess, chat: string) =>
  await callNode(p, "read", { chat, markRead: false }) as MessageView[];
const texts = async (p: NodeProcess, chat: string) => (await read(p, chat)).map((m) => m.body);
const send = (p: NodeProcess, chat: string, text: string) => callNode(p, "send", { chat, text });
const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("backup while running, wipe, restore: the node rejoins through the cascade and the chat goes on", async () => {
  Deno.env.set("ROJ_PASSPHRASE", PASS);
  await using d = await tempDir();
  const aDir = `${d.path}/alice`, bDir = `${d.path}/bob`, file = `${d.path}/alice.rojbak`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  (await initProfile(bDir, { name: "bob" })).store.close();
  const at = () => `127.0.0.2:${freePort("127.0.0.2")}`;
  let a = await spawnNode(aDir, at(), "alice");
  const bAddr = `127.0.0.3:${freePort("127.0.0.3")}`;
  let b = await spawnNode(bDir, bAddr, "bob");
  try {
    const invite = await callNode(a, "invite", {}) as { text: string };
    await callNode(b, "add", { invite: invite.text });
    await send(a, "bob", "before the backup");
    await until(async () => (await texts(b, "alice")).includes("before the backup"), 10_000);

    // The backup runs while alice's node runs and writes.
    const writing = (async () => {
      for (let i = 0; i < 20; i++) await send(a, "bob", `during ${i}`);
    })();
    const backup = await cliRun(["backup", "--data", aDir, "--out", file, "--json"]);
    await writing;
    assert.equal(backup.code, 0, backup.stderr);
    const made = JSON.parse(backup.stdout);
    assert.deepEqual(made.files.map((f: { name: string }) => f.name), [
      "id_ed25519",
      "id_ed25519.pub",
      "roj.kv",
    ]);
    assert.equal(await mode(file), 0o600);
    assert.equal(
      new TextDecoder().decode((await Deno.readFile(file)).subarray(0, 22)),
      "age-encryption.org/v1\n",
    );

    // After the backup alice moves (a newer record bob takes) and writes more.
    const seqBefore = (await b.waitForEvent("record-learnt", (e) => e.peer === "alice")).seq;
    await a.stop();
    a = await spawnNode(aDir, at(), "alice");
    const moved = await b.waitForEvent(
      "record-learnt",
      (e) => e.peer === "alice" && e.seq > seqBefore,
      { what: "alice's record after she moved" },
    );
    await send(a, "bob", "after the backup");
    await until(async () => (await texts(b, "alice")).includes("after the backup"), 10_000);

    // Her folder is lost.
    await a.kill9();
    await Deno.remove(aDir, { recursive: true });
    const restored = await cliRun(["restore", file, "--data", aDir]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored SHA256:\S+ from \S+ into /);
    assert.equal(await mode(aDir), 0o700);
    assert.equal(await mode(`${aDir}/id_ed25519`), 0o600);
    assert.equal(await mode(`${aDir}/roj.kv`), 0o600);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(d.path))).map((e) => e.name).sort(), [
      "alice",
      "alice.rojbak",
      "bob",
    ], "no temporary folder left beside it");

    // Started at a third address while bob is away: writing to him waits (it would fork her chain).
    await b.stop();
    a = await spawnNode(aDir, at(), "alice");
    await assert.rejects(send(a, "bob", "too early"), (err: Error & { code?: string }) => {
      assert.equal(err.code, "busy");
      assert.match(err.message, /restored from a backup: waiting to reach bob/);
      return true;
    });
    // Bob comes back where he was; alice's cascade reaches him, and he takes her new record
    // although he holds a newer seq than the backup's.
    b = await spawnNode(bDir, bAddr, "bob");
    const learnt = await b.waitForEvent(
      "record-learnt",
      (e) => e.peer === "alice" && e.seq > moved.seq,
      { what: "the restored alice's record", timeoutMs: 20_000 },
    );
    assert.notDeepEqual(learnt.addresses, moved.addresses);
    // What she wrote after the backup comes back from bob, in order.
    await until(async () => (await texts(a, "bob")).includes("after the backup"), 10_000);
    const mine = (await read(a, "bob")).filter((m) => m.mine).map((m) => m.body);
    assert.deepEqual(mine, [
      "before the backup",
      ...Array.from({ length: 20 }, (_, i) => `during ${i}`),
      "after the backup",
    ]);

    await until(
      () => send(a, "bob", "back again").then(() => true, () => false),
      10_000,
      "alice may write to bob again",
    );
    await send(b, "alice", "welcome back");
    await until(async () => (await texts(b, "alice")).includes("back again"), 10_000);
    await until(async () => (await texts(a, "bob")).includes("welcome back"), 10_000);
    assert.deepEqual(await callNode(a, "forks", {}), []);
    assert.deepEqual(await callNode(b, "forks", {}), []);
  } finally {
    await a.stop();
    await b.stop();
    Deno.env.delete("ROJ_PASSPHRASE");
  }
});

Deno.test("restore refuses a non-empty folder, a wrong passphrase, a truncated or foreign file; backup an existing --out", async () => {
  Deno.env.set("ROJ_PASSPHRASE", PASS);
  await using d = await tempDir();
  try {
    const aDir = `${d.path}/alice`, file = `${d.path}/alice.rojbak`;
    (await initProfile(aDir, { name: "alice" })).store.close();
    assert.equal((await cliRun(["backup", "--data", aDir, "--out", file])).code, 0);
    const listing = async () =>
      (await Array.fromAsync(Deno.readDir(d.path))).map((e) => e.name).sort();
    const before = await listing();

    // A folder with something in it: refused, the file untouched.
    const full = `${d.path}/full`;
    await Deno.mkdir(full);
    await Deno.writeTextFile(`${full}/keep.txt`, "mine");
    const notEmpty = await cliRun(["restore", file, "--data", full]);
    assert.equal(notEmpty.code, 1);
    assert.match(
      notEmpty.stderr,
      /^roj: exists: .*full is not empty: restore into a new or empty folder \(nothing was changed\)\n$/,
    );
    assert.deepEqual((await Array.fromAsync(Deno.readDir(full))).map((e) => e.name), ["keep.txt"]);
    await Deno.remove(full, { recursive: true });

    const target = `${d.path}/restored`;
    Deno.env.set("ROJ_PASSPHRASE", "not the passphrase");
    const wrong = await cliRun(["restore", file, "--data", target, "--json"]);
    Deno.env.set("ROJ_PASSPHRASE", PASS);
    assert.equal(wrong.code, 1);
    assert.equal(JSON.parse(wrong.stdout).error.code, "key_bad_passphrase");
    assert.match(JSON.parse(wrong.stdout).error.message, /^wrong passphrase for /);
    assert.deepEqual(await listing(), before, "nothing made");

    const bytes = await Deno.readFile(file);
    for (const [name, cut] of [["body", bytes.length - 100], ["header", 60]] as const) {
      const truncated = `${d.path}/cut-${name}.rojbak`;
      await Deno.writeFile(truncated, bytes.subarray(0, cut));
      const r = await cliRun(["restore", truncated, "--data", target]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /^roj: bad_input: .* is truncated or damaged \(.*\); nothing was restored\n$/,
      );
      await Deno.remove(truncated);
      assert.deepEqual(await listing(), before, `nothing made (${name})`);
    }
    // One flipped byte in the middle: age's tag fails, the same refusal.
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.length / 2)]! ^= 1;
    await Deno.writeFile(`${d.path}/flipped.rojbak`, flipped);
    const bad = await cliRun(["restore", `${d.path}/flipped.rojbak`, "--data", target]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /truncated or damaged/);
    await Deno.remove(`${d.path}/flipped.rojbak`);

    await Deno.writeTextFile(`${d.path}/notes.txt`, "not a backup at all");
    const foreign = await cliRun(["restore", `${d.path}/notes.txt`, "--data", target]);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /is not a Roj backup \(not an age-encrypted file\)/);
    await Deno.remove(`${d.path}/notes.txt`);
    assert.deepEqual(await listing(), before, "nothing made");

    const again = await cliRun(["backup", "--data", aDir, "--out", file]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^roj: exists: .*alice\.rojbak exists; give another --out \(nothing was written\)\n$/,
    );
    assert.deepEqual(await Deno.readFile(file), bytes, "the existing backup is untouched");

    // And the good file still restores (into an empty folder that exists).
    await Deno.mkdir(target);
    const ok = await cliRun(["restore", file, "--data", target, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).name, "alice");
    assert.equal(await mode(target), 0o700);
  } finally {
    Deno.env.delete("ROJ_PASSPHRASE");
  }
});

const haveAge = await new Deno.Command("age", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((o) => o.success, () => false);
if (!haveAge) {
  console.warn("the age interop test is skipped: no age (apt-get install age; .ci/run does)");
}

Deno.test({
  name: "a backup opens without Roj: Debian's age -d, then tar",
  ignore: !haveAge,
}, async () => {
  Deno.env.set("ROJ_PASSPHRASE", PASS);
  await using d = await tempDir();
  try {
    const aDir = `${d.path}/alice`, file = `${d.path}/alice.rojbak`;
    (await initProfile(aDir, { name: "alice" })).store.close();
    assert.equal((await cliRun(["backup", "--data", aDir, "--out", file])).code, 0);
    // age reads a passphrase only from a terminal: `script` gives it one, fed from our pipe.
    const child = new Deno.Command("script", {
      args: ["-qec", `age -d -o ${d.path}/out.tar ${file}`, "/dev/null"],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(`${PASS}\n`));
    await w.close();
    const done = await child.output();
    assert.ok(done.success, new TextDecoder().decode(done.stderr));
    await Deno.mkdir(`${d.path}/x`);
    const tar = await new Deno.Command("tar", {
      args: ["xf", `${d.path}/out.tar`, "-C", `${d.path}/x`],
    })
      .output();
    assert.ok(tar.success, new TextDecoder().decode(tar.stderr));
    const manifest = JSON.parse(await Deno.readTextFile(`${d.path}/x/manifest.json`));
    assert.equal(manifest.format, "roj-backup-v1");
    assert.deepEqual(
      await Deno.readFile(`${d.path}/x/id_ed25519.pub`),
      await Deno.readFile(`${aDir}/id_ed25519.pub`),
    );
    const kv = await Deno.openKv(`${d.path}/x/roj.kv`);
    assert.equal((await kv.get(["meta", "setting", "name"])).value, "alice");
    kv.close();
  } finally {
    Deno.env.delete("ROJ_PASSPHRASE");
  }
});
