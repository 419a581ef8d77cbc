/**
 * A member's devices at a passive anchor, which keeps no member's key at rest
 * (contacts/member_ids.ts): the anchor takes the phone's session as alice's
 * from its certificate, holds the certificate in memory only, keeps alice's
 * revocation of the phone as a pair of keyed hashes, and still refuses the
 * phone after a restart; its folder holds neither key.
 */
import assert from "node:assert/strict";
import { joinAnchor, startTestNode } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import { parsePublicKeyLine } from "../node/identity/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { personNeedles, scanFolder } from "../testing/folder_scan.ts";

Deno.test("an anchor takes a member's device, keeps its revocation as hashes across a restart, and stores neither key", async () => {
  await using tmp = await tempDir();
  const hive = await startTestNode("hive", { host: "127.3.2.9", passive: true });
  const a1 = await startTestNode("alicia-wren", { host: "127.3.2.2" });
  const phoneDir = `${tmp.path}/phone`;
  const port = hive.node.address!.port;
  let phoneKey: Uint8Array;
  try {
    await joinAnchor(a1, hive);
    await joinPerson(phoneDir, (await a1.node.call("device.link", {})).text, { name: "phone" });
    phoneKey = parsePublicKeyLine(await Deno.readTextFile(`${phoneDir}/id_ed25519.pub`)).publicKey;
  } finally {
    await a1.stop();
  }
  try {
    {
      await using phone = await startTestNode("phone", { host: "127.3.2.4", dir: phoneDir });
      await hive.waitFor((e) => e.type === "device" && e.op === "accepted", 15_000);
      const from = hive.events.length;
      await using a = await startTestNode("alicia-wren", { host: "127.3.2.2", dir: a1.dir });
      await a.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "hive");
      const ctl = await serveControl(controlSocketPath(a.dir), a.node);
      try {
        const r = await cliRun(["device", "remove", "phone", "--data", a.dir, "--json"]);
        assert.equal(r.code, 0, r.stderr);
      } finally {
        await ctl.close();
      }
      await hive.waitFor((e) => e.type === "device" && e.op === "revoked", 15_000, from);
      await a.stop();
      await phone.stop();
    }
    await hive.stop();
    const needles = [
      ...personNeedles("alice", "alicia-wren", a1.node.publicKey),
      ...personNeedles("the phone", "phone", phoneKey!).slice(1),
    ];
    assert.deepEqual(await scanFolder(hive.dir, needles), []);

    // Restarted, the anchor still refuses the phone.
    await using again = await startTestNode("hive", {
      host: "127.3.2.9",
      port,
      dir: hive.dir,
      passive: true,
    });
    await using phone = await startTestNode("phone", { host: "127.3.2.4", dir: phoneDir });
    const refused = await again.waitFor(
      (e) => e.type === "device" && e.op === "refused",
      15_000,
    ) as NodeEvent & { type: "device" };
    assert.match(refused.reason!, /revoked/);
    assert.ok(!again.events.some((e) => e.type === "session" && e.state === "up"));
    await phone.stop();
  } finally {
    await hive.stop();
    for (const d of [a1.dir, hive.dir]) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
