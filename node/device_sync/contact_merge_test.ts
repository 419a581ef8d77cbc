/** The pure merge of a person's contacts across devices (contact_merge.ts). */
import assert from "node:assert/strict";
import {
  type ContactRecord,
  MAX_CHANGE_SKEW_MS,
  mergeChange,
  resolveName,
  stampLocal,
  tombstonesOver,
} from "./contact_merge.ts";

const NOW = 1_800_000_000_000;
const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);

const rec = (p: Partial<ContactRecord> = {}): ContactRecord => ({
  key: K1,
  state: "live",
  name: "bob",
  addresses: ["127.0.0.3:7022"],
  anchor: false,
  at: NOW,
  ...p,
});

Deno.test("mergeChange: the later change wins, an older one is ignored, an unknown contact is taken", () => {
  const local = rec();
  assert.deepEqual(mergeChange(undefined, local, NOW), local);
  const renamed = rec({ name: "bobby", at: NOW + 1 });
  assert.deepEqual(mergeChange(local, renamed, NOW), renamed);
  assert.equal(mergeChange(renamed, local, NOW), null);
  const removed = rec({ state: "removed", name: "", addresses: [], at: NOW + 2 });
  assert.deepEqual(mergeChange(renamed, removed, NOW), removed);
  // A removal is a tombstone: an older add arriving after it does not bring the contact back.
  assert.equal(mergeChange(removed, renamed, NOW), null);
});

Deno.test("mergeChange: at one time, both devices pick the same record whatever order they came in", () => {
  const a = rec({ name: "bob" }), b = rec({ state: "blocked" });
  const ab = mergeChange(a, b, NOW) ?? a;
  const ba = mergeChange(b, a, NOW) ?? b;
  assert.deepEqual(ab, ba);
  // The same record again changes nothing.
  assert.equal(mergeChange(a, rec(), NOW), null);
});

Deno.test("mergeChange: a change dated far ahead counts as made at now + the skew", () => {
  const ahead = rec({ name: "future", at: NOW + 86_400_000 });
  const taken = mergeChange(rec(), ahead, NOW);
  assert.equal(taken?.at, NOW + MAX_CHANGE_SKEW_MS);
  assert.equal(taken?.name, "future");
  // The person's next change here, after the skew, wins over it.
  const later = NOW + MAX_CHANGE_SKEW_MS + 1;
  assert.ok(mergeChange(taken!, rec({ name: "fixed", at: later }), later));
});

Deno.test("stampLocal: now, but always after the record it replaces", () => {
  assert.equal(stampLocal(undefined, NOW), NOW);
  assert.equal(stampLocal(rec({ at: NOW - 5 }), NOW), NOW);
  assert.equal(stampLocal(rec({ at: NOW + 100 }), NOW), NOW + 101);
});

Deno.test("resolveName: a clash keeps both; the smaller key keeps the name, on either side", () => {
  assert.deepEqual(resolveName(K1, "bob", []), { name: "bob" });
  assert.deepEqual(resolveName(K1, "bob", [{ key: K1, name: "bob" }]), { name: "bob" });
  // K1 arrives where K2 is "bob": K1 takes it, K2 gives way.
  assert.deepEqual(resolveName(K1, "Bob", [{ key: K2, name: "bob" }]), {
    name: "Bob",
    displaced: { key: K2, name: "bob-020202" },
  });
  // K2 arrives where K1 is "bob": K2 gives way.
  assert.deepEqual(resolveName(K2, "bob", [{ key: K1, name: "bob" }]), { name: "bob-020202" });
  assert.deepEqual(resolveName(K1, "notes", [], ["notes"]), { name: "notes-010101" });
  const long = "x".repeat(40);
  assert.ok(resolveName(K2, long, [{ key: K1, name: long }]).name.length <= 40);
});

Deno.test("tombstonesOver: only removals count, the oldest go", () => {
  const rs = [
    rec({ state: "removed", at: 3 }),
    rec({ state: "removed", at: 1 }),
    rec({ state: "live", at: 0 }),
    rec({ state: "removed", at: 2 }),
  ];
  assert.deepEqual(tombstonesOver(rs, 2).map((r) => r.at), [1]);
  assert.deepEqual(tombstonesOver(rs, 5), []);
});
