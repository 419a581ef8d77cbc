import assert from "node:assert/strict";
import { pairwise, TAG_BYTES } from "../discovery/mod.ts";
import { generateKeyPair } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import {
  decodeAnnouncement,
  encodeAnnouncements,
  lanTag,
  MAX_ANNOUNCEMENT,
  MAX_TAGS,
} from "./mod.ts";

Deno.test("lan: only the contact computes the announcer's tag, and it changes every window", async () => {
  const [a, b, c] = await Promise.all([
    generateKeyPair("a"),
    generateKeyPair("b"),
    generateKeyPair("c"),
  ]);
  const ab = pairwise(a)(b.publicKey);
  const ba = pairwise(b)(a.publicKey);
  const cb = pairwise(c)(b.publicKey);
  const hex = (t: Uint8Array) => toHex(t);
  // Alice announces to bob; bob computes the same tag from his side.
  assert.equal(hex(lanTag(ab, a.publicKey, 7)), hex(lanTag(ba, a.publicKey, 7)));
  assert.equal(lanTag(ab, a.publicKey, 7).length, TAG_BYTES);
  // Another window, the other direction, another pair: unrelated tags.
  const seen = new Set([
    hex(lanTag(ab, a.publicKey, 7)),
    hex(lanTag(ab, a.publicKey, 8)),
    hex(lanTag(ab, b.publicKey, 7)),
    hex(lanTag(cb, c.publicKey, 7)),
    hex(lanTag(cb, b.publicKey, 7)),
  ]);
  assert.equal(seen.size, 5);
  // Not the pair's address-record tag either.
  assert.ok(!seen.has(hex(ab.tag(a.publicKey))));
});

Deno.test("lan: announcements round-trip, split at MAX_TAGS, and malformed ones are dropped", () => {
  const tags = Array.from({ length: MAX_TAGS + 3 }, (_, i) => new Uint8Array(TAG_BYTES).fill(i));
  const ds = encodeAnnouncements(7022, tags);
  assert.equal(ds.length, 2);
  assert.ok(ds.every((d) => d.length <= MAX_ANNOUNCEMENT));
  const back = ds.map((d) => decodeAnnouncement(d)!);
  assert.deepEqual(back.map((a) => a.port), [7022, 7022]);
  assert.deepEqual(back.flatMap((a) => a.tags), tags);
  assert.deepEqual(encodeAnnouncements(7022, []), []);

  const good = ds[1]!;
  const bad = [
    new Uint8Array(0),
    good.subarray(0, 6),
    good.subarray(0, good.length - 1), // count says more than is there
    Uint8Array.of(...good, 0), // trailing byte
    Uint8Array.of(0x52, 0x4a, 0x4c, 0x32, ...good.subarray(4)), // another version
    Uint8Array.of(...good.subarray(0, 4), 0, 0, ...good.subarray(6)), // port 0
    Uint8Array.of(...good.subarray(0, 6), 0), // no tags
    new Uint8Array(MAX_ANNOUNCEMENT + 1),
  ];
  for (const d of bad) assert.equal(decodeAnnouncement(d), null, `accepted ${d.length} bytes`);
  assert.throws(() => encodeAnnouncements(0, tags));
  assert.throws(() => encodeAnnouncements(7022, [new Uint8Array(3)]));
});
