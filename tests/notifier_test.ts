/** The notifier island's pure parts: the title's unread count and what a notification says. */
import assert from "node:assert/strict";
import { notificationText, titleWithUnread, unreadCount } from "../islands/notifier.tsx";
import type { ChatView, MessageView, SearchHitView } from "../node/api/mod.ts";

const chat = (name: string, unread: number, muted = false): ChatView => ({
  name,
  id: name,
  kind: "direct",
  unread,
  last: null,
  prefs: { muted, pinned: false, archived: false },
});

Deno.test("the title counts unread messages of chats that are not muted", () => {
  assert.equal(unreadCount([chat("bob", 2), chat("carol", 5, true), chat("dave", 1)]), 3);
  assert.equal(titleWithUnread("Chats · Roj · alice", 3), "(3) Chats · Roj · alice");
  assert.equal(titleWithUnread("(3) Chats · Roj · alice", 1), "(1) Chats · Roj · alice");
  assert.equal(titleWithUnread("(3) Chats · Roj · alice", 0), "Chats · Roj · alice");
});

Deno.test("a notification shows sender and text, or only 'New message'", () => {
  const m = { chat: "climbers", author: "bob", body: "x".repeat(300) } as MessageView;
  const full = notificationText(m, "group", "full");
  assert.equal(full.title, "bob in climbers");
  assert.ok(full.body.length <= 201);
  assert.deepEqual(notificationText(m, "direct", "full").title, "bob");
  assert.deepEqual(notificationText(m, "group", "hidden"), { title: "Roj", body: "New message" });
});

Deno.test("a search hit links to its message, with enough of the chat loaded", async () => {
  const { hitHref } = await import("../routes/pages/search.tsx");
  const hit: SearchHitView = {
    chat: "climbers & co",
    chatKind: "group",
    hash: "0123456789abcdef".repeat(4),
    seq: 1,
    author: "bob",
    authorFingerprint: "SHA256:x",
    mine: false,
    ts: 1,
    snippet: [],
    last: 10,
  };
  assert.equal(hitHref(hit), "/chats/climbers%20%26%20co#m-0123456789abcdef");
  assert.equal(
    hitHref({ ...hit, last: 5000 }),
    "/chats/climbers%20%26%20co?last=5000#m-0123456789abcdef",
  );
});
