import assert from "node:assert/strict";
import { formatEndpoint, parseEndpoint } from "./endpoint.ts";

Deno.test("parseEndpoint takes host names, IPv4 and bracketed IPv6, and round-trips them", () => {
  for (
    const [text, host, port] of [
      ["203.0.113.7:7022", "203.0.113.7", 7022],
      ["[2001:db8::1]:22", "2001:db8::1", 22],
      ["[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1],
      ["anchor.example.org:65535", "anchor.example.org", 65535],
      ["localhost:7022", "localhost", 7022],
    ] as const
  ) {
    const e = parseEndpoint(text);
    assert.deepEqual(e, { host, port }, text);
    assert.equal(formatEndpoint(e), text);
  }
  assert.deepEqual(parseEndpoint("198.51.100.2", 7022), { host: "198.51.100.2", port: 7022 });
});

Deno.test("parseEndpoint refuses malformed literals, ports and sizes", () => {
  for (
    const text of [
      "1.2.3.:7022",
      "1.2.3:7022",
      "256.1.1.1:7022",
      "1.2.3.4.5:7022",
      "[1::2::3]:7022",
      "[12345::1]:7022",
      "[1.2.3.4]:7022",
      "2001:db8::1:7022",
      "host:0",
      "host:65536",
      "host",
      "",
      " host:1",
      `${"a".repeat(300)}:1`,
    ]
  ) {
    assert.throws(() => parseEndpoint(text), (e: Error) => /not a host:port/.test(e.message), text);
  }
});
