import assert from "node:assert/strict";
import { isIP } from "node:net";
import { seededRandom, testSeed } from "../../testing/temp.ts";
import { formatIp, ipFromBytes, isIpv4Mapped, parseIp, unmapIp } from "./ip_address.ts";

/** [text, canonical form, family]: every form the parser takes. */
const VALID: readonly (readonly [string, string, 4 | 6])[] = [
  ["0.0.0.0", "0.0.0.0", 4],
  ["255.255.255.255", "255.255.255.255", 4],
  ["192.0.2.7", "192.0.2.7", 4],
  ["10.0.0.1", "10.0.0.1", 4],
  ["100.64.0.0", "100.64.0.0", 4],
  ["::", "::", 6],
  ["::1", "::1", 6],
  ["1::", "1::", 6],
  ["0:0:0:0:0:0:0:0", "::", 6],
  ["0:0:0:0:0:0:0:1", "::1", 6],
  ["2001:db8::1", "2001:db8::1", 6],
  ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", 6],
  ["ABCD:EF01:2345:6789:abcd:ef01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789", 6],
  ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", 6],
  ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", 6], // "::" for one group, written out (RFC 5952 §4.2.2)
  ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", 6],
  ["1:0:0:2:0:0:0:3", "1:0:0:2::3", 6], // the longest zero run
  ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4", 6], // the first of two equal runs
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", 6],
  ["fe80::1%eth0", "fe80::1%eth0", 6],
  ["FE80::FC:FF:FE00:1%enp0s31f6", "fe80::fc:ff:fe00:1%enp0s31f6", 6],
  ["fe80::1%3", "fe80::1%3", 6],
  ["fe80::1%br-1a2b.10", "fe80::1%br-1a2b.10", 6],
  ["2001:db8::1%eth0", "2001:db8::1%eth0", 6],
  ["::ffff:192.0.2.7", "::ffff:192.0.2.7", 6],
  ["::FFFF:c000:0207", "::ffff:192.0.2.7", 6],
  ["0:0:0:0:0:ffff:7f00:3", "::ffff:127.0.0.3", 6],
  ["::ffff:0.0.0.0", "::ffff:0.0.0.0", 6],
  ["::192.0.2.7", "::c000:207", 6], // IPv4-compatible: not mapped, so in hex
  ["64:ff9b::192.0.2.7", "64:ff9b::c000:207", 6],
  ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304", 6],
  ["1:2:3:4:5::1.2.3.4", "1:2:3:4:5:0:102:304", 6],
];

/** Texts that are no IP address, and why. */
const INVALID: readonly (readonly [string, string])[] = [
  ["", "empty"],
  [" ", "space"],
  [" 1.2.3.4", "leading space"],
  ["1.2.3.4 ", "trailing space"],
  ["1.2.3.4\n", "trailing newline"],
  ["::1\n", "trailing newline"],
  ["1.2.3.", "empty fourth octet"],
  ["1.2.3", "three octets"],
  [".1.2.3", "empty first octet"],
  ["1..2.3", "empty octet"],
  ["1.2.3.4.5", "five octets"],
  ["256.1.1.1", "octet over 255"],
  ["1.2.3.256", "octet over 255"],
  ["1.2.3.1000", "four digits"],
  ["01.2.3.4", "leading zero (octal to inet_aton)"],
  ["1.2.3.04", "leading zero"],
  ["00.0.0.0", "leading zero"],
  ["0x1.2.3.4", "hex octet"],
  ["1e1.2.3.4", "exponent"],
  ["+1.2.3.4", "sign"],
  ["-1.2.3.4", "sign"],
  ["١.٢.٣.٤", "non-ASCII digits"],
  ["1.2.3.4%eth0", "zone on IPv4"],
  ["1.2.3.4/24", "a prefix, not an address"],
  ["1.2.3.4:80", "a port"],
  [":::", "three colons"],
  ["1:::2", "three colons"],
  ["1::2::3", "two '::'"],
  ["::1::", "two '::'"],
  [":", "lone colon"],
  [":1:2:3:4:5:6:7", "leading single colon"],
  ["1:2:3:4:5:6:7:", "trailing single colon"],
  ["::1:", "trailing single colon"],
  [":1::", "leading single colon"],
  ["1:2:3:4:5:6:7", "seven groups"],
  ["1:2:3:4:5:6:7:8:9", "nine groups"],
  ["1:2:3:4:5:6:7:8::", "eight groups and '::'"],
  ["::1:2:3:4:5:6:7:8", "eight groups and '::'"],
  ["1:2:3:4::5:6:7:8", "eight groups and '::'"],
  ["12345::", "a group of five digits"],
  ["::00000", "a group of five digits"],
  ["::g", "not hex"],
  ["::-1", "sign"],
  ["1.2.3.4::", "IPv4 not at the end"],
  ["1.2.3.4:1::", "IPv4 not at the end"],
  ["::1.2.3.4:1", "IPv4 not at the end"],
  ["::1.2.3", "short embedded IPv4"],
  ["::256.1.1.1", "embedded octet over 255"],
  ["::ffff:01.2.3.4", "embedded leading zero"],
  ["1:2:3:4:5:6:7:1.2.3.4", "nine groups with embedded IPv4"],
  ["1:2:3:4:5:6::1.2.3.4", "eight groups with embedded IPv4 and '::'"],
  ["fe80::1%", "empty zone"],
  ["fe80::1%eth 0", "space in zone"],
  ["fe80::1%eth0%1", "two zones"],
  ["fe80::1%a/b", "slash in zone"],
  ["%eth0", "only a zone"],
  ["[::1]", "brackets"],
  ["[::1]:7022", "brackets and port"],
  ["localhost", "host name"],
  ["example.org", "host name"],
  ["ab.cd.ef.01", "host name"],
  ["a".repeat(200), "long"],
  [`fe80::1%${"a".repeat(65)}`, "long zone"],
];

Deno.test("parseIp and formatIp: every valid form parses and prints canonically", () => {
  for (const [text, canonical, family] of VALID) {
    const ip = parseIp(text);
    assert.ok(ip, text);
    assert.equal(ip.family, family, text);
    assert.equal(ip.bytes.length, family === 4 ? 4 : 16, text);
    assert.equal(formatIp(ip), canonical, text);
    // The canonical form parses to the same address and prints as itself.
    const again = parseIp(canonical);
    assert.deepEqual(again, ip, canonical);
    assert.equal(formatIp(again!), canonical);
  }
});

Deno.test("parseIp: malformed texts, names and other forms are refused", () => {
  for (const [text, why] of INVALID) assert.equal(parseIp(text), null, `${text}: ${why}`);
  for (const junk of [undefined, null, 42, {}, ["1.2.3.4"]]) {
    assert.equal(parseIp(junk as unknown as string), null, String(junk));
  }
});

Deno.test("parseIp: bytes in network order, the zone apart", () => {
  assert.deepEqual(parseIp("192.0.2.7"), {
    family: 4,
    bytes: Uint8Array.of(192, 0, 2, 7),
    zone: undefined,
  });
  assert.deepEqual(parseIp("FE80::1%eth0"), {
    family: 6,
    bytes: Uint8Array.of(0xfe, 0x80, ...Array(13).fill(0), 1),
    zone: "eth0",
  });
  assert.deepEqual(
    parseIp("::ffff:10.1.2.3")?.bytes,
    Uint8Array.of(...Array(10).fill(0), 0xff, 0xff, 10, 1, 2, 3),
  );
});

Deno.test("unmapIp: ::ffff:a.b.c.d in any spelling is a.b.c.d; other addresses stay", () => {
  const plain = parseIp("198.51.100.4");
  const spellings = ["::ffff:198.51.100.4", "0:0::FFFF:c633:6404", "::ffff:c633:6404%wlan0"];
  for (const mapped of spellings) {
    const ip = parseIp(mapped)!;
    assert.ok(isIpv4Mapped(ip), mapped);
    assert.deepEqual(unmapIp(ip), plain, mapped);
  }
  // Neighbours of ::ffff:0:0/96: IPv4-compatible, NAT64, IPv4-translated (RFC 2765), one bit off.
  const others = ["198.51.100.4", "::c633:6404", "64:ff9b::c633:6404", "::ffff:0:c633:6404"];
  for (const other of [...others, "::fffe:c633:6404", "1::ffff:c633:6404", "::", "::1"]) {
    const ip = parseIp(other)!;
    assert.ok(!isIpv4Mapped(ip), other);
    assert.equal(unmapIp(ip), ip, other);
  }
});

Deno.test("ipFromBytes: 4 or 16 bytes, copied; anything else is a programmer's mistake", () => {
  const bytes = Uint8Array.of(198, 51, 100, 4);
  const ip = ipFromBytes(bytes);
  bytes[0] = 0;
  assert.equal(formatIp(ip), "198.51.100.4");
  assert.equal(formatIp(ipFromBytes(new Uint8Array(16), "eth0")), "::%eth0");
  assert.throws(() => ipFromBytes(new Uint8Array(5)), RangeError);
  assert.throws(() => ipFromBytes(new Uint8Array(4), "eth0"), RangeError);
  assert.throws(() => ipFromBytes(new Uint8Array(16), "a b"), RangeError);
});

/** A random text near the IP forms: mostly well-formed pieces, put together carelessly. */
function nearlyAnIp(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const octet = () =>
    pick(["0", "1", "9", "10", "99", "127", "199", "255", "256", "300", "01", "007", ""]);
  const v4 = () => Array.from({ length: pick([3, 4, 4, 4, 4, 5]) }, octet).join(".");
  if (rand() < 0.3) return v4();
  const group = () =>
    pick(["0", "1", "ff", "FFFF", "0db8", "abc", "00000", "12345", "g", "", "ffff"]);
  const groups = Array.from({ length: Math.floor(rand() * 10) }, group);
  const at = Math.floor(rand() * (groups.length + 1));
  const parts = rand() < 0.6 ? [...groups.slice(0, at), "", ...groups.slice(at)] : groups;
  let text = parts.join(":");
  if (parts.length === 1 && parts[0] === "") text = "::";
  if (rand() < 0.2) text += `:${v4()}`;
  return text;
}

Deno.test("parseIp agrees with node:net isIP, formatIp with the URL parser's canonical IPv6", () => {
  const seed = testSeed("ip_address");
  const rand = seededRandom(seed);
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    const text = nearlyAnIp(rand);
    const ip = parseIp(text);
    assert.equal(ip === null ? 0 : ip.family, isIP(text), `${JSON.stringify(text)} (seed ${seed})`);
    if (ip?.family !== 6) continue;
    valid++;
    // WHATWG URLs write an embedded IPv4 address in hex, and RFC 5952 §5 the mapped one dotted.
    if (isIpv4Mapped(ip)) continue;
    assert.equal(`[${formatIp(ip)}]`, new URL(`http://[${text}]/`).hostname, text);
  }
  assert.ok(valid > 1000, `only ${valid} valid IPv6 texts drawn (seed ${seed})`);
});
