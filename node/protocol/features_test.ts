import assert from "node:assert/strict";
import {
  ALL_FEATURES,
  ANCHOR_FEATURE,
  FEATURES,
  FILES_FEATURE,
  helloFeatures,
  MAILBOX_FEATURE,
  peerHas,
  PUNCH_FEATURE,
  RELAY_FEATURE,
  SYNC_FEATURE,
} from "./features.ts";
import { HelloSchema } from "./messages.ts";
import { schemas } from "./methods.ts";

Deno.test("feature strings are the wire's: pinned, distinct, within the hello's limits", () => {
  // A rename would make old and new nodes stop seeing each other's roles.
  assert.deepEqual(
    [SYNC_FEATURE, ANCHOR_FEATURE, MAILBOX_FEATURE, PUNCH_FEATURE, RELAY_FEATURE, FILES_FEATURE],
    ["sync1", "anchor", "mailbox", "punch", "relay", "files1"],
  );
  assert.deepEqual(ALL_FEATURES, ["sync1", "anchor", "mailbox", "punch", "relay", "files1"]);
  assert.deepEqual([...FEATURES], ["sync1"]);
  assert.equal(new Set(ALL_FEATURES).size, ALL_FEATURES.length);
  const hello = { t: "hello", v: 1, features: [...ALL_FEATURES], name: "a" };
  assert.ok(HelloSchema.safeParse(hello).success);
});

Deno.test("helloFeatures: the list a node sends, in the order it always has", () => {
  const of = (passive: boolean, punch: boolean, relay: boolean) =>
    helloFeatures({ passive, punch, relay });
  assert.deepEqual(of(false, false, false), ["sync1", "files1"]);
  assert.deepEqual(of(true, true, true), ["sync1", "anchor", "mailbox", "punch", "relay"]);
  assert.deepEqual(of(false, true, true), ["sync1", "punch", "relay", "files1"]);
  assert.deepEqual(of(true, false, false), ["sync1", "anchor", "mailbox"]);
  assert.deepEqual(of(false, false, true), ["sync1", "relay", "files1"]);
  assert.deepEqual(
    helloFeatures({ passive: false, punch: false, relay: false, files: false }),
    ["sync1"],
  );
});

Deno.test("peerHas: only what the peer listed; nothing before its hello", () => {
  assert.equal(peerHas(undefined, RELAY_FEATURE), false);
  assert.equal(peerHas({ features: ["sync1", "relay"] }, RELAY_FEATURE), true);
  assert.equal(peerHas({ features: ["sync1", "relay"] }, PUNCH_FEATURE), false);
  assert.equal(peerHas({ features: ["relayx"] }, RELAY_FEATURE), false);
});

/** The rows of the history table at the top of messages.ts, continuation rows joined. */
async function historyRows(): Promise<{ features: string[]; methods: string[] }[]> {
  const text = await Deno.readTextFile(new URL("./messages.ts", import.meta.url));
  const header = text.slice(0, text.indexOf("*/"));
  const rows: { features: string[]; methods: string[] }[] = [];
  for (const raw of header.split("\n")) {
    const line = raw.replace(/^\s*\*\s*/, "");
    if (!line.startsWith("|") || /^\|\s*(version|-)/.test(line)) continue;
    const [version, , features, methods] = line.split("|").slice(1).map((c) => c.trim());
    const split = (cell: string | undefined) =>
      (cell ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (version === "") {
      const last = rows.at(-1)!;
      last.features.push(...split(features));
      last.methods.push(...split(methods));
    } else rows.push({ features: split(features), methods: split(methods) });
  }
  return rows;
}

Deno.test("the protocol history names every method and every feature exactly once", async () => {
  const rows = await historyRows();
  assert.ok(rows.length >= 5, "the table was found");
  const methods = rows.flatMap((r) => r.methods).sort();
  assert.deepEqual(methods, Object.keys(schemas).sort(), "every method in methods.ts, once");
  // "(mailbox)": a step that added methods under a feature an earlier step introduced.
  const introduced = rows.flatMap((r) => r.features).filter((f) => !f.startsWith("("));
  assert.deepEqual(introduced.sort(), [...ALL_FEATURES].sort(), "every feature, once");
});
