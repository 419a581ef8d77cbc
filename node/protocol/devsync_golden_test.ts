/** Golden bytes of the devsync.addresses frame (feature devsync1, node/device_sync). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("golden bytes: a devsync.addresses request", () => {
  assert.equal(DEVSYNC_FEATURE, "devsync1");
  const frame = encodeFrame({
    t: "req",
    id: 3,
    m: "devsync.addresses",
    p: { addresses: ["127.0.0.4:7022", "[::1]:7022"] },
  });
  assert.equal(
    hex(frame),
    "0000005c" +
      hex(new TextEncoder().encode(
        `{"t":"req","id":3,"m":"devsync.addresses","p":{"addresses":["127.0.0.4:7022","[::1]:7022"]}}`,
      )),
  );
});

Deno.test("devsync.addresses params: at most 8 addresses of at most 300 characters", () => {
  assert.deepEqual(check("devsync.addresses", "params", { addresses: [] }), { addresses: [] });
  for (
    const bad of [
      { addresses: Array(9).fill("a:1") },
      { addresses: ["x".repeat(301)] },
      { addresses: [""] },
      {},
    ]
  ) assert.throws(() => check("devsync.addresses", "params", bad), /bad_input|devsync/);
});
