/** Golden bytes of the devsync.devices frame (feature devlist1, node/device_sync/device_list.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_DEVICES_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const device = { cert: "AAAA", addresses: ["192.0.2.7:7022"] };

Deno.test("golden bytes: a devsync.devices request", () => {
  assert.equal(DEVSYNC_DEVICES_FEATURE, "devlist1");
  const p = check("devsync.devices", "params", { devices: [device] });
  const json =
    `{"t":"req","id":7,"m":"devsync.devices","p":{"devices":[{"cert":"AAAA","addresses":["192.0.2.7:7022"]}]}}`;
  const frame = encodeFrame({ t: "req", id: 7, m: "devsync.devices", p });
  const body = new TextEncoder().encode(json);
  assert.equal(hex(frame), body.length.toString(16).padStart(8, "0") + hex(body));
  assert.equal(hex(frame).slice(0, 8), "00000069"); // 105 bytes of JSON
});

Deno.test("devsync.devices params: 1 to 16 devices, base64 certificates, at most 8 addresses each", () => {
  assert.ok(check("devsync.devices", "params", { devices: [{ ...device, addresses: [] }] }));
  for (
    const bad of [
      { devices: [] },
      { devices: Array(17).fill(device) },
      { devices: [{ ...device, cert: "" }] },
      { devices: [{ ...device, cert: "not base64!" }] },
      { devices: [{ ...device, cert: "A".repeat(5465) }] },
      { devices: [{ ...device, addresses: Array(9).fill("192.0.2.7:7022") }] },
      { devices: [{ ...device, addresses: ["x".repeat(301)] }] },
      {},
    ]
  ) assert.throws(() => check("devsync.devices", "params", bad), /bad_input|devsync/);
});
