import assert from "node:assert/strict";
import { inboundEvidence, outsidePeer } from "./evidence.ts";
import type { LocalNetwork } from "./networks.ts";

/** A node in home network A (scripts/netlab.sh): 192.168.50.2/24 behind natA (10.99.0.2). */
const HOME_A: LocalNetwork[] = [{ address: "192.168.50.2", cidr: "192.168.50.2/24" }];

Deno.test("outsidePeer: the anchor beyond the router counts; a LAN neighbour does not", () => {
  assert.deepEqual(
    outsidePeer({ path: "direct", remoteHost: "10.99.0.1", seesHost: "10.99.0.2" }, HOME_A),
    { ok: true },
  );
  const neighbour = outsidePeer(
    { path: "direct", remoteHost: "192.168.50.3", seesHost: "192.168.50.2" },
    HOME_A,
  );
  assert.equal(neighbour.ok, false);
  assert.match(!neighbour.ok ? neighbour.reason : "", /on a subnet of ours/);
  assert.equal(!neighbour.ok && neighbour.code, "own-subnet");
  const lan = outsidePeer({ path: "lan", remoteHost: "192.168.50.3" }, HOME_A);
  assert.match(!lan.ok ? lan.reason : "", /on our LAN/);
  assert.equal(!lan.ok && lan.code, "lan");
  const relayed = outsidePeer({ path: "relayed" }, HOME_A);
  assert.match(!relayed.ok ? relayed.reason : "", /through a relay/);
  assert.equal(!relayed.ok && relayed.code, "relayed");
});

Deno.test("outsidePeer: a peer in another private subnet that sees our own private address is inside our networks", () => {
  const routed = outsidePeer(
    { path: "direct", remoteHost: "10.20.0.7", seesHost: "192.168.50.2" },
    HOME_A,
  );
  assert.equal(routed.ok, false);
  assert.match(!routed.ok ? routed.reason : "", /our own private address 192\.168\.50\.2/);
  assert.equal(!routed.ok && routed.code, "own-private-address");
  // A public address of ours seen from elsewhere is fine: no NAT, and reachable.
  const publicNode: LocalNetwork[] = [{ address: "11.99.0.2", cidr: "11.99.0.2/24" }];
  assert.deepEqual(
    outsidePeer({ path: "direct", remoteHost: "12.0.0.1", seesHost: "11.99.0.2" }, publicNode),
    { ok: true },
  );
  // Loopback is no network of ours: nodes on 127.x stand for separate machines in tests.
  assert.deepEqual(
    outsidePeer({ path: "direct", remoteHost: "127.0.0.3", seesHost: "127.0.0.2" }, []),
    { ok: true },
  );
});

Deno.test("inboundEvidence: only a direct TCP session a peer outside dialled", () => {
  const outside = { remoteHost: "10.99.0.1", seesHost: "10.99.0.2" } as const;
  assert.deepEqual(inboundEvidence({ ...outside, path: "direct", direction: "in" }, HOME_A), {
    ok: true,
  });
  const out = inboundEvidence({ ...outside, path: "direct", direction: "out" }, HOME_A);
  assert.equal(!out.ok && out.code, "we-dialled");
  const punched = inboundEvidence({ ...outside, path: "punched", direction: "in" }, HOME_A);
  assert.equal(!punched.ok && punched.code, "punched");
  assert.equal(
    inboundEvidence(
      { path: "direct", remoteHost: "192.168.50.3", direction: "in" },
      HOME_A,
    ).ok,
    false,
  );
});

Deno.test("outsidePeer: a peer over IPv6 says nothing of IPv4, so a node behind an IPv4 NAT still names relays", () => {
  const v6 = outsidePeer(
    { path: "direct", remoteHost: "2001:db8:60::2", seesHost: "2001:db8:50::2" },
    HOME_A,
  );
  assert.match(!v6.ok ? v6.reason : "", /over IPv6/);
  assert.equal(!v6.ok && v6.code, "ipv6");
  const dialledIn = inboundEvidence(
    { path: "direct", remoteHost: "2001:db8:60::2", direction: "in" },
    HOME_A,
  );
  assert.equal(dialledIn.ok, false);
  // The same peer reached through a dual-stack socket's mapped IPv4 form still counts.
  assert.deepEqual(
    outsidePeer({ path: "direct", remoteHost: "::ffff:10.99.0.1", seesHost: "10.99.0.2" }, HOME_A),
    { ok: true },
  );
});
