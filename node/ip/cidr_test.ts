import assert from "node:assert/strict";
import { inCidr, parseCidr, sameIp, samePrefix } from "./cidr.ts";
import { parseIp } from "./ip_address.ts";

const ip = (text: string) => parseIp(text)!;

Deno.test("parseCidr: an address and a length that fits it; anything else is refused", () => {
  assert.deepEqual(parseCidr("192.168.50.2/24"), { address: ip("192.168.50.2"), bits: 24 });
  assert.deepEqual(parseCidr("2001:db8::/32"), { address: ip("2001:db8::"), bits: 32 });
  assert.deepEqual(parseCidr("fe80::1%eth0/64"), { address: ip("fe80::1%eth0"), bits: 64 });
  assert.equal(parseCidr("0.0.0.0/0")?.bits, 0);
  assert.equal(parseCidr("::/128")?.bits, 128);
  for (
    const bad of [
      "",
      "10.0.0.0",
      "10.0.0.0/",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/024",
      "10.0.0.0/ 24",
      "10.0.0.0/24 ",
      "10.0.0.0/-1",
      "10.0.0.0/8/8",
      "10.0.0./8",
      "/8",
      "example.org/8",
    ]
  ) assert.equal(parseCidr(bad), null, bad);
});

Deno.test("inCidr and samePrefix: the first bits agree, within one family", () => {
  const table: readonly (readonly [string, string, boolean])[] = [
    ["192.168.50.3", "192.168.50.2/24", true],
    ["192.168.51.3", "192.168.50.2/24", false],
    ["172.20.1.1", "172.16.0.0/12", true],
    ["172.32.1.1", "172.16.0.0/12", false],
    ["100.127.0.1", "100.64.0.0/10", true],
    ["100.128.0.1", "100.64.0.0/10", false],
    ["8.8.8.8", "0.0.0.0/0", true],
    ["10.0.0.1", "10.0.0.1/32", true],
    ["10.0.0.2", "10.0.0.1/32", false],
    ["2001:db8:50::9", "2001:db8:50::2/64", true],
    ["2001:db8:51::9", "2001:db8:50::2/64", false],
    ["fe80::1%eth1", "fe80::/10", true],
    ["::1", "::/0", true],
    ["10.0.0.1", "2001:db8::/32", false],
    ["::ffff:10.0.0.1", "10.0.0.0/8", false], // unmap first
    ["10.0.0.1", "::/0", false],
  ];
  for (const [host, cidr, inside] of table) {
    assert.equal(inCidr(ip(host), parseCidr(cidr)!), inside, `${host} in ${cidr}`);
  }
  assert.ok(!samePrefix(ip("10.0.0.1"), ip("10.0.0.1"), 33), "longer than the address");
  assert.ok(!samePrefix(ip("10.0.0.1"), ip("10.0.0.1"), -1));
  assert.ok(sameIp(ip("2001:db8:50:0::2"), ip("2001:DB8:50::2%eth0")), "zones aside");
  assert.ok(!sameIp(ip("2001:db8:50::2"), ip("2001:db8:50::3")));
  assert.ok(!sameIp(ip("0.0.0.0"), ip("::")));
});
