import assert from "node:assert/strict";
import { pairwise, TAG_BYTES } from "../discovery/mod.ts";
import { generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import {
  decodeAnnouncement,
  encodeAnnouncement,
  lanTag,
  MAX_ANNOUNCEMENT,
  MAX_TAGS,
  padTags,
  TAG_BUCKET,
} from "./mod.ts";

const hex = (t: Uint8Array) => toHex(t);

Deno.test("lan: only the contact computes the announcer's tag, and it changes every window", async () => {
  const [a, b, c] = await Promise.all([
    generateKeyPair("a"),
    generateKeyPair("b"),
    generateKeyPair("c"),
  ]);
  const ab = pairwise(a)(b.publicKey);
  const ba = pairwise(b)(a.publicKey);
  const cb = pairwise(c)(b.publicKey);
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

Deno.test("lan: tag lists are padded to a bucket and capped; malformed announcements are dropped", () => {
  const tags = (n: number) =>
    Array.from({ length: n }, () => crypto.getRandomValues(new Uint8Array(TAG_BYTES)));
  for (const [n, size] of [[1, 16], [5, 16], [16, 16], [17, 32], [64, 64], [200, MAX_TAGS]]) {
    const real = tags(n!);
    const d = encodeAnnouncement(7022, real)!;
    assert.ok(d.length <= MAX_ANNOUNCEMENT);
    const back = decodeAnnouncement(d)!;
    assert.equal(back.port, 7022);
    assert.equal(back.tags.length, size, `${n} tags`);
    const realHex = new Set(real.map(hex));
    const carried = back.tags.filter((t) => realHex.has(hex(t))).length;
    assert.equal(carried, Math.min(n!, MAX_TAGS), `${n} tags: all real ones, or MAX_TAGS of them`);
    assert.equal(new Set(back.tags.map(hex)).size, size, "no tag twice");
  }
  assert.equal(encodeAnnouncement(7022, []), null);
  // Over many announcements of 200 tags, every one goes out some time.
  const many = tags(200);
  const sent = new Set<string>();
  for (let i = 0; i < 40; i++) for (const t of padTags(many)) sent.add(hex(t));
  assert.ok(many.every((t) => sent.has(hex(t))));

  const good = encodeAnnouncement(7022, tags(3))!;
  const unpadded = Uint8Array.of(...good.subarray(0, 6), 1, ...good.subarray(7, 7 + TAG_BYTES));
  const bad = [
    new Uint8Array(0),
    good.subarray(0, 6),
    good.subarray(0, good.length - 1), // count says more than is there
    Uint8Array.of(...good, 0), // trailing byte
    Uint8Array.of(0x52, 0x4a, 0x4c, 0x31, ...good.subarray(4)), // the unpadded version
    Uint8Array.of(...good.subarray(0, 4), 0, 0, ...good.subarray(6)), // port 0
    Uint8Array.of(...good.subarray(0, 6), 0), // no tags
    unpadded, // one tag: it would tell its count
    new Uint8Array(MAX_ANNOUNCEMENT + 1),
  ];
  for (const d of bad) assert.equal(decodeAnnouncement(d), null, `accepted ${d.length} bytes`);
  assert.throws(() => encodeAnnouncement(0, tags(1)));
  assert.throws(() => encodeAnnouncement(7022, [new Uint8Array(3)]));
});

Deno.test("lan: one contact or five, the announcements are the same size, and fillers match nobody", async () => {
  const keys = await Promise.all(
    ["one", "five", "bob", "c1", "c2", "c3", "c4"].map((n) => generateKeyPair(n)),
  );
  const [one, five, bob, ...others] = keys as [KeyPair, KeyPair, KeyPair, ...KeyPair[]];
  const window = 4242;
  const announce = (me: KeyPair, contacts: KeyPair[]) =>
    encodeAnnouncement(
      7022,
      contacts.map((c) => lanTag(pairwise(me)(c.publicKey), me.publicKey, window)),
    )!;
  /** What `receiver` recognises in a datagram: the contacts whose tag it holds. */
  const recognised = (receiver: KeyPair, contacts: KeyPair[], d: Uint8Array) => {
    const expected = new Map<string, string>();
    for (const c of contacts) {
      for (const w of [window - 1, window, window + 1]) {
        expected.set(hex(lanTag(pairwise(receiver)(c.publicKey), c.publicKey, w)), c.comment);
      }
    }
    return decodeAnnouncement(d)!.tags.map((t) => expected.get(hex(t))).filter((x) => x);
  };
  for (let i = 0; i < 50; i++) {
    const a = announce(one, [bob]);
    const b = announce(five, [bob, ...others]);
    assert.equal(a.length, b.length);
    assert.equal(decodeAnnouncement(a)!.tags.length, TAG_BUCKET);
    // Bob, a contact of both, finds exactly his own tag in each: no filler is taken for one.
    assert.deepEqual(recognised(bob, [one, five], a), [one.comment]);
    assert.deepEqual(recognised(bob, [one, five], b), [five.comment]);
    // Each other contact of "five" finds its own, and nothing in one's announcement.
    for (const o of others) {
      assert.deepEqual(recognised(o, [one, five], b), [five.comment]);
      assert.deepEqual(recognised(o, [one, five], a), []);
    }
  }
});
