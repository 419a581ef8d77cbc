/**
 * Linking a new device to a person over real SSH (issue 13, first slice):
 * `roj device link` on alice's laptop (a real node with its control socket),
 * `roj init --join` in a new folder (the phone, no node running), `roj
 * devices`. The phone gets a certificate that ssh-keygen -L reads; both sides
 * show the phone's fingerprint; a used, a foreign and an expired code are
 * refused with their reasons and leave no folder behind; a code survives a
 * restart of the laptop, and a used one stays used.
 */
import assert from "node:assert/strict";
import { startTestNode, type TestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { createLinkCode } from "../node/devices/mod.ts";
import { certificateLine, fingerprint } from "../node/identity/mod.ts";
import { deviceIdentity, joinPerson } from "../node/linking/mod.ts";
import { isRojError } from "../node/errors.ts";
import { openStore } from "../node/store/mod.ts";
import type { DeviceView, LinkCodeView, NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

const exists = (path: string) =>
  Deno.stat(path).then(() => true, (err) => {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  });

async function linkCode(dir: string): Promise<LinkCodeView> {
  const r = await cliRun(["device", "link", "--data", dir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LinkCodeView;
}

async function join(dir: string, code: string, name?: string) {
  return await cliRun([
    "init",
    "--data",
    dir,
    "--join",
    code,
    ...(name ? ["--name", name] : []),
    "--json",
  ]);
}

const linked = (e: NodeEvent) => e.type === "device" && e.op === "linked";
const refused = (why: string) => (e: NodeEvent) =>
  e.type === "device" && e.op === "refused" && e.reason === why;

async function withControl(a: TestNode, fn: () => Promise<void>): Promise<void> {
  const ctl = await serveControl(controlSocketPath(a.dir), a.node);
  try {
    await fn();
  } finally {
    await ctl.close();
  }
}

Deno.test("roj device link + roj init --join: the phone gets a certificate from alice's key", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using tmp = await tempDir();
  const phone = `${tmp.path}/phone`;
  await withControl(a, async () => {
    const code = await linkCode(a.dir);
    assert.match(code.text, /^rojdev1:/);
    const now = Date.now();
    assert.ok(code.expires > now + 9 * 60_000 && code.expires <= now + 10 * 60_000);

    const r = await join(phone, code.text, "phone");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.device, "phone");
    assert.equal(out.person, "alice");
    assert.equal(out.personFingerprint, a.node.fingerprint);
    // Both screens show the new device's fingerprint.
    const e = await a.waitFor(linked) as NodeEvent & { type: "device" };
    assert.equal(e.name, "phone");
    assert.equal(e.fingerprint, out.fingerprint);

    // The phone's folder: its own key (not alice's), its certificate, alice's key as its person.
    const pub = (await Deno.readTextFile(`${phone}/id_ed25519.pub`)).trim();
    assert.notEqual(pub.split(" ")[1], a.node.keyLine.split(" ")[1]);
    const store = await openStore(`${phone}/roj.kv`);
    const id = await deviceIdentity(store.kv);
    store.close();
    assert.ok(id);
    assert.equal(fingerprint(id.person), a.node.fingerprint);
    assert.equal(fingerprint(id.certificate.publicKey), out.fingerprint);
    assert.deepEqual(id.certificate.principals, [a.node.fingerprint]);
    assert.equal(id.certificate.keyId, "phone");

    // Stock OpenSSH reads the certificate: key id, principal, signed by alice's key.
    await Deno.writeTextFile(`${tmp.path}/phone-cert.pub`, certificateLine(id.certificate) + "\n");
    const l = await new Deno.Command("ssh-keygen", {
      args: ["-L", "-f", `${tmp.path}/phone-cert.pub`],
    })
      .output();
    const listing = new TextDecoder().decode(l.stdout);
    assert.equal(l.code, 0, new TextDecoder().decode(l.stderr));
    assert.match(listing, /Key ID: "phone"/);
    assert.ok(listing.includes(a.node.fingerprint), listing);

    // roj devices on the laptop: the phone, certified now, valid ~90 days, offline.
    const d = await cliRun(["devices", "--data", a.dir, "--json"]);
    assert.equal(d.code, 0, d.stderr);
    const rows = JSON.parse(d.stdout) as DeviceView[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.name, "phone");
    assert.equal(rows[0]!.fingerprint, out.fingerprint);
    assert.equal(rows[0]!.standing, "valid");
    assert.equal(rows[0]!.online, false);
    assert.ok(rows[0]!.validUntil! > Date.now() + 89 * 86_400_000);
    const text = await cliRun(["devices", "--data", a.dir]);
    assert.match(text.stdout, /^phone +SHA256:\S+ +since .* +valid until .* +offline\n$/);

    // The phone signs with its own key and its certificate: stock ssh-keygen verifies its
    // exported entry against alice's key as a cert-authority, the identity her fingerprint.
    const note = await cliRun(["note", "--data", phone, "from the phone"]);
    assert.equal(note.code, 0, note.stderr);
    const exported = await cliRun(["export", "--data", phone, "notes"]);
    assert.equal(exported.code, 0, exported.stderr);
    const line = JSON.parse(exported.stdout.trim().split("\n")[0]!);
    await Deno.writeFile(
      `${tmp.path}/e.bin`,
      Uint8Array.from(atob(line.signed), (c) => c.charCodeAt(0)),
    );
    await Deno.writeTextFile(`${tmp.path}/e.sig`, line.sig);
    const verify = async (signers: string) => {
      await Deno.writeTextFile(`${tmp.path}/allowed_signers`, signers + "\n");
      const v = await new Deno.Command("ssh-keygen", {
        args: [
          "-Y",
          "verify",
          "-f",
          `${tmp.path}/allowed_signers`,
          "-I",
          a.node.fingerprint,
          "-n",
          "roj-entry",
          "-s",
          `${tmp.path}/e.sig`,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = v.stdin.getWriter();
      await w.write(await Deno.readFile(`${tmp.path}/e.bin`));
      await w.close();
      const o = await v.output();
      return {
        code: o.code,
        out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
      };
    };
    const good = await verify(`${a.node.fingerprint} cert-authority ${a.node.keyLine}`);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /Good "roj-entry" signature for SHA256:\S+ with ED25519-CERT key/);
    // Another person's key as the authority: refused.
    const other = `${tmp.path}/other`;
    await new Deno.Command("ssh-keygen", { args: ["-q", "-t", "ed25519", "-N", "", "-f", other] })
      .output();
    const otherKey = (await Deno.readTextFile(`${other}.pub`)).trim();
    assert.notEqual((await verify(`${a.node.fingerprint} cert-authority ${otherKey}`)).code, 0);

    // A used code is refused with its reason, and the second folder is not made.
    const again = await join(`${tmp.path}/tablet`, code.text, "tablet");
    assert.equal(again.code, 5, again.stdout + again.stderr);
    assert.match(JSON.parse(again.stdout).error.message, /already used/);
    await a.waitFor(refused("used"));
    assert.equal(await exists(`${tmp.path}/tablet`), false);
    assert.equal((await a.node.call("devices", {})).length, 1);
  });
});

Deno.test("roj init --join refuses a foreign secret, an expired code and a taken name, leaving no folder", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using tmp = await tempDir();
  await withControl(a, async () => {
    const real = await linkCode(a.dir);
    // Signed by alice's node like a real code, but with a secret it never stored.
    const foreign = await createLinkCode(a.node.signer, {
      person: a.node.publicKey,
      addresses: real.addresses,
      expires: Date.now() + 60_000,
      secret: crypto.getRandomValues(new Uint8Array(32)),
    });
    const r1 = await join(`${tmp.path}/p1`, foreign, "p1");
    assert.equal(r1.code, 5, r1.stdout + r1.stderr);
    assert.match(JSON.parse(r1.stdout).error.message, /not made here/);
    await a.waitFor(refused("wrong_secret"));
    assert.equal(await exists(`${tmp.path}/p1`), false);

    const expired = await createLinkCode(a.node.signer, {
      person: a.node.publicKey,
      addresses: real.addresses,
      expires: Date.now() - 1000,
      secret: crypto.getRandomValues(new Uint8Array(32)),
    });
    const r2 = await join(`${tmp.path}/p2`, expired, "p2");
    assert.equal(r2.code, 2, r2.stdout + r2.stderr);
    assert.match(JSON.parse(r2.stdout).error.message, /expired/);
    assert.equal(await exists(`${tmp.path}/p2`), false);

    const ok = await join(`${tmp.path}/p3`, real.text, "phone");
    assert.equal(ok.code, 0, ok.stderr);
    const second = await linkCode(a.dir);
    const r4 = await join(`${tmp.path}/p4`, second.text, "phone");
    assert.equal(r4.code, 5, r4.stdout + r4.stderr);
    assert.match(JSON.parse(r4.stdout).error.message, /named phone is linked already/);
    assert.equal(await exists(`${tmp.path}/p4`), false);
    // The refused name left the code open: another name takes it.
    const r5 = await join(`${tmp.path}/p5`, second.text, "tablet");
    assert.equal(r5.code, 0, r5.stderr);
    assert.deepEqual((await a.node.call("devices", {})).map((d) => d.name), ["phone", "tablet"]);
  });
});

Deno.test("a link code survives a restart of the laptop, and a used one stays used", async () => {
  await using tmp = await tempDir();
  const a1 = await startTestNode("alice", { host: "127.0.0.2" });
  const port = Number((await a1.node.call("status", {})).listen[0]!.split(":").pop());
  let code: LinkCodeView;
  let used: LinkCodeView;
  try {
    await withControl(a1, async () => {
      code = await linkCode(a1.dir);
      used = await linkCode(a1.dir);
      const r = await join(`${tmp.path}/early`, used.text, "early");
      assert.equal(r.code, 0, r.stderr);
    });
  } finally {
    await a1.stop();
  }
  await using a = await startTestNode("alice", { host: "127.0.0.2", port, dir: a1.dir });
  try {
    const r = await join(`${tmp.path}/phone`, code!.text, "phone");
    assert.equal(r.code, 0, r.stderr);
    const again = await join(`${tmp.path}/again`, used!.text, "again");
    assert.equal(again.code, 5, again.stdout);
    assert.match(JSON.parse(again.stdout).error.message, /already used/);
    assert.deepEqual((await a.node.call("devices", {})).map((d) => d.name), ["early", "phone"]);
  } finally {
    await Deno.remove(a1.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("roj device link --wait prints the new device's fingerprint once it linked", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using tmp = await tempDir();
  await withControl(a, async () => {
    let out = "";
    let gotCode: (code: string) => void;
    const code = new Promise<string>((resolve) => (gotCode = resolve));
    const waiting = cliRun(["device", "link", "--data", a.dir, "--wait"], {
      out: (t) => {
        out += t;
        const m = /^(rojdev1:\S+)$/m.exec(out);
        if (m) gotCode(m[1]!);
      },
    });
    const r = await join(`${tmp.path}/phone`, await code, "phone");
    assert.equal(r.code, 0, r.stderr);
    const fp = JSON.parse(r.stdout).fingerprint as string;
    const done = await waiting;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(out.includes(`linked phone: ${fp}`), out);
  });
});

Deno.test("on the phone: roj devices shows its own certificate; linking and removing need the person key", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await withControl(a, async () => {
    const r = await join(phoneDir, (await linkCode(a.dir)).text, "phone");
    assert.equal(r.code, 0, r.stderr);
  });
  await using phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir });
  const rows = await phone.node.call("devices", {});
  // Its own certificate, and the node with the person key (by the person's name).
  assert.deepEqual(rows.map((d) => [d.name, d.self, d.standing]), [
    ["alice", false, "person"],
    ["phone", true, "valid"],
  ]);
  assert.equal(phone.node.name, "alice", "the joined folder bears the person's name");
  await assert.rejects(() => phone.node.call("device.link", {}), /does not hold the person key/);
  await assert.rejects(
    () => phone.node.call("device.remove", { name: "phone" }),
    /does not hold the person key/,
  );
});

Deno.test("a laptop that links in one phase (no devlink2, an older version): the new device links as before", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2", omitFeatures: ["devlink2"] });
  await using tmp = await tempDir();
  await withControl(a, async () => {
    const r = await join(`${tmp.path}/phone`, (await linkCode(a.dir)).text, "phone");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(`${tmp.path}/phone.joining`), false);
    assert.deepEqual((await a.node.call("devices", {})).map((d) => d.name), ["phone"]);
    // Recorded at the first answer: no reservation was told.
    assert.equal(a.events.some((e) => e.type === "device" && e.op === "pending"), false);
  });
});

Deno.test("a code reserved for a new device that never confirmed: expired, it is refused and its folder removed; nothing linked", async () => {
  await using tmp = await tempDir();
  let ahead = 0;
  await using a = await startTestNode("alice", {
    host: "127.0.0.2",
    now: () => Date.now() + ahead,
  });
  const code = await a.node.call("device.link", {});
  const phone = `${tmp.path}/phone`;
  // Stopped right after the laptop reserved the code for it (as a kill there would).
  await assert.rejects(
    joinPerson(phone, code.text, {
      name: "phone",
      onStep: (step) => {
        if (step === "certified") throw new Error("stopped");
      },
    }),
    /stopped/,
  );
  await a.waitFor((e) => e.type === "device" && e.op === "pending");
  assert.equal(await exists(`${phone}.joining`), true);
  assert.deepEqual(await a.node.call("devices", {}), []);
  ahead = 11 * 60_000;
  await assert.rejects(
    joinPerson(phone, code.text, { name: "phone" }),
    (e) => isRojError(e, "refused") && /expired/.test(e.message),
  );
  assert.equal(await exists(phone), false);
  assert.equal(await exists(`${phone}.joining`), false);
  assert.deepEqual(await a.node.call("devices", {}), []);
});
