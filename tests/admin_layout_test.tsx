/** The messenger layout's pure parts: runs and day separators, the list's chats, emoji, keys. */
import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import type { ChatView, MessageView } from "../node/api/mod.ts";
import { placeMessages } from "../islands/message_groups.ts";
import { dayLabel, listTime } from "../islands/_format.ts";
import { type ListPeer, messengerChats } from "../islands/chat_list.tsx";
import { Emojied, onlyEmoji } from "../islands/_emoji.tsx";
import { lastEditable } from "../islands/_keys.ts";
import { identiconSvg } from "../islands/_avatar.tsx";

const at = (y: number, mo: number, d: number, h: number, mi: number, s = 0) =>
  new Date(y, mo - 1, d, h, mi, s).getTime();
const NOW = at(2026, 12, 3, 18, 0);

Deno.test("placeMessages: a separator per day, runs by author and minute", () => {
  const m = (who: string, ts: number) => ({ authorFingerprint: who, ts });
  const placed = placeMessages([
    m("bob", at(2026, 12, 2, 9, 0, 5)),
    m("bob", at(2026, 12, 2, 9, 0, 50)), // same minute: same run
    m("bob", at(2026, 12, 2, 9, 1, 0)), // next minute: a new run
    m("alice", at(2026, 12, 2, 9, 1, 10)), // another author
    m("alice", at(2026, 12, 3, 9, 1, 10)), // another day
  ], NOW);
  assert.deepEqual(placed.map((p) => p.day ?? null), [
    "Yesterday",
    null,
    null,
    null,
    "Today",
  ]);
  assert.deepEqual(placed.map((p) => [p.first, p.last]), [
    [true, false],
    [false, true],
    [true, true],
    [true, true],
    [true, true],
  ]);
  assert.deepEqual(placeMessages([], NOW), []);
  // A group's membership note stands alone, even between two of one author's messages.
  const t = at(2026, 12, 3, 9, 0);
  const around = placeMessages([
    { authorFingerprint: "alice", ts: t, type: "msg" },
    { authorFingerprint: "alice", ts: t, type: "group.add" },
    { authorFingerprint: "alice", ts: t, type: "msg" },
  ], NOW);
  assert.deepEqual(around.map((p) => [p.first, p.last]), [[true, true], [true, true], [
    true,
    true,
  ]]);
  // Notes of one minute are one run, whoever made them: one time under the lot.
  const founding = placeMessages([
    { authorFingerprint: "alice", ts: t, type: "group.create" },
    { authorFingerprint: "alice", ts: t, type: "group.add" },
    { authorFingerprint: "bob", ts: t, type: "group.hello" },
    { authorFingerprint: "bob", ts: t + 60_000, type: "group.hello" },
  ], NOW);
  assert.deepEqual(founding.map((p) => [p.first, p.last]), [
    [true, false],
    [false, false],
    [false, true],
    [true, true],
  ]);
});

Deno.test("dayLabel and listTime: today, yesterday, else the date", () => {
  assert.equal(dayLabel(at(2026, 12, 3, 1, 0), NOW), "Today");
  assert.equal(dayLabel(at(2026, 12, 2, 23, 59), NOW), "Yesterday");
  assert.equal(dayLabel(at(2026, 11, 30, 12, 0), NOW), "Monday 30 November 2026");
  assert.equal(listTime(at(2026, 12, 3, 7, 5), NOW), "07:05");
  assert.equal(listTime(at(2026, 12, 2, 7, 5), NOW), "Yesterday");
  assert.equal(listTime(at(2026, 1, 2, 7, 5), NOW), "2026-01-02");
});

Deno.test("messengerChats: anchors are not chats; groups and notes are", () => {
  const chat = (name: string, kind: ChatView["kind"]): ChatView => ({
    name,
    id: name,
    kind,
    unread: 0,
    last: null,
  });
  const peers: ListPeer[] = [
    { name: "bob", fingerprint: "SHA256:b", anchor: false, online: true },
    { name: "hive", fingerprint: "SHA256:h", anchor: true, online: true },
  ];
  assert.deepEqual(
    messengerChats(
      [
        chat("notes", "notes"),
        chat("bob", "direct"),
        chat("hive", "direct"),
        chat("hive2", "group"),
      ],
      peers,
    ).map((c) => c.name),
    ["notes", "bob", "hive2"],
  );
});

Deno.test("Emojied: each run of emoji in its own span, other text as it was", () => {
  const html = (text: string) => render(<p>{Emojied({ text })}</p>);
  assert.equal(html("rope at 9?"), "<p>rope at 9?</p>");
  assert.equal(
    html("ok 👍🏽 see 👨‍👩‍👧 🇩🇪!"),
    '<p>ok <span class="emoji">👍🏽</span> see <span class="emoji">👨‍👩‍👧</span> ' +
      '<span class="emoji">🇩🇪</span>!</p>',
  );
  assert.equal(html("© 2026 #1"), "<p>© 2026 #1</p>", "digits, # and © are text");
  assert.equal(html("<b>🎉</b>"), '<p>&lt;b><span class="emoji">🎉</span>&lt;/b></p>');
});

Deno.test("onlyEmoji: one to three emoji alone are shown large", () => {
  assert.ok(onlyEmoji("👍"));
  assert.ok(onlyEmoji(" 🎉 👨‍👩‍👧 🇩🇪 "));
  assert.ok(!onlyEmoji("👍👍👍👍"));
  assert.ok(!onlyEmoji("ok 👍"));
  assert.ok(!onlyEmoji("1"));
  assert.ok(!onlyEmoji(""));
});

Deno.test("lastEditable: your newest message that is not deleted", () => {
  const m = (seq: number, extra: Partial<MessageView>): MessageView => ({
    chat: "bob",
    seq,
    author: "alice",
    authorFingerprint: "SHA256:a",
    mine: true,
    ts: seq,
    lamport: seq,
    type: "msg",
    body: `m${seq}`,
    state: "delivered",
    hash: `h${seq}`,
    id: `h${seq}`,
    ...extra,
  });
  assert.equal(
    lastEditable([
      m(1, {}),
      m(2, { type: "reply" }),
      m(3, { deleted: true }),
      m(4, { mine: false }),
    ])
      ?.id,
    "h2",
  );
  assert.equal(lastEditable([m(1, { mine: false })]), undefined);
});

Deno.test("identiconSvg: the same key draws the same picture, another key another", () => {
  const a = identiconSvg("SHA256:kVJwJH49bF8INSOyUOhGhjJlMZNajjkGMxRJ6sNfPwQ");
  assert.equal(a, identiconSvg("SHA256:kVJwJH49bF8INSOyUOhGhjJlMZNajjkGMxRJ6sNfPwQ"));
  assert.notEqual(a, identiconSvg("SHA256:cR8UCIoGROtoFsUg7BRPFqGvXHGP5RrfXCZ3aOOf46s"));
  assert.match(a, /^<svg [^>]*><rect [^<]*\/>.*<\/svg>$/);
  assert.doesNotMatch(a, /style=|<script/);
});
