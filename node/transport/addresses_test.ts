import assert from "node:assert/strict";
import net from "node:net";
import {
  bindFallingBackToIPv4,
  isIPv6,
  isIPv6Address,
  isNoIPv6Error,
  MAX_PUBLISHED_IPV6,
  parseIpEndpoint,
  publishableAddresses,
  publishableInterfaceAddress,
  unmapAddress,
  unmapEndpoint,
  unmapIPv4,
} from "./addresses.ts";

Deno.test("addresses: IPv4-mapped IPv6 addresses become plain IPv4, in every spelling", () => {
  for (
    const mapped of [
      "::ffff:127.0.0.3",
      "::FFFF:127.0.0.3",
      "0:0:0:0:0:ffff:127.0.0.3",
      "0000:0000:0000:0000:0000:ffff:7f00:0003",
      "::ffff:7f00:3",
    ]
  ) assert.equal(unmapIPv4(mapped), "127.0.0.3", mapped);
  for (
    const other of [
      "127.0.0.3",
      "2001:db8::1",
      "::1",
      "::",
      "::127.0.0.3", // IPv4-compatible, not mapped
      "64:ff9b::7f00:3", // NAT64, not mapped
      "::fffe:127.0.0.3",
      "1::ffff:127.0.0.3",
      "example.org",
      "::ffff:300.0.0.1",
      "::ffff:1:2:3:4:5:6:7",
      "",
    ]
  ) assert.equal(unmapIPv4(other), other, other);
  // ssh2 reports no address for a socket that closed early; that must not throw.
  assert.equal(unmapIPv4(undefined as unknown as string), undefined);
  assert.deepEqual(unmapEndpoint({ host: "::ffff:10.0.0.1", port: 7022 }), {
    host: "10.0.0.1",
    port: 7022,
  });
  const plain = { host: "2001:db8::5", port: 7022 };
  assert.equal(unmapEndpoint(plain), plain);
  assert.equal(unmapAddress("[::ffff:198.51.100.4]:41015"), "198.51.100.4:41015");
  assert.equal(unmapAddress("[2001:db8::5]:7022"), "[2001:db8::5]:7022");
  assert.equal(unmapAddress("203.0.113.5:7022"), "203.0.113.5:7022");
  assert.equal(unmapAddress("not an address"), "not an address");
});

Deno.test("addresses: which hosts and host:port texts are IPv6", () => {
  assert.ok(isIPv6("2001:db8::1"));
  assert.ok(isIPv6("::1"));
  assert.ok(!isIPv6("::ffff:192.0.2.1"), "a mapped address is IPv4");
  assert.ok(!isIPv6("192.0.2.1"));
  assert.ok(!isIPv6("1:2:3:4:5:6:7:8:9"));
  assert.ok(!isIPv6("1::2::3"));
  assert.ok(isIPv6Address("[2001:db8:50::10]:7022"));
  assert.ok(!isIPv6Address("[::ffff:192.0.2.1]:7022"));
  assert.ok(!isIPv6Address("192.0.2.1:7022"));
  assert.ok(!isIPv6Address("anchor.example.org:7022"));
});

Deno.test("addresses: literal ip:port endpoints; names, bare IPv6 and malformed ones are not", () => {
  const table: readonly (readonly [string, { host: string; port: number } | null])[] = [
    ["192.0.2.7:7022", { host: "192.0.2.7", port: 7022 }],
    ["[2001:db8::1]:1", { host: "2001:db8::1", port: 1 }],
    ["[::ffff:192.0.2.7]:65535", { host: "::ffff:192.0.2.7", port: 65535 }],
    ["[fe80::1%eth0]:7022", { host: "fe80::1%eth0", port: 7022 }],
    ["192.0.2.7:0", null],
    ["192.0.2.7:65536", null],
    ["192.0.2.7", null],
    ["1.2.3.:7022", null],
    ["01.2.3.4:7022", null],
    ["[1.2.3.4]:7022", null],
    ["2001:db8::1:7022", null],
    ["[1::2::3]:7022", null],
    ["[2001:db8::1]", null],
    ["anchor.example.org:7022", null],
    [" 192.0.2.7:7022", null],
    ["", null],
  ];
  for (const [text, endpoint] of table) assert.deepEqual(parseIpEndpoint(text), endpoint, text);
  assert.equal(parseIpEndpoint(undefined as unknown as string), null);
});

Deno.test("addresses: malformed addresses are refused everywhere, not half-parsed", () => {
  for (const bad of ["1.2.3.", "01.2.3.4", "256.1.1.1", "1.2.3.4.5", "192.168.1.20 "]) {
    assert.ok(!publishableInterfaceAddress(bad), bad);
    assert.ok(!isIPv6(bad), bad);
  }
  for (const bad of ["::ffff:01.2.3.4", "::ffff:1.2.3.", "1.2.3.4::", ":::"]) {
    assert.equal(unmapIPv4(bad), bad, bad);
    assert.ok(!isIPv6(bad), bad);
    assert.equal(unmapAddress(`[${bad}]:7022`), `[${bad}]:7022`, bad);
  }
  assert.ok(!isIPv6Address("[1::2::3]:7022"));
  assert.ok(!isIPv6Address("[2001:db8::1]:0"));
});

Deno.test("addresses: only global IPv6 and non-loopback, non-link-local IPv4 are published", () => {
  for (
    const yes of ["192.168.1.20", "10.0.0.2", "203.0.113.5", "2001:db8:50::10", "2a00:1450::1"]
  ) {
    assert.ok(publishableInterfaceAddress(yes), yes);
  }
  for (
    const no of [
      "127.0.0.1",
      "127.0.0.2",
      "169.254.3.4",
      "0.0.0.0",
      "::1",
      "::",
      "fe80::1",
      "FE80::fc:ff:fe00:1",
      "febf::1",
      "fec0::1",
      "fd00::2",
      "fc12:3456::1",
      "ff02::1",
      "::ffff:192.168.1.20",
      "::192.168.1.20",
      "2001:db8::1%eth0",
      "garbage",
    ]
  ) assert.ok(!publishableInterfaceAddress(no), no);
});

async function listenError(host: string, port = 0): Promise<unknown> {
  const server = net.createServer();
  try {
    return await new Promise<unknown>((resolve) => {
      server.once("error", resolve);
      server.listen(port, host, () => resolve(null));
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

Deno.test("addresses: a bind that fails for want of IPv6 is told from 'address in use'", async () => {
  // 2001:db8::/32 is documentation: never an address of this host.
  const tcp = await listenError("2001:db8::1");
  assert.ok(tcp instanceof Error, "binding an address the host lacks fails");
  assert.ok(isNoIPv6Error(tcp), String(tcp));
  let udp: unknown;
  try {
    new Deno.QuicEndpoint({ hostname: "2001:db8::1", port: 0 }).close();
  } catch (err) {
    udp = err;
  }
  assert.ok(isNoIPv6Error(udp), String(udp));
  assert.ok(isNoIPv6Error(new Error("wrapped", { cause: tcp })), "found in a cause");
  // Address in use: falling back to 0.0.0.0 would not help.
  const held = net.createServer();
  await new Promise<void>((r) => held.listen(0, "::", () => r()));
  try {
    const inUse = await listenError("::", (held.address() as net.AddressInfo).port);
    assert.ok(inUse instanceof Error);
    assert.ok(!isNoIPv6Error(inUse), String(inUse));
  } finally {
    await new Promise<void>((r) => held.close(() => r()));
  }
  assert.ok(!isNoIPv6Error(undefined));
});

Deno.test("addresses: the published interface addresses: IPv4, then global IPv6 (only on ::)", () => {
  const ifs = [
    { family: "IPv4", address: "127.0.0.1" },
    { family: "IPv6", address: "::1" },
    { family: "IPv4", address: "192.168.1.20" },
    { family: "IPv6", address: "fe80::fc:ff:fe00:1" },
    { family: "IPv6", address: "fd00::2" },
    ...Array.from({ length: 6 }, (_, i) => ({ family: "IPv6", address: `2001:db8:50::${i + 1}` })),
    { family: "IPv4", address: "192.168.1.20" },
  ];
  assert.deepEqual(publishableAddresses(ifs, true), [
    "192.168.1.20",
    ...Array.from({ length: MAX_PUBLISHED_IPV6 }, (_, i) => `2001:db8:50::${i + 1}`),
  ]);
  assert.deepEqual(publishableAddresses(ifs, false), ["192.168.1.20"]);
});

/** Listens on `host`, standing in for "::" with an IPv6 address this machine lacks. */
async function listenAs(host: string): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host === "::" ? "2001:db8::1" : host, () => resolve());
  });
  return server;
}

Deno.test("addresses: '::' falls back to 0.0.0.0 with one log line where IPv6 is missing, and only then", async () => {
  const lines: string[] = [];
  const server = await bindFallingBackToIPv4("::", listenAs, (l) => lines.push(l), "SSH listens");
  try {
    assert.equal((server.address() as net.AddressInfo).address, "0.0.0.0");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^no IPv6 here \(.*\): SSH listens on 0\.0\.0\.0 instead of ::$/);
  } finally {
    server.close();
  }
  // Another host is never replaced, and other errors are thrown as they are.
  await assert.rejects(bindFallingBackToIPv4("2001:db8::1", listenAs, () => {}, "x"));
  const inUse = new Error("listen EADDRINUSE", {
    cause: Object.assign(new Error("x"), { code: "EADDRINUSE" }),
  });
  assert.throws(() =>
    bindFallingBackToIPv4(
      "::",
      () => {
        throw inUse;
      },
      () => {},
      "x",
    ), inUse);
  // Synchronous binds (the QUIC endpoint) fall back the same way.
  const udpLines: string[] = [];
  const endpoint = bindFallingBackToIPv4(
    "::",
    (hostname) =>
      new Deno.QuicEndpoint({ hostname: hostname === "::" ? "2001:db8::1" : hostname, port: 0 }),
    (l) => udpLines.push(l),
    "QUIC listens",
  );
  assert.equal(endpoint.addr.hostname, "0.0.0.0");
  assert.equal(udpLines.length, 1);
  endpoint.close();
});
