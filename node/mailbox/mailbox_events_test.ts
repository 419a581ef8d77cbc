import assert from "node:assert/strict";
import { anchorMailboxEvent, mailboxEvent } from "./mailbox_events.ts";
import { fingerprint } from "../identity/mod.ts";

Deno.test("mailbox events: groups named here, the anchor's words bounded to one short line", () => {
  const names = (id: string) => (id === "g-1" ? "climbers" : undefined);
  assert.deepEqual(
    mailboxEvent({ op: "taken", anchor: "hive", chat: "g-1", entries: 3, left: 1 }, names),
    {
      type: "mailbox",
      op: "taken",
      anchor: "hive",
      group: "climbers",
      id: "g-1",
      entries: 3,
      left: 1,
    },
  );
  assert.deepEqual(
    mailboxEvent({ op: "visited", anchor: "hive", chat: "g-2", stored: 0, forward: true }, names),
    {
      type: "mailbox",
      op: "visited",
      anchor: "hive",
      group: "g-2",
      id: "g-2",
      stored: 0,
      forward: true,
    },
  );
  const evil = "full\x1b[2J\nroj: ok \u202e" + "x".repeat(500);
  const e = mailboxEvent({ op: "refused", anchor: "hive", chat: "g-1", reason: evil }, names);
  assert.ok(e.type === "mailbox" && e.op === "refused");
  assert.equal(e.reason, "full\\x1b[2J\\nroj: ok \\u202e" + "x".repeat(120 - 18));
});

Deno.test("mailbox events: an anchor's refusal names the member and its code", () => {
  const peer = new Uint8Array(32).fill(7);
  assert.deepEqual(anchorMailboxEvent({ op: "refused", peer, code: "quota" }, () => "alice"), {
    type: "anchor-mailbox",
    op: "refused",
    peer: "alice",
    fingerprint: fingerprint(peer),
    code: "quota",
  });
  assert.deepEqual(anchorMailboxEvent({ op: "expired", boxes: 4 }, () => "x"), {
    type: "anchor-mailbox",
    op: "expired",
    boxes: 4,
  });
});
