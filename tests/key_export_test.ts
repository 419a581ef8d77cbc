/**
 * The person key kept offline (issue 13, item 1): `roj key export` writes it
 * as a passphrase-protected OpenSSH private key that the real `ssh-keygen`
 * reads, 0600, never over an existing file, never with an empty passphrase,
 * and only where the person key is.
 */
import assert from "node:assert/strict";
import { startTestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { initProfile } from "../node/home/mod.ts";
import { publicKeyLine } from "../node/identity/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { openStore } from "../node/store/mod.ts";
import { keys } from "../node/store/mod.ts";
import { sshKeygenPublic, withPassphrase } from "../testing/key_files.ts";

const PASS = "correct horse battery";

Deno.test("roj key export: ssh-keygen reads the person key with its passphrase; 0600; never overwrites", async () => {
  await using tmp = await tempDir();
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  const out = `${tmp.path}/alice-person.key`;
  const r = await withPassphrase(
    PASS,
    () => cliRun(["key", "export", "--data", alice.dir, "--out", out, "--json"]),
  );
  assert.equal(r.code, 0, r.stderr);
  const line = publicKeyLine(alice.node.publicKey, "x").split(" ").slice(0, 2).join(" ");
  assert.equal((await sshKeygenPublic(out, PASS)).split(" ").slice(0, 2).join(" "), line);
  assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);
  const wrong = await new Deno.Command("ssh-keygen", { args: ["-y", "-P", "nope", "-f", out] })
    .output();
  assert.notEqual(wrong.code, 0, "a wrong passphrase does not open it");

  // An existing file is never replaced, whatever it holds.
  const before = await Deno.readTextFile(out);
  const again = await withPassphrase(
    PASS,
    () => cliRun(["key", "export", "--data", alice.dir, "--out", out]),
  );
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists/);
  assert.equal(await Deno.readTextFile(out), before);

  // An empty passphrase is refused, and nothing is written.
  const empty = `${tmp.path}/empty.key`;
  const none = await withPassphrase(
    "",
    () => cliRun(["key", "export", "--data", alice.dir, "--out", empty]),
  );
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /passphrase is empty/);
  await assert.rejects(Deno.stat(empty), Deno.errors.NotFound);
  assert.deepEqual(
    [...Deno.readDirSync(tmp.path)].map((e) => e.name),
    ["alice-person.key"],
    "no temporary file is left",
  );
});

Deno.test("roj key export: a device's folder holds no person key to export", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/phone`;
  const p = await initProfile(dir, { name: "phone" });
  p.store.close();
  const store = await openStore(`${dir}/roj.kv`);
  // Marked a device as `roj init --join` does (the certificate itself is not read here).
  await store.kv.set(keys.setting("devicePerson"), new Uint8Array(32));
  store.close();
  const r = await withPassphrase(
    PASS,
    () => cliRun(["key", "export", "--data", dir, "--out", `${tmp.path}/k`]),
  );
  assert.notEqual(r.code, 0);
  await assert.rejects(Deno.stat(`${tmp.path}/k`), Deno.errors.NotFound);
});

Deno.test("roj key export --help says what it writes", async () => {
  const r = await cliRun(["key", "export", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--out/);
});
