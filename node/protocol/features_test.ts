import assert from "node:assert/strict";
import {
  AGREE_FEATURE,
  ALL_FEATURES,
  ANCHOR_FEATURE,
  BULK_FEATURE,
  CARRY_FEATURE,
  DEVICES_FEATURE,
  DEVLINK_CONFIRM_FEATURE,
  DEVLINK_FEATURE,
  DIRECT_ACK_FEATURE,
  DIRECT_MAIL_FEATURE,
  FEATURES,
  FILES_FEATURE,
  GROUP_FILES_FEATURE,
  GROUP_RECEIPTS_FEATURE,
  helloFeatures,
  INTRO2_FEATURE,
  INTRO_FEATURE,
  MAILBOX_FEATURE,
  OWN_CHAIN_FEATURE,
  peerHas,
  PUNCH_FEATURE,
  RECEIPTS_FEATURE,
  RELAY_FEATURE,
  SYNC_FEATURE,
  TYPING_FEATURE,
} from "./features.ts";
import { DEVSYNC_FEATURE } from "./features.ts";
import {
  DEVSYNC_AGREE_FEATURE,
  DEVSYNC_CONTACTS_FEATURE,
  DEVSYNC_DEVICES_FEATURE,
  DEVSYNC_GROUPS_FEATURE,
  DEVSYNC_INVITES_BY_FEATURE,
  DEVSYNC_INVITES_FEATURE,
  DEVSYNC_PREFS_FEATURE,
  OWN_MAIL_FEATURE,
  OWN_MAIL_RECORDS_FEATURE,
} from "./features.ts";
import { HelloSchema } from "./messages.ts";
import { schemas } from "./methods.ts";

/** Every feature string, in the order a hello lists them. */
const WIRE = [
  "sync1",
  "agree",
  "anchor",
  "mailbox",
  "dmail",
  "punch",
  "relay",
  "carry",
  "intro",
  "own-chain",
  "receipts",
  "typing",
  "devlink",
  "devices",
  "files1",
  "greceipts",
  "devlink2",
  "dmail-ack",
  "devsync1",
  "bulk1",
  "gfiles1",
  "devcontacts1",
  "devprefs1",
  "devinvites1",
  "devgroups1",
  "ownmail1",
  "devagree1",
  "devinvites2",
  "devlist1",
  "ownmail2",
  "intro2",
];

Deno.test("feature strings are the wire's: pinned, distinct, within the hello's limits", () => {
  // A rename would make old and new nodes stop seeing each other's roles.
  assert.deepEqual(
    [
      SYNC_FEATURE,
      AGREE_FEATURE,
      ANCHOR_FEATURE,
      MAILBOX_FEATURE,
      DIRECT_MAIL_FEATURE,
      PUNCH_FEATURE,
      RELAY_FEATURE,
      CARRY_FEATURE,
      INTRO_FEATURE,
      OWN_CHAIN_FEATURE,
      RECEIPTS_FEATURE,
      TYPING_FEATURE,
      DEVLINK_FEATURE,
      DEVICES_FEATURE,
      FILES_FEATURE,
      GROUP_RECEIPTS_FEATURE,
      DEVLINK_CONFIRM_FEATURE,
      DIRECT_ACK_FEATURE,
      DEVSYNC_FEATURE,
      BULK_FEATURE,
      GROUP_FILES_FEATURE,
      DEVSYNC_CONTACTS_FEATURE,
      DEVSYNC_PREFS_FEATURE,
      DEVSYNC_INVITES_FEATURE,
      DEVSYNC_GROUPS_FEATURE,
      OWN_MAIL_FEATURE,
      DEVSYNC_AGREE_FEATURE,
      DEVSYNC_INVITES_BY_FEATURE,
      DEVSYNC_DEVICES_FEATURE,
      OWN_MAIL_RECORDS_FEATURE,
      INTRO2_FEATURE,
    ],
    WIRE,
  );
  assert.deepEqual(ALL_FEATURES, WIRE);
  assert.deepEqual([...FEATURES], ["sync1", "agree"]);
  assert.equal(new Set(ALL_FEATURES).size, ALL_FEATURES.length);
  const hello = { t: "hello", v: 1, features: [...ALL_FEATURES], name: "a" };
  assert.ok(HelloSchema.safeParse(hello).success);
});

Deno.test("helloFeatures: the list a node sends, in the order it always has", () => {
  const of = (passive: boolean, punch: boolean, relay: boolean) =>
    helloFeatures({ passive, punch, relay });
  // A node that runs chats also takes receipts and typing notices, serves files, takes group receipts.
  const chats = ["receipts", "typing", "files1", "greceipts"];
  // Every node ends with these: bulk pages (unless turned off), then group files.
  const last = ["bulk1", "gfiles1", "intro2"];
  assert.deepEqual(of(false, false, false), [
    "sync1",
    "agree",
    "intro",
    "own-chain",
    ...chats,
    ...last,
  ]);
  assert.deepEqual(of(true, true, true), [
    "sync1",
    "agree",
    "anchor",
    "mailbox",
    "dmail",
    "punch",
    "relay",
    "intro",
    "dmail-ack",
    ...last,
  ]);
  assert.deepEqual(of(false, true, true), [
    "sync1",
    "agree",
    "punch",
    "relay",
    "intro",
    "own-chain",
    ...chats,
    ...last,
  ]);
  assert.deepEqual(of(true, false, false), [
    "sync1",
    "agree",
    "anchor",
    "mailbox",
    "dmail",
    "intro",
    "dmail-ack",
    ...last,
  ]);
  assert.deepEqual(of(false, false, true), [
    "sync1",
    "agree",
    "relay",
    "intro",
    "own-chain",
    ...chats,
    ...last,
  ]);
  assert.deepEqual(helloFeatures({ passive: false, punch: false, relay: true, carry: true }), [
    "sync1",
    "agree",
    "relay",
    "carry",
    "intro",
    "own-chain",
    ...chats,
    "dmail-ack",
    ...last,
  ]);
  assert.deepEqual(helloFeatures({ passive: false, punch: false, relay: false, devlink: true }), [
    "sync1",
    "agree",
    "intro",
    "own-chain",
    "receipts",
    "typing",
    DEVLINK_FEATURE,
    DEVICES_FEATURE,
    "files1",
    "greceipts",
    "devlink2",
    ...last,
  ]);
  assert.deepEqual(
    helloFeatures({ passive: false, punch: false, relay: false, devsync: true }),
    [
      "sync1",
      "agree",
      "intro",
      "own-chain",
      ...chats,
      "devsync1",
      "bulk1",
      "gfiles1",
      "devcontacts1",
      "devprefs1",
      "devinvites1",
      "devgroups1",
      "ownmail1",
      "devagree1",
      "devinvites2",
      "devlist1",
      "ownmail2",
      "intro2",
    ],
  );
  assert.deepEqual(
    helloFeatures({ passive: false, punch: false, relay: false, files: false }),
    ["sync1", "agree", "intro", "own-chain", "receipts", "typing", "greceipts", ...last],
  );
  assert.deepEqual(
    helloFeatures({ passive: false, punch: false, relay: false, bulk: false }),
    ["sync1", "agree", "intro", "own-chain", ...chats, "gfiles1", "intro2"],
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
