/** Which punch offers a target takes, and the rate limits on them, on a fake clock. */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import {
  decideOffer,
  ENDPOINT_WINDOW_MS,
  ENDPOINTS_PER_ASKER,
  MAX_OFFER_HISTORY,
  type OfferFacts,
  OFFERS_PER_ASKER,
  OFFERS_PER_COORDINATOR,
  plausibleObservation,
  recordOffer,
  type TakenOffer,
} from "./offer_policy.ts";
import { checkVouch, signVouch, VOUCH_TTL_MS } from "./vouch.ts";

const NOW = 1_000_000;
/** A good offer: alice, vouched, seen by a public coordinator at a public endpoint. */
const good: OfferFacts = {
  asker: "aa",
  coordinator: "cc",
  endpoint: "198.51.100.7:41000",
  endpointHost: "198.51.100.7",
  coordinatorHost: "203.0.113.9",
  connected: false,
  symmetric: false,
  vouch: { valid: true, expires: NOW + VOUCH_TTL_MS },
  inFlight: 0,
  maxInFlight: 4,
};

Deno.test("offer policy: only a vouched endpoint the coordinator can have seen is taken", () => {
  const cases: [string, Partial<OfferFacts>, string][] = [
    ["a good offer", {}, "ok"],
    ["the asker is connected", { connected: true }, "connected"],
    ["the coordinator names itself", { asker: "cc" }, "connected"],
    ["we are behind a symmetric NAT", { symmetric: true }, "symmetric-nat"],
    ["no vouch (an older asker or coordinator)", {
      vouch: { valid: false, present: false },
    }, "unvouched"],
    ["a vouch that does not check", { vouch: { valid: false, present: true } }, "unvouched"],
    ["an expired vouch", { vouch: { valid: true, expires: NOW } }, "unvouched"],
    ["a vouch dated hours ahead", {
      vouch: { valid: true, expires: NOW + 3 * 3600_000 },
    }, "unvouched"],
    ["a public coordinator, an endpoint on our LAN", {
      endpoint: "192.168.1.1:53",
      endpointHost: "192.168.1.1",
    }, "unobserved"],
    ["a public coordinator, a loopback endpoint", {
      endpoint: "127.0.0.1:7022",
      endpointHost: "127.0.0.1",
    }, "unobserved"],
    ["a multicast endpoint", {
      endpoint: "224.0.0.251:5353",
      endpointHost: "224.0.0.251",
    }, "unobserved"],
    ["the broadcast address", {
      endpoint: "255.255.255.255:9",
      endpointHost: "255.255.255.255",
      coordinatorHost: "127.0.0.1",
    }, "unobserved"],
    ["a coordinator on our LAN, an asker behind it", {
      endpoint: "10.0.0.7:5000",
      endpointHost: "10.0.0.7",
      coordinatorHost: "10.0.0.1",
    }, "ok"],
    ["a coordinator on our LAN, a public asker", { coordinatorHost: "192.168.1.5" }, "ok"],
    ["a coordinator on our LAN, a loopback endpoint", {
      endpoint: "127.0.0.1:9",
      endpointHost: "127.0.0.1",
      coordinatorHost: "192.168.1.5",
    }, "unobserved"],
    ["a coordinator on this machine", {
      endpoint: "127.0.0.62:5000",
      endpointHost: "127.0.0.62",
      coordinatorHost: "127.0.0.60",
    }, "ok"],
    ["a coordinator whose host is no IP", { coordinatorHost: "via hive" }, "unobserved"],
    ["IPv6 across the internet", {
      endpoint: "[2001:db8::7]:4000",
      endpointHost: "2001:db8::7",
      coordinatorHost: "2001:db8::1",
    }, "ok"],
    ["a unique-local IPv6 endpoint via a public coordinator", {
      endpoint: "[fd00::1]:4000",
      endpointHost: "fd00::1",
      coordinatorHost: "2001:db8::1",
    }, "unobserved"],
    ["an IPv4-mapped coordinator host", { coordinatorHost: "::ffff:203.0.113.9" }, "ok"],
    ["four offers in flight", { inFlight: 4 }, "busy"],
  ];
  for (const [what, change, want] of cases) {
    const d = decideOffer({ ...good, ...change }, [], NOW);
    assert.equal(d.ok ? "ok" : d.code, want, what);
  }
});

Deno.test("offer policy: offers per asker, per coordinator and endpoints per asker are rate-limited on the clock", async () => {
  const clock = new FakeClock({ start: NOW });
  let taken: TakenOffer[] = [];
  const take = (f: Partial<OfferFacts>) => {
    const facts = { ...good, ...f, vouch: { valid: true as const, expires: clock.now() + 60_000 } };
    const d = decideOffer(facts, taken, clock.now());
    if (d.ok) {
      taken = recordOffer(taken, {
        asker: facts.asker,
        coordinator: facts.coordinator,
        endpoint: facts.endpoint,
        at: clock.now(),
      });
    }
    return d.ok ? "ok" : d.code;
  };
  for (let i = 0; i < OFFERS_PER_ASKER; i++) assert.equal(take({}), "ok", `offer ${i + 1}`);
  assert.equal(take({}), "rate-limited", "one more from alice within the minute");
  assert.equal(take({ asker: "bb" }), "ok", "bob is not held up by alice");
  await clock.advance(60_000);
  assert.equal(take({}), "ok", "a minute later alice may again");

  // One coordinator, many askers: capped for all of them together.
  taken = [];
  for (let i = 0; i < OFFERS_PER_COORDINATOR; i++) {
    assert.equal(take({ asker: `a${i}`, coordinator: "dd" }), "ok");
  }
  assert.equal(take({ asker: "zz", coordinator: "dd" }), "rate-limited");
  assert.equal(take({ asker: "zz", coordinator: "ee" }), "ok");

  // One asker at ever new endpoints: a few, then only those until the window passes.
  taken = [];
  const at = (i: number) => ({ endpoint: `198.51.100.7:${4000 + i}` });
  for (let i = 0; i < ENDPOINTS_PER_ASKER; i++) assert.equal(take(at(i)), "ok");
  assert.equal(take(at(99)), "rate-limited", "a new endpoint past the cap");
  assert.equal(take(at(0)), "ok", "one already taken still is");
  await clock.advance(ENDPOINT_WINDOW_MS);
  assert.equal(take(at(99)), "ok", "after the window a new one is");

  // The history stays bounded.
  let many: TakenOffer[] = [];
  for (let i = 0; i < 2 * MAX_OFFER_HISTORY; i++) {
    many = recordOffer(many, { asker: "aa", coordinator: "cc", endpoint: "e", at: NOW + i });
  }
  assert.equal(many.length, MAX_OFFER_HISTORY);
  assert.equal(many[0]!.at, NOW + MAX_OFFER_HISTORY);
});

Deno.test("plausibleObservation: what a coordinator can have seen from where we see it", () => {
  assert.equal(plausibleObservation("203.0.113.9", "198.51.100.7"), true);
  assert.equal(plausibleObservation("203.0.113.9", "10.0.0.2"), false);
  assert.equal(plausibleObservation("10.99.0.1", "10.99.0.2"), true);
  assert.equal(plausibleObservation("not an ip", "198.51.100.7"), false);
  assert.equal(plausibleObservation("203.0.113.9", "0.0.0.0"), false);
});

Deno.test("vouch: checks only for the asker, coordinator, target, endpoint, certificate and expiry signed", async () => {
  const [alice, carol, bob] = await Promise.all(["alice", "carol", "bob"].map(generateKeyPair));
  const signer = await createSigner(alice!);
  const facts = {
    coordinator: carol!.publicKey,
    target: bob!.publicKey,
    endpoint: "198.51.100.7:41000",
    cert: new Uint8Array(32).fill(7),
    expires: NOW + VOUCH_TTL_MS,
  };
  const sig = await signVouch(signer, facts);
  assert.ok(sig.length <= 300, `a vouch fits its schema (${sig.length} bytes)`);
  const v = { ...facts, asker: alice!.publicKey };
  assert.equal(await checkVouch(sig, v), true);
  const changed: [string, Partial<typeof v>][] = [
    ["another asker", { asker: carol!.publicKey }],
    ["another coordinator", { coordinator: bob!.publicKey }],
    ["another target", { target: carol!.publicKey }],
    ["another endpoint", { endpoint: "198.51.100.7:41001" }],
    ["another certificate", { cert: new Uint8Array(32) }],
    ["another expiry", { expires: v.expires + 1 }],
  ];
  for (const [what, c] of changed) assert.equal(await checkVouch(sig, { ...v, ...c }), false, what);
  assert.equal(await checkVouch(new Uint8Array(10), v), false, "garbage");
});
