/**
 * `roj key export --remove` killed with SIGKILL after each of its steps
 * (go_offline.ts: $ROJ_TEST_OFFLINE_HOLD makes the real process wait there,
 * so the kill lands right after that step): the folder still starts as a
 * node, as the person key's node before the store named the device key and
 * as the device from then on; run again, the command finishes; the export
 * always opens with the real ssh-keygen.
 */
import assert from "node:assert/strict";
import { initProfile, openProfile } from "../node/home/mod.ts";
import { publicKeyLine } from "../node/identity/mod.ts";
import { deviceIdentity, type OfflineStep } from "../node/linking/mod.ts";
import { bytesEqual } from "../node/wire/mod.ts";
import { cliRun } from "../testing/cli_run.ts";
import { sshKeygenPublic, withPassphrase } from "../testing/key_files.ts";
import { startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PASS = "kill nine";

/** Runs `roj key export --remove` in its own process and kills it with SIGKILL after `step`. */
async function killAfter(step: OfflineStep, dir: string, out: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      MAIN,
      "key",
      "export",
      "--remove",
      "--data",
      dir,
      "--out",
      out,
      "--name",
      "laptop",
    ],
    env: { ROJ_PASSPHRASE: PASS, ROJ_TEST_OFFLINE_HOLD: step, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the command ended before step ${step}: ${seen}`);
      seen += value;
      const held = seen.split("\n").some((l) => {
        try {
          const j = JSON.parse(l);
          return j.type === "offline" && j.step === step;
        } catch {
          return false;
        }
      });
      if (held) break;
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel().catch(() => {});
  }
}

Deno.test("kill -9 of roj key export --remove after each step: the folder starts, and running it again finishes", async () => {
  await using tmp = await tempDir();
  const steps: OfflineStep[] = ["exported", "key", "recorded", "replaced"];
  for (const [i, step] of steps.entries()) {
    const dir = `${tmp.path}/${step}`;
    const made = await initProfile(dir, { name: "alice" });
    const person = made.keyPair.publicKey;
    made.store.close();
    const out = `${tmp.path}/${step}.key`;
    await killAfter(step, dir, out);

    const n = await startTestNode("alice", { host: `127.0.0.${90 + i}`, dir });
    const isDevice = !bytesEqual(n.node.publicKey, person);
    await n.stop();
    assert.equal(isDevice, step === "recorded" || step === "replaced", step);
    if (!isDevice) {
      const r = await withPassphrase(
        PASS,
        () =>
          cliRun(["key", "export", "--remove", "--data", dir, "--out", out, "--name", "laptop"]),
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const p = await openProfile(dir);
    try {
      const self = await deviceIdentity(p.store.kv);
      assert.ok(self && bytesEqual(self.person, person), step);
      assert.ok(bytesEqual(self.certificate.publicKey, p.keyPair.publicKey), step);
      assert.equal(self.certificate.keyId, "laptop");
    } finally {
      p.store.close();
    }
    assert.equal(
      (await sshKeygenPublic(out, PASS)).split(" ").slice(0, 2).join(" "),
      publicKeyLine(person, "x").split(" ").slice(0, 2).join(" "),
      step,
    );
  }
});
