import assert from "node:assert/strict";
import {
  inCidr,
  ipBytes,
  isLoopback,
  isOwnAddress,
  isPrivateAddress,
  type LocalNetwork,
  onOwnLink,
} from "./networks.ts";

const HOME: LocalNetwork[] = [
  { address: "192.168.50.2", cidr: "192.168.50.2/24" },
  { address: "2001:db8:50::2", cidr: "2001:db8:50::2/64" },
];

Deno.test("ipBytes: IPv4, IPv6 with ::, IPv4-mapped, brackets; null for names and junk", () => {
  assert.deepEqual([...ipBytes("10.99.0.2")!], [10, 99, 0, 2]);
  assert.deepEqual([...ipBytes("::ffff:10.99.0.2")!], [10, 99, 0, 2]);
  assert.deepEqual([...ipBytes("[::1]")!], [...Array(15).fill(0), 1]);
  assert.deepEqual(
    [...ipBytes("2001:db8::1")!],
    [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1],
  );
  assert.equal(ipBytes("fe80::1%eth0")?.[0], 0xfe);
  assert.deepEqual([...ipBytes("::FFFF:c0a8:0101")!], [192, 168, 1, 1], "mapped, in hex");
  for (
    const bad of [
      "example.org",
      "1.2.3.256",
      "1::2::3",
      "1:2:3:4:5:6:7",
      "",
      "::g",
      "1.2.3.",
      "01.2.3.4",
      "[::1",
      "::ffff:1.2.3.",
    ]
  ) {
    assert.equal(ipBytes(bad), null, bad);
  }
});

Deno.test("inCidr and onOwnLink: a peer on our subnet is on our link; the router's far side is not", () => {
  assert.ok(inCidr("192.168.50.3", "192.168.50.2/24"));
  assert.ok(!inCidr("192.168.51.3", "192.168.50.2/24"));
  assert.ok(inCidr("172.20.1.1", "172.16.0.0/12"));
  assert.ok(!inCidr("172.32.1.1", "172.16.0.0/12"));
  assert.ok(!inCidr("10.0.0.1", "2001:db8::/32"), "families never match");
  assert.ok(onOwnLink("192.168.50.3", HOME));
  assert.ok(onOwnLink("2001:db8:50::9", HOME));
  assert.ok(!onOwnLink("10.99.0.1", HOME));
  assert.ok(!onOwnLink("2001:db8:99::1", HOME));
  assert.ok(!onOwnLink("127.0.0.1", HOME));
  assert.ok(onOwnLink("::ffff:192.168.50.3", HOME), "a dual-stack socket's IPv4 peer");
  for (const bad of ["192.168.50.", "192.168.050.3", "192.168.50.3 "]) {
    assert.ok(!onOwnLink(bad, HOME), bad);
  }
  assert.ok(!inCidr("192.168.50.3", "192.168.50.0/024"));
  assert.ok(!inCidr("192.168.50.3", "192.168.50.0"));
});

Deno.test("isPrivateAddress, isLoopback and isOwnAddress", () => {
  for (const p of ["10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "fe80::1"]) {
    assert.ok(isPrivateAddress(p), p);
  }
  assert.ok(isPrivateAddress("::ffff:10.1.2.3"));
  for (const p of ["8.8.8.8", "11.99.0.2", "2001:db8::1", "127.0.0.1", "10.1.2.", "010.1.2.3"]) {
    assert.ok(!isPrivateAddress(p), p);
  }
  for (
    const p of ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]
  ) {
    assert.ok(isLoopback(p), p);
  }
  for (const p of ["128.0.0.1", "::2", "127.0.0.", "localhost"]) assert.ok(!isLoopback(p), p);
  assert.ok(isOwnAddress("192.168.50.2", HOME));
  assert.ok(isOwnAddress("2001:db8:50:0::2", HOME));
  assert.ok(!isOwnAddress("192.168.50.3", HOME));
});
