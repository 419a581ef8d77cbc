import assert from "node:assert/strict";
import type { RpcSession } from "../protocol/mod.ts";
import type { RelayPeerSession } from "./relay_host.ts";
import {
  afterCheck,
  BUSY_RETRY_MS,
  decideDialBack,
  dialBackAddresses,
  FIRST_CHECK_DELAY_MS,
  MAX_DIAL_BACKS,
  pickCheckers,
  type ReachState,
  relaysToName,
  sessionAction,
} from "./reach_policy.ts";

/** A session with a peer at `remote` that sees us at `sees`. */
function session(o: Partial<RelayPeerSession> & { sees?: string; relay?: boolean } = {}) {
  const rpc = {
    closed: false,
    peerHello: { features: o.relay ? ["relay"] : [], sees: o.sees ?? "198.51.100.2:7022" },
  } as unknown as RpcSession;
  return {
    peer: new Uint8Array(32).fill(7),
    rpc,
    direction: "out",
    anchor: false,
    remote: "203.0.113.7:7022",
    ...o,
  } as RelayPeerSession;
}
const unknown: ReachState = { reachable: undefined, lastCheck: 0, pending: false };

Deno.test("reach policy: a session from outside is the evidence; else the first check waits, later ones when due", () => {
  const now = 1_000_000;
  assert.deepEqual(sessionAction(unknown, session({ direction: "in" }), [], now, 300_000), {
    type: "reachable",
  });
  assert.deepEqual(sessionAction(unknown, session(), [], now, 300_000), {
    type: "check-later",
    ms: FIRST_CHECK_DELAY_MS,
  });
  assert.deepEqual(sessionAction({ ...unknown, pending: true }, session(), [], now, 1), {
    type: "none",
  });
  const known: ReachState = { reachable: false, lastCheck: now - 1000, pending: false };
  assert.deepEqual(sessionAction(known, session(), [], now, 999), { type: "check" });
  assert.deepEqual(sessionAction(known, session({ relay: true }), [], now, 300_000), {
    type: "republish",
  });
  assert.deepEqual(sessionAction({ ...known, reachable: true }, session(), [], now, 300_000), {
    type: "none",
  });
  // Over a LAN path or from our own subnet a session proves nothing.
  const lan = session({ direction: "in", path: "lan" });
  assert.equal(sessionAction(unknown, lan, [], now, 300_000).type, "check-later");
});

Deno.test("reach policy: all checkers busy, nothing known: retry after 2 to 4 s; a try concludes", () => {
  const busy = { tried: false, reached: false, busy: true };
  assert.deepEqual(afterCheck(busy, undefined, 0), { type: "retry", ms: BUSY_RETRY_MS });
  assert.deepEqual(afterCheck(busy, undefined, 0.5), { type: "retry", ms: 1.5 * BUSY_RETRY_MS });
  assert.deepEqual(afterCheck(busy, false, 0.5), { type: "none" }, "known: wait for the recheck");
  assert.deepEqual(afterCheck({ ...busy, busy: false }, undefined, 0.5), { type: "none" });
  assert.deepEqual(afterCheck({ tried: true, reached: false, busy: true }, undefined, 0), {
    type: "conclude",
    reached: false,
  });
});

Deno.test("reach policy: who is asked, at which address, and whose dial-back is run", () => {
  const outside = [session(), session(), session()];
  const lan = session({ path: "lan" });
  const { checkers, skipped } = pickCheckers([lan, ...outside], []);
  assert.equal(checkers.length, 2, "two checkers at most");
  assert.deepEqual(skipped.map((x) => x.s), [lan]);
  assert.match(skipped[0]!.reason, /LAN/);
  assert.equal(skipped[0]!.code, "lan");

  const published = ["198.51.100.2:7022", "[2001:db8::1]:7022"];
  assert.deepEqual(dialBackAddresses("198.51.100.2:40000", published), ["198.51.100.2:7022"]);
  assert.deepEqual(
    dialBackAddresses("[::ffff:203.0.113.9]:1", published),
    ["203.0.113.9:7022"],
    "behind NAT: our port at the router's address",
  );
  assert.deepEqual(dialBackAddresses("not an endpoint", published), []);
  assert.deepEqual(dialBackAddresses(undefined, published), []);

  const to = { host: "203.0.113.9", port: 7022 };
  assert.deepEqual(decideDialBack(to, "203.0.113.9:5000", 0), { ok: true });
  assert.equal(decideDialBack(to, "198.51.100.1:5000", 0).ok, false);
  assert.deepEqual(decideDialBack(to, "via hive", 0), {
    ok: false,
    code: "refused",
    reason: "no dial-back through a relay",
  });
  assert.equal(
    (decideDialBack(to, "203.0.113.9:5000", MAX_DIAL_BACKS) as { code: string }).code,
    "busy",
  );
});

Deno.test("reach policy: relays named only while unreachable: relaying peers we dialled, anchors first", () => {
  const plain = session({ relay: true, peer: new Uint8Array(32).fill(1) });
  const anchor = session({ relay: true, anchor: true, peer: new Uint8Array(32).fill(2) });
  const inbound = session({ relay: true, direction: "in" });
  const noRelay = session({ relay: false });
  const all = [plain, inbound, noRelay, anchor];
  assert.deepEqual(relaysToName(undefined, all), []);
  assert.deepEqual(relaysToName(true, all), []);
  assert.deepEqual(relaysToName(false, all), [anchor.peer, plain.peer]);
});
