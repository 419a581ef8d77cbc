import assert from "node:assert/strict";
import { pairwise, TAG_BYTES } from "../discovery/mod.ts";
import { generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import { until } from "../../testing/nodes.ts";
import {
  decodeAnnouncement,
  encodeAnnouncement,
  type InterfaceState,
  Lan,
  type LanHost,
  type LanNote,
  lanTag,
  MAX_ANNOUNCEMENT,
  MAX_TAGS,
  padTags,
  pickLanInterfaces,
  TAG_BUCKET,
} from "./mod.ts";

const hex = (t: Uint8Array) => toHex(t);

Deno.test("lan: only the contact computes the announcer's tag, and it changes every window", async () => {
  const [a, b, c] = await Promise.all([
    generateKeyPair("a"),
    generateKeyPair("b"),
    generateKeyPair("c"),
  ]);
  const ab = pairwise(a)(b.publicKey);
  const ba = pairwise(b)(a.publicKey);
  const cb = pairwise(c)(b.publicKey);
  // Alice announces to bob; bob computes the same tag from his side.
  assert.equal(hex(lanTag(ab, a.publicKey, 7)), hex(lanTag(ba, a.publicKey, 7)));
  assert.equal(lanTag(ab, a.publicKey, 7).length, TAG_BYTES);
  // Another window, the other direction, another pair: unrelated tags.
  const seen = new Set([
    hex(lanTag(ab, a.publicKey, 7)),
    hex(lanTag(ab, a.publicKey, 8)),
    hex(lanTag(ab, b.publicKey, 7)),
    hex(lanTag(cb, c.publicKey, 7)),
    hex(lanTag(cb, b.publicKey, 7)),
  ]);
  assert.equal(seen.size, 5);
  // Not the pair's address-record tag either.
  assert.ok(!seen.has(hex(ab.tag(a.publicKey))));
});

Deno.test("lan: tag lists are padded to a bucket and capped; malformed announcements are dropped", () => {
  const tags = (n: number) =>
    Array.from({ length: n }, () => crypto.getRandomValues(new Uint8Array(TAG_BYTES)));
  for (const [n, size] of [[1, 16], [5, 16], [16, 16], [17, 32], [64, 64], [200, MAX_TAGS]]) {
    const real = tags(n!);
    const d = encodeAnnouncement(7022, real)!;
    assert.ok(d.length <= MAX_ANNOUNCEMENT);
    const back = decodeAnnouncement(d)!;
    assert.equal(back.port, 7022);
    assert.equal(back.tags.length, size, `${n} tags`);
    const realHex = new Set(real.map(hex));
    const carried = back.tags.filter((t) => realHex.has(hex(t))).length;
    assert.equal(carried, Math.min(n!, MAX_TAGS), `${n} tags: all real ones, or MAX_TAGS of them`);
    assert.equal(new Set(back.tags.map(hex)).size, size, "no tag twice");
  }
  assert.equal(encodeAnnouncement(7022, []), null);
  // Over many announcements of 200 tags, every one goes out some time.
  const many = tags(200);
  const sent = new Set<string>();
  for (let i = 0; i < 40; i++) for (const t of padTags(many)) sent.add(hex(t));
  assert.ok(many.every((t) => sent.has(hex(t))));

  const good = encodeAnnouncement(7022, tags(3))!;
  const unpadded = Uint8Array.of(...good.subarray(0, 6), 1, ...good.subarray(7, 7 + TAG_BYTES));
  const bad = [
    new Uint8Array(0),
    good.subarray(0, 6),
    good.subarray(0, good.length - 1), // count says more than is there
    Uint8Array.of(...good, 0), // trailing byte
    Uint8Array.of(0x52, 0x4a, 0x4c, 0x31, ...good.subarray(4)), // the unpadded version
    Uint8Array.of(...good.subarray(0, 4), 0, 0, ...good.subarray(6)), // port 0
    Uint8Array.of(...good.subarray(0, 6), 0), // no tags
    unpadded, // one tag: it would tell its count
    new Uint8Array(MAX_ANNOUNCEMENT + 1),
  ];
  for (const d of bad) assert.equal(decodeAnnouncement(d), null, `accepted ${d.length} bytes`);
  assert.throws(() => encodeAnnouncement(0, tags(1)));
  assert.throws(() => encodeAnnouncement(7022, [new Uint8Array(3)]));
});

Deno.test("lan: one contact or five, the announcements are the same size, and fillers match nobody", async () => {
  const keys = await Promise.all(
    ["one", "five", "bob", "c1", "c2", "c3", "c4"].map((n) => generateKeyPair(n)),
  );
  const [one, five, bob, ...others] = keys as [KeyPair, KeyPair, KeyPair, ...KeyPair[]];
  const window = 4242;
  const announce = (me: KeyPair, contacts: KeyPair[]) =>
    encodeAnnouncement(
      7022,
      contacts.map((c) => lanTag(pairwise(me)(c.publicKey), me.publicKey, window)),
    )!;
  /** What `receiver` recognises in a datagram: the contacts whose tag it holds. */
  const recognised = (receiver: KeyPair, contacts: KeyPair[], d: Uint8Array) => {
    const expected = new Map<string, string>();
    for (const c of contacts) {
      for (const w of [window - 1, window, window + 1]) {
        expected.set(hex(lanTag(pairwise(receiver)(c.publicKey), c.publicKey, w)), c.comment);
      }
    }
    return decodeAnnouncement(d)!.tags.map((t) => expected.get(hex(t))).filter((x) => x);
  };
  for (let i = 0; i < 50; i++) {
    const a = announce(one, [bob]);
    const b = announce(five, [bob, ...others]);
    assert.equal(a.length, b.length);
    assert.equal(decodeAnnouncement(a)!.tags.length, TAG_BUCKET);
    // Bob, a contact of both, finds exactly his own tag in each: no filler is taken for one.
    assert.deepEqual(recognised(bob, [one, five], a), [one.comment]);
    assert.deepEqual(recognised(bob, [one, five], b), [five.comment]);
    // Each other contact of "five" finds its own, and nothing in one's announcement.
    for (const o of others) {
      assert.deepEqual(recognised(o, [one, five], b), [five.comment]);
      assert.deepEqual(recognised(o, [one, five], a), []);
    }
  }
});

Deno.test("lan: announcements go out on every LAN interface, never on a public-only one", () => {
  const info = (name: string, address: string, scopeid: number | null = null) =>
    ({
      name,
      address,
      family: address.includes(":") ? "IPv6" : "IPv4",
      scopeid,
      netmask: "",
      cidr: "",
      mac: "",
    }) as Deno.NetworkInterfaceInfo;
  const states: Record<string, InterfaceState> = {
    lo: { up: true, loopback: true, multicast: false, index: 1 },
    eth0: { up: true, loopback: false, multicast: true, index: 2 },
    wlan0: { up: true, loopback: false, multicast: true, index: 3 },
    wan0: { up: true, loopback: false, multicast: true, index: 4 },
    v6lan: { up: true, loopback: false, multicast: true, index: 5 },
    down0: { up: false, loopback: false, multicast: true, index: 6 },
    tun0: { up: true, loopback: false, multicast: false, index: 7 },
    cgnat: { up: true, loopback: false, multicast: true, index: 8 },
  };
  const picked = pickLanInterfaces([
    info("lo", "127.0.0.1"),
    info("lo", "::1"),
    info("eth0", "192.168.1.20"),
    info("eth0:1", "192.168.1.99"), // an alias: still eth0, one announcement
    info("eth0", "fe80::1", 2),
    info("wlan0", "10.0.0.7"),
    info("wlan0", "fd12::7"),
    info("wlan0", "2001:db8:1::7"),
    info("wan0", "203.0.113.5"), // a server's uplink
    info("wan0", "2001:db8:2::5"),
    info("v6lan", "2001:db8:3::9"), // an IPv6-only home network
    info("v6lan", "fe80::9", 5),
    info("down0", "192.168.9.1"),
    info("tun0", "10.8.0.2"),
    info("cgnat", "100.64.1.2"), // the carrier's segment
  ], (name) => states[name]);
  assert.deepEqual(picked, [
    { name: "eth0", index: 2, ipv4: "192.168.1.20", ipv6: undefined },
    { name: "v6lan", index: 5, ipv4: undefined, ipv6: "2001:db8:3::9" },
    // Unique-local first: it is the LAN's own.
    { name: "wlan0", index: 3, ipv4: "10.0.0.7", ipv6: "fd12::7" },
  ]);
  // Where flags cannot be read (not Linux), the scope id of a link-local address names the interface.
  assert.deepEqual(
    pickLanInterfaces([info("en0", "192.168.1.5"), info("en0", "fe80::5", 9)], () => undefined),
    [{ name: "en0", index: 9, ipv4: "192.168.1.5", ipv6: undefined }],
  );
});

/** A UDP port free on both families now. */
function freeUdpPort(): number {
  for (;;) {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
    const port = (s.addr as Deno.NetAddr).port;
    s.close();
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "::", port }).close();
      return port;
    } catch {
      // Taken on IPv6: another.
    }
  }
}

Deno.test("lan: the receiving side reads only well-formed announcements, within a budget per source", async () => {
  const [alice, bob, carol, stranger] = (await Promise.all(
    ["alice", "bob", "carol", "stranger"].map((n) => generateKeyPair(n)),
  )) as [KeyPair, KeyPair, KeyPair, KeyPair];
  const window = 99;
  const windowMs = 600_000;
  const dials: string[] = [];
  const lines: string[] = [];
  const notes: LanNote[] = [];
  const host: LanHost = {
    publicKey: alice.publicKey,
    pair: pairwise(alice),
    // One fixed instant: every datagram of the test falls in one second's budget.
    now: () => window * windowMs + 1234,
    log: (l) => lines.push(l),
    note: (n) => notes.push(n),
    contacts: () => [bob.publicKey, carol.publicKey],
    name: (k) => (toHex(k) === toHex(bob.publicKey) ? "bob" : "carol"),
    sshPort: () => 7022,
    sshIpv6: () => true,
    wanted: () => true,
    dial: (_peer, addr) => {
      dials.push(addr);
      return Promise.resolve(false);
    },
  };
  const port = freeUdpPort();
  // No interfaces: it listens (unicast datagrams from this test reach it) and sends nothing.
  const lan = new Lan(host, { port, windowMs, interfaces: () => [] });
  assert.ok(await lan.start());
  const sockets: Deno.DatagramConn[] = [];
  try {
    const from = (hostname: string) => {
      const s = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
      sockets.push(s);
      return (d: Uint8Array, to = "127.0.0.1") =>
        s.send(d, { transport: "udp", hostname: to, port });
    };
    const tagOf = (k: KeyPair) => lanTag(pairwise(k)(alice.publicKey), k.publicKey, window);
    const flooder = from("127.0.0.2");
    const good = encodeAnnouncement(7022, [tagOf(stranger)])!;
    for (let i = 0; i < 30; i++) await flooder(good);
    await until(() => lan.stats.received === 30, 5000, "the flood to arrive");
    assert.equal(lan.stats.announcements, 4, "a source's budget per second");
    assert.equal(lan.stats.overSourceBudget, 26);
    assert.deepEqual(dials, [], "a stranger's tags match no contact");

    // Another source is not starved by the flooder, and a contact's tag is dialled.
    const other = from("127.0.0.3");
    await other(new Uint8Array(MAX_ANNOUNCEMENT + 1));
    await other(good.subarray(0, good.length - 1));
    await other(encodeAnnouncement(7033, [tagOf(bob)])!);
    await until(() => dials.length === 1, 5000, "a dial to bob");
    assert.deepEqual(dials, ["127.0.0.3:7033"]);
    assert.deepEqual(notes, [
      { type: "interfaces", interfaces: [] },
      { type: "heard", peer: bob.publicKey, address: "127.0.0.3:7033", dial: true },
    ]);
    assert.equal(lan.stats.tooLarge, 1);
    assert.equal(lan.stats.malformed, 1);
    assert.ok(lan.heardAt(bob.publicKey, "127.0.0.3"));
    assert.ok(lan.heardAt(bob.publicKey, "::ffff:127.0.0.3"), "as an IPv6 server reports it");
    assert.ok(!lan.heardAt(bob.publicKey, "127.0.0.2"));

    // Over IPv6 the address to dial is bracketed.
    let v6: ((d: Uint8Array, to?: string) => Promise<number>) | undefined;
    try {
      v6 = from("::1");
    } catch {
      console.log("no IPv6 loopback here: the IPv6 part is skipped");
    }
    if (v6) {
      await v6(encodeAnnouncement(7044, [tagOf(carol)])!, "::1");
      await until(() => dials.length === 2, 5000, "a dial to carol");
      assert.equal(dials[1], "[::1]:7044");
    }
  } finally {
    lan.close();
    for (const s of sockets) s.close();
  }
});
