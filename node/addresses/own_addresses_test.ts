import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { EventBus } from "../events.ts";
import type { RpcSession } from "../protocol/mod.ts";
import type { Endpoint } from "../transport/mod.ts";
import { OwnAddresses } from "./own_addresses.ts";

const PORT = 7022;

function setup(options: { selfDial?: (to: Endpoint) => Promise<boolean>; host?: string } = {}) {
  const changed: string[] = [];
  const dialled: string[] = [];
  const own = new OwnAddresses({
    clock: new FakeClock(),
    bus: new EventBus(() => {}),
    advertise: [],
    listening: () => ({ host: options.host ?? "0.0.0.0", port: PORT }),
    mapped: () => undefined,
    changed: (reason) => changed.push(reason),
    interfaces: () => [],
    selfDial: (to) => {
      dialled.push(`${to.host}:${to.port}`);
      return options.selfDial?.(to) ?? Promise.resolve(false);
    },
  });
  /** A session whose peer (key byte `who`), reached at `from`, says it sees us at `sees`. */
  const report = (who: number, from: string, sees: string) =>
    own.noteSeenAs(
      { peerHello: { sees }, pipe: { remote: from } } as unknown as RpcSession,
      new Uint8Array(32).fill(who),
    );
  const published = () => own.published().filter((a) => !a.startsWith("127.0.0.1:"));
  return { own, report, changed, dialled, published };
}

Deno.test("a contact's report of where it sees us is not published on its word alone", async () => {
  const t = setup();
  t.report(1, "198.51.100.7:40000", "203.0.113.9:50000");
  t.report(1, "198.51.100.7:40000", "203.0.113.9:50000"); // said again by the same peer
  t.report(2, "198.51.100.8:40000", "203.0.113.9:50000"); // another peer, same network
  await Promise.resolve();
  assert.deepEqual(t.published(), []);
  assert.deepEqual(t.changed, []);
  // The one dial that could confirm it found no key of ours there.
  assert.deepEqual(t.dialled, ["203.0.113.9:7022"]);
});

Deno.test("host names and addresses that are no unicast address of ours are never taken, not even dialled", async () => {
  const t = setup({ selfDial: () => Promise.resolve(true) });
  for (
    const sees of [
      "evil.example:1",
      "localhost:1",
      "127.0.0.5:1",
      "[::1]:1",
      "169.254.1.1:1",
      "[fe80::1]:1",
      "224.0.0.251:1",
      "0.0.0.0:1",
      "240.0.0.1:1",
      "1.2.3.:1",
      "not an address",
    ]
  ) {
    t.report(1, "198.51.100.7:1", sees);
    t.report(2, "192.0.2.7:1", sees);
  }
  await Promise.resolve();
  assert.deepEqual(t.published(), []);
  assert.deepEqual(t.dialled, []);
});

Deno.test("the same address reported from two networks is published, once, with the listen port", () => {
  const t = setup();
  t.report(1, "198.51.100.7:40000", "[::ffff:203.0.113.9]:50000");
  t.report(2, "192.0.2.8:40000", "203.0.113.9:61000");
  assert.deepEqual(t.published(), ["203.0.113.9:7022"]);
  assert.deepEqual(t.changed, ["a peer sees us at a new address"]);
  t.report(3, "[2001:db8::1]:1", "203.0.113.9:1");
  assert.equal(t.changed.length, 1);
});

Deno.test("a relayed peer's report counts for no network", () => {
  const t = setup();
  t.report(1, "via hive", "203.0.113.9:50000");
  t.report(2, "via other", "203.0.113.9:50000");
  assert.deepEqual(t.published(), []);
});

Deno.test("a report is confirmed by our own key answering there", async () => {
  const t = setup({ selfDial: (to) => Promise.resolve(to.host === "203.0.113.9") });
  t.report(1, "198.51.100.7:40000", "203.0.113.9:50000");
  t.report(1, "198.51.100.7:40000", "203.0.113.10:50000");
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(t.published(), ["203.0.113.9:7022"]);
});

Deno.test("a node listening on one address publishes that one, whatever peers report", () => {
  const t = setup({ host: "192.0.2.1" });
  t.report(1, "198.51.100.7:1", "203.0.113.9:1");
  t.report(2, "192.0.2.8:1", "203.0.113.9:1");
  assert.deepEqual(t.own.published(), ["192.0.2.1:7022"]);
  assert.deepEqual(t.dialled, []);
});
