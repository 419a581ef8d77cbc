/**
 * The hostile fuzz (hostile_fuzz_test.ts) sends every method valid params made
 * from its schema; a pattern its generator cannot follow leaves the method
 * untried there only after a 40 s run. This finds it at once.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { schemas } from "../node/protocol/methods.ts";
import { Fuzz, type Schema, validValue } from "../testing/fuzz.ts";

Deno.test("the fuzz makes params every method's schema takes", () => {
  const f = new Fuzz(20261204);
  const failing = (Object.keys(schemas) as Array<keyof typeof schemas>).filter((m) => {
    const params = schemas[m].params;
    const js = z.toJSONSchema(params, { unrepresentable: "any" }) as Schema;
    let ok = 0;
    for (let k = 0; k < 40; k++) if (params.safeParse(validValue(js, f)).success) ok++;
    return ok < 10;
  });
  assert.deepEqual(failing, []);
});
