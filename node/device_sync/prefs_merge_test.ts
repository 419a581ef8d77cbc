/** The pure merge of chat settings and read marks between a person's devices (prefs_merge.ts). */
import assert from "node:assert/strict";
import { MAX_CHANGE_SKEW_MS } from "./contact_merge.ts";
import { mergePrefs, type PrefsRecord, samePrefs, stampPrefs } from "./prefs_merge.ts";

const NOW = 1_800_000_000_000;
const rec = (r: Partial<PrefsRecord>): PrefsRecord => ({
  chat: "d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  muted: false,
  pinned: false,
  archived: false,
  at: 0,
  read: 0,
  ...r,
});

Deno.test("mergePrefs: a chat new here takes the sibling's record", () => {
  const theirs = rec({ muted: true, at: NOW - 5, read: 7 });
  assert.deepEqual(mergePrefs(undefined, theirs, NOW), theirs);
});

Deno.test("mergePrefs: the later settings win per chat, whatever order they came in", () => {
  const early = rec({ muted: true, at: NOW - 10 });
  const late = rec({ pinned: true, at: NOW - 5 });
  assert.deepEqual(mergePrefs(early, late, NOW), late);
  assert.equal(mergePrefs(late, early, NOW), null, "an older change does nothing");
  // At one time, one fixed order of content decides, on both sides alike.
  const a = rec({ muted: true, at: NOW }), b = rec({ archived: true, at: NOW });
  const ab = mergePrefs(a, b, NOW) ?? a, ba = mergePrefs(b, a, NOW) ?? b;
  assert.ok(samePrefs(ab, ba));
});

Deno.test("mergePrefs: the read mark is the highest, never going back", () => {
  const local = rec({ muted: true, at: NOW - 10, read: 50 });
  // Newer settings with a lower mark: the settings change, the mark stays.
  const next = mergePrefs(local, rec({ at: NOW - 1, read: 20 }), NOW);
  assert.deepEqual(next, rec({ at: NOW - 1, read: 50 }));
  // Older settings with a higher mark: the mark rises, the settings stay.
  assert.deepEqual(
    mergePrefs(local, rec({ pinned: true, at: NOW - 20, read: 80 }), NOW),
    { ...local, read: 80 },
  );
  // Nothing newer: nothing to keep.
  assert.equal(mergePrefs(local, rec({ at: NOW - 20, read: 10 }), NOW), null);
  assert.equal(mergePrefs(local, local, NOW), null);
});

Deno.test("mergePrefs: a time far ahead of our clock counts as now + the skew", () => {
  const ahead = rec({ muted: true, at: NOW + 3_600_000 });
  assert.equal(mergePrefs(undefined, ahead, NOW)?.at, NOW + MAX_CHANGE_SKEW_MS);
  // So a setting made here after that time wins over it.
  const kept = mergePrefs(undefined, ahead, NOW)!;
  const later = NOW + MAX_CHANGE_SKEW_MS + 1;
  assert.deepEqual(mergePrefs(kept, rec({ at: later }), later), rec({ at: later }));
});

Deno.test("stampPrefs: now, but after the settings it replaces", () => {
  assert.equal(stampPrefs(undefined, NOW), NOW);
  assert.equal(stampPrefs(rec({ at: 0 }), NOW), NOW);
  assert.equal(stampPrefs(rec({ at: NOW + 100 }), NOW), NOW + 101);
  assert.equal(stampPrefs(rec({ at: NOW - 100 }), NOW), NOW);
});
