import assert from "node:assert/strict";
import { parseIp, unmapIp } from "./ip_address.ts";
import { type IpKind, ipKind, ipKindOf } from "./ip_kind.ts";

/** [address, kind]: both ends of every range, and its neighbours outside. */
const KINDS: readonly (readonly [string, IpKind])[] = [
  ["0.0.0.0", "unspecified"],
  ["0.255.255.255", "unspecified"],
  ["1.0.0.0", "global"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.255", "loopback"],
  ["126.255.255.255", "global"],
  ["128.0.0.0", "global"],
  ["10.0.0.0", "private"],
  ["10.255.255.255", "private"],
  ["11.0.0.0", "global"],
  ["9.255.255.255", "global"],
  ["172.16.0.0", "private"],
  ["172.31.255.255", "private"],
  ["172.15.255.255", "global"],
  ["172.32.0.0", "global"],
  ["192.168.0.0", "private"],
  ["192.168.255.255", "private"],
  ["192.167.255.255", "global"],
  ["192.169.0.0", "global"],
  ["100.64.0.0", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["100.63.255.255", "global"],
  ["100.128.0.0", "global"],
  ["169.254.0.0", "link-local"],
  ["169.254.255.255", "link-local"],
  ["169.253.255.255", "global"],
  ["169.255.0.0", "global"],
  ["224.0.0.0", "multicast"],
  ["239.255.255.250", "multicast"],
  ["223.255.255.255", "global"],
  ["240.0.0.0", "reserved"],
  ["255.255.255.255", "reserved"],
  ["8.8.8.8", "global"],
  ["203.0.113.5", "global"], // documentation ranges count as global
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["::2", "ipv4-compatible"],
  ["::192.168.1.20", "ipv4-compatible"],
  ["::ffff:192.168.1.20", "ipv4-mapped"],
  ["::ffff:8.8.8.8", "ipv4-mapped"],
  ["::1:0:0:0", "reserved"],
  ["64:ff9b::c000:207", "reserved"],
  ["100::1", "reserved"],
  ["1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"],
  ["2000::", "global"],
  ["2001:db8::1", "global"],
  ["2a00:1450::1", "global"],
  ["3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "global"],
  ["4000::", "reserved"],
  ["fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"],
  ["fc00::", "unique-local"],
  ["fd12:3456::1", "unique-local"],
  ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local"],
  ["fe00::", "reserved"],
  ["fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"],
  ["fe80::", "link-local"],
  ["FE80::fc:ff:fe00:1%eth0", "link-local"],
  ["febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local"],
  ["fec0::", "site-local"],
  ["feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"],
  ["ff00::", "multicast"],
  ["ff02::1", "multicast"],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"],
];

Deno.test("ipKind: each special-purpose range, at both ends and just outside", () => {
  for (const [text, kind] of KINDS) {
    assert.equal(ipKind(parseIp(text)!), kind, text);
    assert.equal(ipKindOf(text), kind, text);
  }
  for (const junk of ["1.2.3.", "10.0.0.1 ", "localhost", ""]) assert.equal(ipKindOf(junk), null);
});

Deno.test("ipKind: an IPv4-mapped address is classified by its IPv4 address once unmapped", () => {
  for (const [v4, kind] of KINDS.filter(([t]) => !t.includes(":"))) {
    assert.equal(ipKind(unmapIp(parseIp(`::ffff:${v4}`)!)), kind, v4);
  }
});
