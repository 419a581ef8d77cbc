/**
 * The person key taken offline (issue 13, item 1): `roj key export --remove`
 * exports it, makes the node a device of its own (a new key, certified by
 * the person key), and removes the person key from the folder. Over real
 * SSH: the laptop then still chats with bob (who sees alice) and syncs with
 * the phone, and reads and writes its groups; the export opens with the
 * real ssh-keygen; a stop at any step of the conversion leaves a folder that
 * starts. Linking, removing and renewing then take the export (--key FILE),
 * and are refused without it.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import {
  decodePrivateKey,
  fingerprint,
  isEncryptedPrivateKey,
  publicKeyLine,
} from "../node/identity/mod.ts";
import { deviceIdentity, goOffline, joinPerson, type OfflineStep } from "../node/linking/mod.ts";
import type { LinkCodeView, NodeEvent } from "../node/mod.ts";
import { initProfile, openProfile } from "../node/home/mod.ts";
import { bytesEqual } from "../node/wire/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { foundGroup } from "../testing/groups.ts";
import { sshKeygenPublic, withPassphrase } from "../testing/key_files.ts";

const PASS = "offline passphrase";
const bodies = async (n: TestNode, chat: string) =>
  (await n.node.call("read", { chat })).map((m) => m.body);
const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";

Deno.test("after roj key export --remove the laptop runs on a device key: bob sees alice, the phone syncs", async () => {
  await using tmp = await tempDir();
  let laptop = await startTestNode("alice", { host: "127.0.0.82" });
  const dir = laptop.dir;
  const person = laptop.node.publicKey;
  const port = Number((await laptop.node.call("status", {})).listen[0]!.split(":").pop());
  await using bob = await startTestNode("bob", { host: "127.0.0.83" });
  const phoneDir = `${tmp.path}/phone`;
  let phone: TestNode | undefined;
  try {
    await befriend(laptop, bob);
    await laptop.node.call("send", { chat: "bob", text: "from the person key's node" });
    const ctl = await serveControl(controlSocketPath(dir), laptop.node);
    try {
      // A running node holds the person key: it is not taken away under it.
      const busy = await withPassphrase(
        PASS,
        () => cliRun(["key", "export", "--remove", "--data", dir, "--out", `${tmp.path}/x`]),
      );
      assert.notEqual(busy.code, 0);
      const code = JSON.parse(
        (await cliRun(["device", "link", "--data", dir, "--json"])).stdout,
      ) as LinkCodeView;
      const r = await cliRun(["init", "--data", phoneDir, "--join", code.text, "--name", "phone"]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await ctl.close();
    }
    // The phone and the laptop met once, so the laptop knows where the phone listens: the
    // phone knows the laptop by the person key, which stops being the laptop's host key.
    phone = await startTestNode("phone", { host: "127.0.0.84", dir: phoneDir });
    await laptop.waitFor(ownUp, 15_000);
    await phone.stop();
    await laptop.stop();

    const out = `${tmp.path}/alice.key`;
    const r = await withPassphrase(PASS, () =>
      cliRun([
        "key",
        "export",
        "--remove",
        "--data",
        dir,
        "--out",
        out,
        "--name",
        "laptop",
        "--json",
      ]));
    assert.equal(r.code, 0, r.stderr);
    const done = JSON.parse(r.stdout) as { device: string; deviceFingerprint: string };
    assert.equal(done.device, "laptop");
    const line = publicKeyLine(person, "x").split(" ").slice(0, 2).join(" ");
    assert.equal((await sshKeygenPublic(out, PASS)).split(" ").slice(0, 2).join(" "), line);
    // The person key is nowhere in the folder any more.
    const seed = (await openProfileKey(out)).seed;
    await noSeedIn(dir, seed);

    phone = await startTestNode("phone", { host: "127.0.0.84", dir: phoneDir });
    laptop = await startTestNode("alice", { host: "127.0.0.82", port, dir });
    assert.ok(!bytesEqual(laptop.node.publicKey, person));
    assert.equal(fingerprint(laptop.node.publicKey), done.deviceFingerprint);
    // Besides the devices, a device lists the person key itself (standing "person", devlist1).
    const rows = (await laptop.node.call("devices", {})).filter((d) => d.standing !== "person");
    assert.deepEqual(rows.map((d) => [d.name, d.self]), [["laptop", true], ["phone", false]]);

    // Bob takes the laptop as alice (its certificate chains to her key), both ways.
    await laptop.node.call("send", { chat: "bob", text: "from the device key" });
    await until(async () => (await bodies(bob, "alice")).includes("from the device key"), 15_000);
    const atBob = (await bob.node.call("read", { chat: "alice" })).find((m) =>
      m.body === "from the device key"
    );
    assert.equal(atBob?.author, "alice");
    assert.equal(atBob?.authorFingerprint, done.deviceFingerprint);
    await bob.node.call("send", { chat: "alice", text: "bob to alice" });
    await until(async () => (await bodies(laptop, "bob")).includes("bob to alice"), 15_000);

    // The phone and the laptop sync as two devices of alice (the laptop dials the phone).
    await laptop.waitFor(ownUp, 15_000);
    await phone.node.call("send", { chat: "bob", text: "phone to bob" });
    await until(async () => (await bodies(laptop, "bob")).includes("phone to bob"), 15_000);
    await laptop.node.call("send", { chat: "bob", text: "laptop to the phone" });
    await until(async () => (await bodies(phone!, "bob")).includes("laptop to the phone"), 15_000);
    assert.ok((await bodies(phone, "bob")).includes("from the person key's node"));

    // Linking and removing now need the exported key, lent for the one call.
    const ctl2 = await serveControl(controlSocketPath(dir), laptop.node);
    try {
      const bare = await cliRun(["device", "link", "--data", dir, "--json"]);
      assert.notEqual(bare.code, 0);
      assert.match(
        bare.stderr + bare.stdout,
        /does not hold the person key.*--key/,
        JSON.stringify(bare),
      );
      const noRemove = await cliRun(["device", "remove", "phone", "--data", dir]);
      assert.notEqual(noRemove.code, 0);
      assert.match(noRemove.stderr, /--key/);
      // Another person's key is refused, wherever it came from.
      const other = `${tmp.path}/bob.key`;
      const exp = await withPassphrase(
        PASS,
        () => cliRun(["key", "export", "--data", bob.dir, "--out", other]),
      );
      assert.equal(exp.code, 0, exp.stderr);
      const foreign = await withPassphrase(
        PASS,
        () => cliRun(["device", "link", "--data", dir, "--key", other]),
      );
      assert.notEqual(foreign.code, 0);
      assert.match(foreign.stderr, /not this person's key/);
      const wrong = await withPassphrase(
        "not it",
        () => cliRun(["device", "link", "--data", dir, "--key", out]),
      );
      assert.notEqual(wrong.code, 0);

      const linked = await withPassphrase(
        PASS,
        () => cliRun(["device", "link", "--data", dir, "--key", out, "--json"]),
      );
      assert.equal(linked.code, 0, linked.stderr);
      const code = JSON.parse(linked.stdout) as LinkCodeView;
      const tabletDir = `${tmp.path}/tablet`;
      const j = await cliRun([
        "init",
        "--data",
        tabletDir,
        "--join",
        code.text,
        "--name",
        "tablet",
      ]);
      assert.equal(j.code, 0, j.stderr);
      const twice = await cliRun(["init", "--data", `${tmp.path}/t2`, "--join", code.text]);
      assert.notEqual(twice.code, 0, "the code is used once");
      const names = (await laptop.node.call("devices", {}))
        .filter((d) => d.standing !== "person").map((d) => d.name);
      assert.deepEqual(names, ["laptop", "phone", "tablet"]);
      // The tablet's certificate is the person's (join checked it); bob takes the tablet as alice.
      const t = await startTestNode("tablet", { host: "127.0.0.86", dir: tabletDir });
      try {
        await t.node.call("send", { chat: "bob", text: "from the tablet" });
        await until(async () => (await bodies(bob, "alice")).includes("from the tablet"), 15_000);
      } finally {
        await t.stop();
      }

      const from = bob.events.length;
      const removed = await withPassphrase(
        PASS,
        () => cliRun(["device", "remove", "phone", "--data", dir, "--key", out, "--json"]),
      );
      assert.equal(removed.code, 0, removed.stderr);
      await bob.waitFor((e) => e.type === "device" && e.op === "revoked", 15_000, from);
      const standing = (await laptop.node.call("devices", {})).find((d) => d.name === "phone");
      assert.equal(standing?.standing, "revoked");
      // The lent key was used, not kept.
      await noSeedIn(dir, seed);
    } finally {
      await ctl2.close();
    }
  } finally {
    await phone?.stop();
    await laptop.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("roj key export --remove stopped at any step leaves a folder that starts, and running it again finishes", async () => {
  await using tmp = await tempDir();
  for (const step of ["exported", "key", "recorded"] as OfflineStep[]) {
    const dir = `${tmp.path}/${step}`;
    const made = await initProfile(dir, { name: "alice" });
    const person = made.keyPair.publicKey;
    made.store.close();
    const out = `${dir}.key`;
    const options = { out, passphrase: () => Promise.resolve(PASS), rounds: 2 };
    await assert.rejects(
      goOffline(dir, {
        ...options,
        onStep: (s) => {
          if (s === step) throw new Error(`stopped at ${s}`);
        },
      }),
      /stopped at/,
    );
    // It starts: as the person key's node before the store changed, as the device after.
    const n = await startTestNode("alice", { host: "127.0.0.85", dir });
    const isDevice = !bytesEqual(n.node.publicKey, person);
    assert.equal(isDevice, step === "recorded", step);
    await n.stop();
    if (!isDevice) {
      // Again, with the export it wrote already.
      const again = await goOffline(dir, options);
      assert.equal(again.fingerprint, fingerprint(person));
    }
    const p = await openProfile(dir);
    try {
      assert.ok(!bytesEqual(p.keyPair.publicKey, person), step);
      const self = await deviceIdentity(p.store.kv);
      assert.ok(self && bytesEqual(self.person, person));
      assert.ok(bytesEqual(self.certificate.publicKey, p.keyPair.publicKey));
    } finally {
      p.store.close();
    }
    assert.equal(
      (await sshKeygenPublic(out, PASS)).split(" ").slice(0, 2).join(" "),
      publicKeyLine(person, "x").split(" ").slice(0, 2).join(" "),
    );
  }
});

async function openProfileKey(file: string) {
  return await decodePrivateKey(await Deno.readTextFile(file), PASS);
}

/** No file of `dir` holds `seed` (the store included). */
async function noSeedIn(dir: string, seed: Uint8Array): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const bytes = await Deno.readFile(`${dir}/${e.name}`);
    const hexSeed = new TextEncoder().encode(
      [...seed].map((b) => b.toString(16).padStart(2, "0")).join(""),
    );
    assert.ok(
      !contains(bytes, seed) && !contains(bytes, hexSeed),
      `${e.name} holds no person key seed`,
    );
  }
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("after roj key export --remove the laptop still reads and writes the groups it had", async () => {
  await using tmp = await tempDir();
  let laptop = await startTestNode("alice", { host: "127.0.0.87" });
  const dir = laptop.dir;
  const port = Number((await laptop.node.call("status", {})).listen[0]!.split(":").pop());
  await using bob = await startTestNode("bob", { host: "127.0.0.88" });
  try {
    await befriend(laptop, bob);
    await foundGroup(laptop, [bob]);
    await laptop.node.call("send", { chat: "climbers", text: "before" });
    await until(async () => (await bodies(bob, "climbers")).includes("before"), 15_000);
    await laptop.stop();
    const r = await goOffline(dir, {
      out: `${tmp.path}/alice.key`,
      passphrase: () => Promise.resolve(PASS),
      rounds: 2,
      name: "laptop",
    });
    assert.equal(r.device, "laptop");
    laptop = await startTestNode("alice", { host: "127.0.0.87", port, dir });
    assert.ok((await bodies(laptop, "climbers")).includes("before"));
    await laptop.node.call("send", { chat: "climbers", text: "after" });
    await until(async () => (await bodies(bob, "climbers")).includes("after"), 15_000);
    await bob.node.call("send", { chat: "climbers", text: "bob after" });
    await until(async () => (await bodies(laptop, "climbers")).includes("bob after"), 15_000);
  } finally {
    await laptop.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("roj device renew --key renews, on the offline laptop, its own certificate and the phone's", async () => {
  await using tmp = await tempDir();
  const DAY = 86_400_000;
  let ahead = 0;
  const now = () => Date.now() + ahead;
  let laptop = await startTestNode("alice", { host: "127.0.0.89", now });
  const dir = laptop.dir;
  try {
    const phoneDir = `${tmp.path}/phone`;
    await joinPerson(phoneDir, (await laptop.node.call("device.link", {})).text, { name: "phone" });
    await laptop.stop();
    const out = `${tmp.path}/alice.key`;
    await goOffline(dir, {
      out,
      passphrase: () => Promise.resolve(PASS),
      rounds: 2,
      name: "laptop",
    });
    ahead = 80 * DAY;
    laptop = await startTestNode("alice", { host: "127.0.0.89", dir, now });
    const before = (await laptop.node.call("devices", {})).filter((d) => d.standing !== "person");
    assert.ok(before.every((d) => d.renewalDue), "both are due");
    const ctl = await serveControl(controlSocketPath(dir), laptop.node);
    try {
      const bare = await cliRun(["device", "renew", "--data", dir]);
      assert.notEqual(bare.code, 0);
      assert.match(bare.stderr, /--key/);
      const r = await withPassphrase(
        PASS,
        () => cliRun(["device", "renew", "--data", dir, "--key", out, "--json"]),
      );
      assert.equal(r.code, 0, r.stderr);
      const rows = (JSON.parse(r.stdout) as {
        name: string;
        standing: string;
        validUntil: number;
        renewalDue: boolean;
      }[]).filter((d) => d.standing !== "person");
      assert.deepEqual(rows.map((d) => [d.name, d.renewalDue]), [["laptop", false], [
        "phone",
        false,
      ]]);
      for (const d of rows) assert.ok(d.validUntil > now() + 80 * DAY, d.name);
    } finally {
      await ctl.close();
    }
    // The laptop's own renewed certificate is the one it keeps.
    await laptop.stop();
    const p = await openProfile(dir);
    try {
      const self = await deviceIdentity(p.store.kv);
      assert.ok(self!.certificate.validBefore * 1000 > now() + 80 * DAY);
    } finally {
      p.store.close();
    }
  } finally {
    await laptop.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("roj key export --remove keeps a passphrase-protected folder protected: the device key gets the same passphrase", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/alice`;
  const folderPass = "folder secret";
  (await initProfile(dir, { name: "alice", passphrase: folderPass })).store.close();
  const ask = () => Promise.resolve(folderPass);
  await goOffline(dir, {
    out: `${tmp.path}/alice.key`,
    passphrase: () => Promise.resolve(PASS),
    ask,
    rounds: 2,
  });
  assert.ok(isEncryptedPrivateKey(await Deno.readTextFile(`${dir}/id_ed25519`)));
  await assert.rejects(openProfile(dir), /passphrase/);
  const p = await openProfile(dir, ask);
  try {
    assert.ok(await deviceIdentity(p.store.kv));
  } finally {
    p.store.close();
  }
});
