/**
 * Renewing device certificates (issue 13, item 6) with real nodes over real
 * SSH, their clocks moved ahead: alice's laptop renews the phone's
 * certificate as it falls due (14 days before its 90 end) and hands it to
 * bob; the phone, due too, fetches it from the laptop, and while the laptop
 * is down it says the renewal is due and the person key is not at hand (as
 * `roj devices` warns). Past the first certificate's end, carol (away
 * while alice renewed) accepts the running phone on the renewed one its
 * hello now carries, and bob accepts it after it started again.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { LinkCodeView, NodeEvent } from "../node/mod.ts";
import { renewalWarnings } from "../cli/commands_devices.ts";
import { tempDir } from "../testing/temp.ts";

const DAY = 86_400_000;
type DeviceEvent = NodeEvent & { type: "device" };
const device = (op: string, fp?: string) => (e: NodeEvent) =>
  e.type === "device" && e.op === op && (fp === undefined || e.fingerprint === fp);

Deno.test("a renewed certificate reaches the phone and bob; past the first one's end, carol and bob accept the phone on it", async () => {
  await using tmp = await tempDir();
  const ahead = { alice: 0, bob: 0, phone: 0, carol: 0 };
  const clock = (who: keyof typeof ahead) => () => Date.now() + ahead[who];
  let alice: TestNode = await startTestNode("alice", { host: "127.0.0.2", now: clock("alice") });
  const aliceDir = alice.dir;
  const port = Number((await alice.node.call("status", {})).listen[0]!.split(":").pop());
  await using bob = await startTestNode("bob", { host: "127.0.0.3", now: clock("bob") });
  // Carol is away while alice renews: only the phone's hello can tell her of the renewal.
  await using carolAway = await startTestNode("carol", { host: "127.0.0.5", now: clock("carol") });
  const phoneDir = `${tmp.path}/phone`;
  let phone: TestNode | undefined;
  try {
    await befriend(alice, bob);
    await befriend(alice, carolAway);
    const ctl = await serveControl(controlSocketPath(alice.dir), alice.node);
    try {
      const code = JSON.parse(
        (await cliRun(["device", "link", "--data", alice.dir, "--json"])).stdout,
      ) as LinkCodeView;
      const r = await cliRun(["init", "--data", phoneDir, "--join", code.text, "--name", "phone"]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await ctl.close();
    }
    const [first] = await alice.node.call("devices", {});
    assert.ok(first && first.validUntil! > Date.now() + 89 * DAY);
    await alice.stop();
    await carolAway.stop();

    // 80 days on: due. The laptop is down, so the phone cannot renew, and says so.
    ahead.alice = ahead.bob = ahead.phone = 80 * DAY;
    phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir, now: clock("phone") });
    const due = await phone.waitFor(device("renewal_due")) as DeviceEvent;
    assert.equal(due.fingerprint, first.fingerprint);
    const rows = await phone.node.call("devices", {});
    const self = rows.find((r) => r.self)!; // the rows list the person key's node too
    assert.equal(self.renewalDue, true);
    assert.ok(self.renewalBlocked, "the phone says why it was not renewed");
    assert.match(renewalWarnings(rows)[0]!, /due for renewal, but the person key is not at hand/);
    await phone.stop();

    // The laptop starts: it renews the phone's certificate and hands it to bob.
    alice = await startTestNode("alice", {
      host: "127.0.0.2",
      port,
      dir: aliceDir,
      now: clock("alice"),
    });
    await alice.waitFor(device("renewed", first.fingerprint));
    const [renewed] = await alice.node.call("devices", {});
    assert.ok(renewed!.validUntil! > first.validUntil! + 79 * DAY);
    assert.equal(renewed!.renewalDue, false);
    await bob.waitFor(device("renewed", first.fingerprint), 15_000);

    // The phone fetches its renewed certificate from the laptop.
    phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir, now: clock("phone") });
    await phone.waitFor(device("renewed", first.fingerprint));
    const mine = (await phone.node.call("devices", {})).find((r) => r.self)!;
    assert.equal(mine.validUntil, renewed!.validUntil);
    assert.equal(mine.renewalDue, false);
    await alice.stop();

    // 95 days on, past the first certificate's end. Carol never saw the renewal: the running
    // phone's next hello carries it (it took it while running), and she accepts the phone.
    ahead.carol = ahead.phone = 95 * DAY;
    await using carol = await startTestNode("carol", {
      host: "127.0.0.5",
      dir: carolAway.dir,
      now: clock("carol"),
    });
    await phone.node.call("connect", { address: (await carol.node.call("status", {})).listen[0]! });
    await carol.waitFor(device("accepted", first.fingerprint), 15_000);
    await phone.stop();

    // Started again, the phone holds the renewed one: bob accepts it too.
    ahead.bob = 95 * DAY;
    const from = bob.events.length;
    phone = await startTestNode("phone", { host: "127.0.0.4", dir: phoneDir, now: clock("phone") });
    await bob.waitFor(device("accepted", first.fingerprint), 15_000, from);
    assert.equal(bob.events.slice(from).some(device("refused", first.fingerprint)), false);
  } finally {
    await phone?.stop();
    await alice.stop();
    await Deno.remove(aliceDir, { recursive: true }).catch(() => {});
  }
});
