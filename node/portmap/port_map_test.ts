import assert from "node:assert/strict";
import { behindAnotherNat } from "./port_map.ts";

Deno.test("behindAnotherNat: a router whose own external address is private or CGNAT", () => {
  for (
    const ip of [
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "100.64.0.1",
      "100.127.255.254",
      "169.254.1.1",
    ]
  ) {
    assert.ok(behindAnotherNat(ip), ip);
  }
  for (
    const ip of ["11.99.0.2", "172.32.0.1", "100.128.0.1", "100.63.255.255", "203.0.113.5", "junk"]
  ) {
    assert.ok(!behindAnotherNat(ip), ip);
  }
});
