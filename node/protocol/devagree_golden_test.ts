/** Golden bytes of the devsync.agree frame and the hello's `pagree` (feature devagree1, node/device_sync/person_agreement.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_AGREE_FEATURE } from "./features.ts";
import { HelloSchema } from "./messages.ts";
import { check } from "./methods.ts";
import { DEVICE_AGREE_CONTEXT, PERSON_AGREEMENT_LABEL } from "../identity/mod.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/** A sealed 32-byte secret: 93 bytes, 124 base64 characters. */
const SEALED = "A".repeat(124);

Deno.test("golden bytes: a devsync.agree request", () => {
  assert.equal(DEVSYNC_AGREE_FEATURE, "devagree1");
  const p = check("devsync.agree", "params", { g: 2, k: SEALED });
  const json = `{"t":"req","id":7,"m":"devsync.agree","p":{"g":2,"k":"${SEALED}"}}`;
  const frame = encodeFrame({ t: "req", id: 7, m: "devsync.agree", p });
  assert.equal(hex(frame), "000000b5" + hex(new TextEncoder().encode(json)));
});

Deno.test("golden bytes: an agree.person request", () => {
  const p = check("agree.person", "params", { k: KEY });
  const json = `{"t":"req","id":8,"m":"agree.person","p":{"k":"${KEY}"}}`;
  const frame = encodeFrame({ t: "req", id: 8, m: "agree.person", p });
  assert.equal(
    hex(frame),
    "0000005e" + hex(new TextEncoder().encode(json)),
  );
  assert.equal(json.length, 94);
  for (const bad of [{ k: KEY.slice(1) }, { k: KEY + "A" }, { k: "" }, {}]) {
    assert.throws(() => check("agree.person", "params", bad), /bad_input|agree/);
  }
});

Deno.test("devsync.agree params: a bounded generation and sealed secret", () => {
  for (
    const bad of [
      { g: -1, k: SEALED },
      { g: 1.5, k: SEALED },
      { g: 1_000_001, k: SEALED },
      { g: 0, k: "A".repeat(125) },
      { g: 0, k: "not base64!" },
      { g: 0, k: "" },
      { g: 0 },
    ]
  ) assert.throws(() => check("devsync.agree", "params", bad), /bad_input|devsync/);
});

Deno.test("hello pagree: 32 bytes of base64 or absent; an older node's schema drops it", () => {
  const hello = { t: "hello", v: 1, features: ["sync1"], name: "a", pagree: KEY };
  assert.equal(HelloSchema.parse(hello).pagree, KEY);
  assert.ok(!HelloSchema.safeParse({ ...hello, pagree: KEY.slice(1) }).success);
  assert.ok(!HelloSchema.safeParse({ ...hello, pagree: KEY + "AAAA" }).success);
  // An older node's hello schema has no `pagree`: zod drops the field, the hello stands.
  assert.ok(!("pagree" in HelloSchema.omit({ pagree: true }).parse(hello)));
});

Deno.test("person agreement labels are pinned", () => {
  assert.equal(
    hex(new TextEncoder().encode(PERSON_AGREEMENT_LABEL)),
    "726f6a2d706572736f6e2d61677265656d656e742d763100",
  );
  assert.equal(DEVICE_AGREE_CONTEXT, "roj-devagree-v1");
});
