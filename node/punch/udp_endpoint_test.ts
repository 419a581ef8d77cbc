/** What a coordinator's word may make a node do: only send QUIC to a literal ip:port. */
import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import { parseUdpEndpoint } from "./udp_endpoint.ts";

Deno.test("punch: endpoints from a coordinator are literal IPv4 or IPv6 with a port, nothing to resolve", () => {
  assert.deepEqual(parseUdpEndpoint("10.99.0.3:41015"), { host: "10.99.0.3", port: 41015 });
  assert.deepEqual(parseUdpEndpoint("[2001:db8::1]:7022"), { host: "2001:db8::1", port: 7022 });
  assert.deepEqual(
    parseUdpEndpoint("[::ffff:198.51.100.4]:41015"),
    { host: "198.51.100.4", port: 41015 },
    "a mapped endpoint is plain IPv4",
  );
  for (
    const bad of [
      "example.org:7022",
      "10.99.0.3",
      "10.99.0.3:0",
      "999.1.1.1:5",
      "10.99.0.3:70000",
      "[::1]",
      "10.99.0.3:7022 ",
      "localhost:1",
      "",
    ]
  ) {
    assert.throws(() => parseUdpEndpoint(bad), (e) => isRojError(e, "bad_input"), bad);
  }
});
