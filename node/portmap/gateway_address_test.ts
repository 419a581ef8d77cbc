import assert from "node:assert/strict";
import { formatIpv4, ipv4, parseIpRoute, parseProcNetRoute } from "./gateway_address.ts";

const HEADER =
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

Deno.test("parseProcNetRoute: the default route's gateway, little-endian hex", () => {
  const text = HEADER +
    "eth0\t0032A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
    "eth0\t00000000\t0132A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  assert.equal(parseProcNetRoute(text), "192.168.50.1");
});

Deno.test("parseProcNetRoute: of two default routes the lower metric wins; a gateway off the .1 is found", () => {
  const text = HEADER +
    "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
    "eth0\t00000000\tFE00000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
    "eth0\t0000000A\t00000000\t0001\t0\t0\t100\t000000FF\t0\t0\t0\n";
  assert.equal(parseProcNetRoute(text), "10.0.0.254");
});

Deno.test("parseProcNetRoute: no default route, a down route, or garbage gives undefined", () => {
  assert.equal(
    parseProcNetRoute(HEADER + "eth0\t0032A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"),
    undefined,
  );
  // Flags 0002: RTF_GATEWAY without RTF_UP.
  assert.equal(
    parseProcNetRoute(HEADER + "eth0\t00000000\t0132A8C0\t0002\t0\t0\t0\t00000000\n"),
    undefined,
  );
  assert.equal(
    parseProcNetRoute(HEADER + "eth0\t00000000\tnot-hex!\t0003\t0\t0\t0\t00000000\n"),
    undefined,
  );
  assert.equal(parseProcNetRoute(""), undefined);
});

Deno.test("parseIpRoute: `ip -4 route show default` output", () => {
  assert.equal(parseIpRoute("default via 192.168.50.1 dev eth0 \n"), "192.168.50.1");
  assert.equal(
    parseIpRoute(
      "default via 192.168.1.1 dev wlan0 proto dhcp metric 600\n" +
        "default via 10.0.0.254 dev eth0 proto dhcp src 10.0.0.7 metric 100\n",
    ),
    "10.0.0.254",
  );
  assert.equal(parseIpRoute("default dev wg0 scope link\n"), undefined);
  assert.equal(parseIpRoute("default via 999.1.1.1 dev eth0\n"), undefined);
  assert.equal(parseIpRoute("default via 192.168.50. dev eth0\n"), undefined);
  assert.equal(parseIpRoute("default via 192.168.050.1 dev eth0\n"), undefined);
  assert.equal(parseIpRoute("default via fe80::1 dev eth0\n"), undefined);
  assert.equal(parseIpRoute(""), undefined);
});

Deno.test("ipv4 and formatIpv4: dotted addresses as 32-bit numbers, malformed ones refused", () => {
  assert.equal(ipv4("192.168.50.1"), 0xc0a83201);
  assert.equal(ipv4("255.255.255.0"), 0xffffff00);
  assert.equal(ipv4("0.0.0.0"), 0);
  assert.equal(formatIpv4(0xc0a83201), "192.168.50.1");
  assert.equal(formatIpv4(0xffffffff), "255.255.255.255");
  for (
    const bad of ["1.2.3.", "1.2.3", "01.2.3.4", "1.2.3.4.5", "256.0.0.1", "::1", "", " 1.2.3.4"]
  ) {
    assert.equal(ipv4(bad), undefined, bad);
  }
});
