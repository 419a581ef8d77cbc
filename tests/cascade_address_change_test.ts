/**
 * The cascade's two other triggers (issue #4, Must have 3): a change of the
 * machine's own addresses, seen by polling Deno.networkInterfaces, and a peer
 * reporting that it sees us at a new address. Interface addresses can only
 * change for real inside a network namespace, so the scenario
 * (cascade_netns.ts) runs in one made with `unshare -rn`, as root of its own
 * user namespace; it is skipped, saying why, where that is not allowed.
 */
import assert from "node:assert/strict";

const SCRIPT = new URL("./cascade_netns.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Why the namespace cannot be made here, or null when it can. */
async function namespaceUnavailable(): Promise<string | null> {
  try {
    const out = await new Deno.Command("unshare", {
      args: ["-rn", "ip", "link", "set", "lo", "up"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success ? null : new TextDecoder().decode(out.stderr).trim();
  } catch (err) {
    return (err as Error).message; // unshare or ip not installed
  }
}

const unavailable = await namespaceUnavailable();
if (unavailable) {
  console.log(`cascade address-change test skipped: no network namespace here (${unavailable})`);
}

Deno.test({
  name:
    "cascade: a new interface address and an address a peer reports are published and reach the contacts",
  ignore: unavailable !== null,
  async fn() {
    const out = await new Deno.Command("unshare", {
      args: [
        "-rn",
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-all",
        "--config",
        CONFIG,
        SCRIPT,
      ],
      env: { ROJ_IN_NETNS: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    console.log(text.trim());
    assert.ok(out.success, "the scenario in the namespace failed (its log is above)");
    assert.match(text, /step 3:/);
  },
});
