/**
 * What `roj devices` says of a linked device, and what a removal leaves
 * behind (issue 13 items 6 and "roj devices … online"), over real SSH: alice
 * on a laptop (the person key) and a phone (a certified device key); the
 * phone's session with the laptop is a sibling session (device_sync/
 * sibling_sync.ts), not a contact's.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { DeviceView, NodeEvent } from "../node/mod.ts";
import { keys } from "../node/store/mod.ts";
import { tempDir } from "../testing/temp.ts";

/** Unusual loopback bases, so that no other test's nodes sit at these addresses. */
const BASE = "127.77.15";

const ownDevice = (op: string) => (e: NodeEvent) => e.type === "own-device" && e.op === op;
/** The sibling session with the device of fingerprint `fp` came up (or ended). */
const ownDeviceOf = (op: string, fp: string) => (e: NodeEvent) =>
  e.type === "own-device" && e.op === op && e.fingerprint === fp;

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

Deno.test("roj device remove: the laptop and bob forget the phone's addresses and sync marks, and refuse its next session", async () => {
  await using tmp = await tempDir();
  await using laptop = await startTestNode("alice", { host: `${BASE}.12` });
  await using bob = await startTestNode("bob", { host: `${BASE}.14` });
  await befriend(laptop, bob);
  await link(laptop, `${tmp.path}/phone`, "phone");
  await using phone = await startTestNode("phone", {
    host: `${BASE}.13`,
    dir: `${tmp.path}/phone`,
  });
  const phoneKey = phone.node.publicKey, alice = laptop.node.publicKey;
  const phoneFp = phone.node.fingerprint;
  const has = async (kv: Deno.Kv, key: Deno.KvKey) => (await kv.get(key)).versionstamp !== null;
  const laptopKv = laptop.node.profile.store.kv, bobKv = bob.node.profile.store.kv;
  // What each keeps of the phone: where it listens and how far it took the laptop's contact
  // changes (bob, on the laptop), and the phone's own address record (at bob).
  await laptop.waitFor(ownDevice("up"), 15_000);
  await until(() => has(laptopKv, keys.siblingAddresses(phoneKey)), 10_000, "sibling addresses");
  await until(() => has(laptopKv, keys.contactAck(phoneKey)), 10_000, "contact changes taken");
  await phone.waitFor((e) => e.type === "records-handed" && e.peer === "bob" && e.ok, 15_000);
  await until(() => has(bobKv, keys.deviceRecord(alice, phoneKey)), 10_000, "bob's record");

  const fromLaptop = laptop.events.length, fromBob = bob.events.length;
  const ctl = await serveControl(controlSocketPath(laptop.dir), laptop.node);
  try {
    const r = await cliRun(["device", "remove", "phone", "--data", laptop.dir]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await ctl.close();
  }
  // The sibling session ends at once, and the laptop keeps nothing to reach or sync the phone by.
  await laptop.waitFor(ownDevice("down"), 10_000, fromLaptop);
  await until(
    async () =>
      !await has(laptopKv, keys.siblingAddresses(phoneKey)) &&
      !await has(laptopKv, keys.contactAck(phoneKey)),
    10_000,
    "the laptop forgets the phone",
  );
  // Bob hears of the removal from the laptop: his session with the phone ends, its record goes.
  await bob.waitFor(
    (e) => e.type === "device" && e.op === "revoked" && e.fingerprint === phoneFp,
    10_000,
    fromBob,
  );
  await until(
    async () => !await has(bobKv, keys.deviceRecord(alice, phoneKey)),
    10_000,
    "bob forgets the phone's record",
  );
  // The phone, not told, comes back (its redials, or a typed address): both refuse it.
  await phone.node.call("connect", { address: (await bob.node.call("status", {})).listen[0]! })
    .catch(() => {});
  const refusedBy = (n: TestNode, type: "device" | "own-device", from: number) =>
    n.waitFor(
      (e) => e.type === type && e.op === "refused" && e.fingerprint === phoneFp,
      20_000,
      from,
    );
  const [atLaptop, atBob] = await Promise.all([
    refusedBy(laptop, "own-device", fromLaptop),
    refusedBy(bob, "device", fromBob),
  ]) as (NodeEvent & { reason?: string })[];
  assert.match(atLaptop!.reason ?? "", /revoked/);
  assert.match(atBob!.reason ?? "", /revoked/);
  assert.equal(
    (await laptop.node.call("devices", {})).find((d) => d.name === "phone")?.online,
    false,
  );
});

Deno.test("roj devices on the phone: the laptop with the person key and the tablet too, online; last seen is the sibling session's", async () => {
  await using tmp = await tempDir();
  await using laptop = await startTestNode("alice", { host: `${BASE}.22` });
  await link(laptop, `${tmp.path}/phone`, "phone");
  await link(laptop, `${tmp.path}/tablet`, "tablet");
  await using phone = await startTestNode("alice", {
    host: `${BASE}.23`,
    dir: `${tmp.path}/phone`,
  });
  const ctl = await serveControl(controlSocketPath(phone.dir), phone.node);
  try {
    const tablet = await startTestNode("alice", { host: `${BASE}.24`, dir: `${tmp.path}/tablet` });
    let beforeStop = 0, fromStop = 0;
    try {
      // The phone meets the laptop, and the tablet (directly, or as the laptop's sibling).
      await phone.waitFor(ownDeviceOf("up", laptop.node.fingerprint), 15_000);
      await phone.waitFor(ownDeviceOf("up", tablet.node.fingerprint), 20_000);
      const rows = await devicesJson(phone);
      const by = (name: string) => rows.find((r) => r.name === name);
      assert.deepEqual(rows.map((r) => r.name).sort(), ["alice", "phone", "tablet"]);
      assert.equal(by("phone")?.self, true);
      assert.equal(by("alice")?.fingerprint, laptop.node.fingerprint);
      assert.equal(by("alice")?.standing, "person");
      assert.equal(by("alice")?.online, true, JSON.stringify(rows));
      assert.equal(by("tablet")?.fingerprint, tablet.node.fingerprint);
      assert.equal(by("tablet")?.online, true, JSON.stringify(rows));
      const text = await cliRun(["devices", "--data", phone.dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^alice +SHA256:\S+ +the person key +online$/m);
      assert.match(text.stdout, /^tablet +SHA256:\S+ +since .* +valid until .* +online$/m);
      // The laptop's session with the tablet is up too, so both see it end.
      await until(
        async () =>
          (await laptop.node.call("devices", {})).find((d) => d.name === "tablet")?.online === true,
        15_000,
        "the tablet online at the laptop",
      );
      beforeStop = Date.now();
      fromStop = phone.events.length;
    } finally {
      await tablet.stop();
    }
    await phone.waitFor(
      ownDeviceOf("down", tablet.node.fingerprint),
      10_000,
      fromStop,
    );
    // Offline now, last seen when its session ended (not when it was linked or renewed), on
    // the phone and on the laptop.
    for (const [n, at] of [[phone, "phone"], [laptop, "laptop"]] as const) {
      await until(
        async () => {
          const row = (await n.node.call("devices", {})).find((d) => d.name === "tablet");
          return row?.online === false && (row.lastSeen ?? 0) >= beforeStop;
        },
        10_000,
        `the tablet offline at the ${at}, last seen as it stopped`,
      );
    }
  } finally {
    await ctl.close();
  }
});
