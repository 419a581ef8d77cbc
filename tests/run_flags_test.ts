/**
 * The V8 flags a node runs with (issue 16, memory): deno.json's `roj`,
 * `start` and `compile` tasks give them, and spawned test and bench nodes
 * (testing/processes.ts) run with the same, so what the memory bench measures
 * is what people run.
 */
import assert from "node:assert/strict";
import { NODE_RUN_FLAGS } from "../testing/processes.ts";

Deno.test("the roj, start and compile tasks run the node with testing's NODE_RUN_FLAGS", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  assert.ok(NODE_RUN_FLAGS.length > 0);
  for (const task of ["roj", "start", "compile"]) {
    const words = config.tasks[task]!.split(/\s+/);
    for (const flag of NODE_RUN_FLAGS) assert.ok(words.includes(flag), `${task} lacks ${flag}`);
  }
});
