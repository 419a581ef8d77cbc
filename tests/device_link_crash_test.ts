/**
 * Safe linking (issue 13, item 7): a `kill -9` at any moment of linking
 * leaves no device linked on one side only. Real processes: alice's laptop
 * is a spawned `roj run`, the phone a spawned `roj init --join`; each is
 * killed with SIGKILL at a step it told ($ROJ_TEST_LINK_HOLD /
 * $ROJ_TEST_JOIN_HOLD make it wait there, so the kill lands exactly after
 * that step's commit), then started again. After each kill: the phone's
 * folder is not in place, and the laptop lists the phone only once it
 * recorded it; run again, both end linked, with the same key; the code
 * stays single-use, and another key is refused with its reason.
 */
import assert from "node:assert/strict";
import { initProfile } from "../node/home/mod.ts";
import { fingerprint } from "../node/identity/mod.ts";
import { deviceIdentity } from "../node/linking/mod.ts";
import { openStore } from "../node/store/mod.ts";
import type { DeviceView, LinkCodeView } from "../node/mod.ts";
import { callNode, type NodeProcess, spawnJoin, spawnNode } from "../testing/processes.ts";
import { freePort } from "../testing/cli_run.ts";
import { tempDir } from "../testing/temp.ts";

const exists = (path: string) =>
  Deno.stat(path).then(() => true, (err) => {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  });

const devices = async (p: NodeProcess) =>
  (await callNode(p, "devices", {}) as DeviceView[]).map((d) => [d.name, d.fingerprint]);

/** The phone folder's own key's fingerprint, once it is in place. */
async function phoneFingerprint(dir: string): Promise<string> {
  const store = await openStore(`${dir}/roj.kv`);
  try {
    const id = await deviceIdentity(store.kv);
    assert.ok(id, "the folder records its certificate");
    return fingerprint(id.certificate.publicKey);
  } finally {
    store.close();
  }
}

/** The key `<dir>.joining` holds (the same across kills). */
async function joiningKey(dir: string): Promise<string> {
  return (await Deno.readTextFile(`${dir}.joining/id_ed25519.pub`)).split(" ")[1]!;
}

async function laptop(dir: string, listen: string, hold?: "pending" | "linked") {
  return await spawnNode(dir, listen, "alice", hold ? { env: { ROJ_TEST_LINK_HOLD: hold } } : {});
}

Deno.test("kill -9 of the laptop right after it reserved the code, and right after it recorded the device", async () => {
  await using d = await tempDir();
  const aDir = `${d.path}/alice`, phone = `${d.path}/phone`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  const listen = `127.0.0.2:${freePort("127.0.0.2")}`;
  let a = await laptop(aDir, listen, "pending");
  try {
    const code = await callNode(a, "device.link", {}) as LinkCodeView;

    // 1. The laptop reserved the code for the phone's key, and dies before it answers.
    let j = await spawnJoin(phone, code.text, "phone");
    await a.waitForEvent("device", (e) => e.op === "pending", { what: "the code reserved" });
    await a.kill9();
    let r = await j.done;
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(JSON.parse(r.stdout).error.message, /run the same command again/);
    assert.equal(await exists(phone), false);
    const key = await joiningKey(phone);
    a = await laptop(aDir, listen, "linked");
    assert.deepEqual(await devices(a), [], "a reserved code lists no device");

    // 2. Run again: the same key; the laptop records the phone and dies before it answers.
    j = await spawnJoin(phone, code.text, "phone");
    const linked = await a.waitForEvent("device", (e) => e.op === "linked");
    await a.kill9();
    r = await j.done;
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.equal(await exists(phone), false);
    assert.equal(await joiningKey(phone), key, "the phone kept its key");
    a = await laptop(aDir, listen);
    assert.deepEqual(await devices(a), [["phone", linked.fingerprint]]);

    // 3. Run again: the laptop gives it its certificate again, and the phone's folder is in place.
    r = await (await spawnJoin(phone, code.text, "phone")).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).fingerprint, linked.fingerprint);
    assert.equal(await phoneFingerprint(phone), linked.fingerprint);
    assert.equal(await exists(`${phone}.joining`), false);
    assert.deepEqual(await devices(a), [["phone", linked.fingerprint]]);

    // The code stays single-use: another key is refused with the reason, and no folder is made.
    const t = await (await spawnJoin(`${d.path}/tablet`, code.text, "tablet")).done;
    assert.equal(t.code, 5, t.stdout + t.stderr);
    assert.match(JSON.parse(t.stdout).error.message, /already used/);
    assert.equal(await exists(`${d.path}/tablet`), false);
    assert.equal(await exists(`${d.path}/tablet.joining`), false);
    assert.deepEqual(await devices(a), [["phone", linked.fingerprint]]);
  } finally {
    await a.kill9();
  }
});

Deno.test("kill -9 of the new device after each step: never linked on one side only, and run again it finishes", async () => {
  await using d = await tempDir();
  const aDir = `${d.path}/alice`, phone = `${d.path}/phone`;
  (await initProfile(aDir, { name: "alice" })).store.close();
  const a = await laptop(aDir, `127.0.0.2:${freePort("127.0.0.2")}`);
  try {
    const code = await callNode(a, "device.link", {}) as LinkCodeView;
    let key: string | undefined;
    for (const step of ["key", "certified", "written", "confirmed"]) {
      const j = await spawnJoin(phone, code.text, "phone", step);
      await j.waitForStep(step);
      await j.kill9();
      assert.equal(await exists(phone), false, `killed after ${step}: no folder in place`);
      key ??= await joiningKey(phone);
      assert.equal(await joiningKey(phone), key, `killed after ${step}: the same key kept`);
      const listed = await devices(a);
      assert.equal(listed.length, step === "confirmed" ? 1 : 0, `killed after ${step}`);
      if (step === "certified") {
        // Reserved for the phone's key: another key is refused with the reason.
        const t = await (await spawnJoin(`${d.path}/tablet`, code.text, "tablet")).done;
        assert.equal(t.code, 5, t.stdout + t.stderr);
        assert.match(JSON.parse(t.stdout).error.message, /another new device is being linked/);
        assert.equal(await exists(`${d.path}/tablet`), false);
        await a.waitForEvent("device", (e) => e.op === "refused" && e.reason === "in_use");
      }
    }
    const r = await (await spawnJoin(phone, code.text, "phone")).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const fp = JSON.parse(r.stdout).fingerprint as string;
    assert.equal(await phoneFingerprint(phone), fp);
    assert.equal(await exists(`${phone}.joining`), false);
    assert.deepEqual(await devices(a), [["phone", fp]]);
    // Linked once: one `linked` event, whatever the kills.
    assert.equal(a.events().filter((e) => e.type === "device" && e.op === "linked").length, 1);
  } finally {
    await a.kill9();
  }
});
