/**
 * What `roj devices` says of a linked device, and what a removal leaves
 * behind (issue 13 items 6 and "roj devices … online"), over real SSH: alice
 * on a laptop (the person key) and a phone (a certified device key); the
 * phone's session with the laptop is a sibling session (device_sync/
 * sibling_sync.ts), not a contact's.
 */
import assert from "node:assert/strict";
import { startTestNode, type TestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { DeviceView, NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

/** Unusual loopback bases, so that no other test's nodes sit at these addresses. */
const BASE = "127.77.15";

const ownDevice = (op: string) => (e: NodeEvent) => e.type === "own-device" && e.op === op;

/** Links a new device named `name` of `laptop`'s person, in `dir`. */
const link = async (laptop: TestNode, dir: string, name: string) =>
  joinPerson(dir, (await laptop.node.call("device.link", {})).text, { name });

/** `roj devices --json` on `n`, through its control socket. */
async function devicesJson(n: TestNode): Promise<DeviceView[]> {
  const r = await cliRun(["devices", "--data", n.dir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DeviceView[];
}

Deno.test("roj devices: the phone is online while its sibling session with the laptop is up, offline once it is gone", async () => {
  await using tmp = await tempDir();
  await using laptop = await startTestNode("alice", { host: `${BASE}.2` });
  const ctl = await serveControl(controlSocketPath(laptop.dir), laptop.node);
  try {
    const joined = await link(laptop, `${tmp.path}/phone`, "phone");
    const from = laptop.events.length;
    {
      await using _phone = await startTestNode("phone", {
        host: `${BASE}.3`,
        dir: `${tmp.path}/phone`,
      });
      await laptop.waitFor(ownDevice("up"), 15_000, from);
      const before = Date.now();
      const [row] = await devicesJson(laptop);
      assert.equal(row?.fingerprint, joined.fingerprint);
      assert.equal(row?.online, true, JSON.stringify(row));
      assert.ok(row!.lastSeen! >= before, "last seen: now, while online");
      const text = await cliRun(["devices", "--data", laptop.dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^phone +SHA256:\S+ +since .* +valid until .* +online\n$/);
    }
    // The phone stopped: its session ended, and the row says so.
    await laptop.waitFor(ownDevice("down"), 10_000, from);
    const [row] = await devicesJson(laptop);
    assert.equal(row?.online, false, JSON.stringify(row));
  } finally {
    await ctl.close();
  }
});
