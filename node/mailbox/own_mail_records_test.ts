/**
 * Boxes of chat settings and of issued invites in own mail (feature
 * ownmail2, own_mail_records.ts): golden plaintexts, the methods' bounds,
 * and what is filed again (nothing already handed at that anchor).
 */
import assert from "node:assert/strict";
import { OWN_MAIL_RECORDS_FEATURE } from "../protocol/mod.ts";
import {
  type InviteRecord,
  inviteRecords,
  type PrefsChange,
  prefsRecords,
} from "./own_mail_records.ts";

const anchor = new Uint8Array(32).fill(1);
const sibling = new Uint8Array(32).fill(2);
const enc = new TextEncoder();
const dec = new TextDecoder();

const change: PrefsChange = {
  chat: "d-abcdefghijklmnopqrstuvwxyz234567",
  muted: true,
  pinned: false,
  archived: false,
  at: 1_800_000_000_000,
  read: 7,
};
const invite: InviteRecord = {
  nonce: "0123456789abcdef0123456789abcdef",
  expires: 1_800_000_000_000,
  uses: 2,
  by: "ab".repeat(32),
};

/** Every box a push put, as text. */
function collector() {
  const boxes: string[] = [];
  return {
    boxes,
    put: (body: Uint8Array) => {
      boxes.push(dec.decode(body));
      return Promise.resolve(undefined);
    },
  };
}

Deno.test("own mail settings: the plaintext byte for byte, filed once, taken as devsync.prefs", async () => {
  assert.equal(OWN_MAIL_RECORDS_FEATURE, "ownmail2");
  using kv = await Deno.openKv(":memory:");
  const records = [{ ...change, seq: 1 }];
  const took: PrefsChange[][] = [];
  const src = {
    changesAfter: (_s: Uint8Array, after: number) => {
      const due = records.filter((r) => r.seq > after);
      const changes = due.map(({ seq: _, ...c }) => c);
      return Promise.resolve({ changes, upTo: due.at(-1)?.seq ?? after });
    },
    take: (_s: Uint8Array, changes: readonly PrefsChange[]) => {
      took.push([...changes]);
      return Promise.resolve({});
    },
  };
  const r = prefsRecords(kv, () => src);
  const c = collector();
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 1 });
  assert.deepEqual(c.boxes, [
    'roj-ownmail-prefs-v1\0{"changes":[{"chat":"d-abcdefghijklmnopqrstuvwxyz234567",' +
    '"muted":true,"pinned":false,"archived":false,"at":1800000000000,"read":7}]}',
  ]);
  // Handed at this anchor: not again; a newer record is.
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 0 });
  records.push({ ...change, read: 9, seq: 2 });
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 1 });
  assert.equal(await r.take(anchor, sibling, enc.encode(c.boxes[0]!)), true);
  assert.deepEqual(took, [[change]]);
});

Deno.test("own mail settings and invites: anything else, or past the method's bounds, is not taken", async () => {
  using kv = await Deno.openKv(":memory:");
  let took = 0;
  const prefs = prefsRecords(kv, () => ({
    changesAfter: () => Promise.resolve({ changes: [], upTo: 0 }),
    take: () => Promise.resolve(took++),
  }));
  const invites = inviteRecords(kv, () => 0, () => ({
    wire: () => Promise.resolve([]),
    take: () => Promise.resolve(took++),
  }));
  const box = (magic: string, v: unknown) => enc.encode(magic + JSON.stringify(v));
  const P = "roj-ownmail-prefs-v1\0";
  const I = "roj-ownmail-invites-v1\0";
  for (
    const bad of [
      box(P, { changes: [] }), // at least one
      box(P, { changes: Array(65).fill(change) }), // at most 64
      box(P, { changes: [{ ...change, chat: "../x" }] }),
      box(I, { changes: [change] }), // the other kind's magic
      enc.encode(P + "not json"),
      box("roj-ownmail-contacts-v1\0", { changes: [change] }),
      new Uint8Array([0xff, 0xfe]),
    ]
  ) assert.equal(await prefs.take(anchor, sibling, bad), false);
  for (
    const bad of [
      box(I, { invites: Array(65).fill(invite) }),
      box(I, { invites: [{ ...invite, uses: 1001 }] }),
      box(I, { invites: [{ ...invite, nonce: "zz" }] }),
      box(P, { invites: [invite] }),
    ]
  ) assert.equal(await invites.take(anchor, sibling, bad), false);
  assert.equal(took, 0);
});

Deno.test("own mail invites: the plaintext, filed again only when it changed, never back to whom it came from", async () => {
  using kv = await Deno.openKv(":memory:");
  let held: InviteRecord[] = [invite];
  const r = inviteRecords(kv, () => 1_700_000_000_000, () => ({
    wire: () => Promise.resolve(held),
    take: () => Promise.resolve({}),
  }));
  const c = collector();
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 1 });
  assert.deepEqual(c.boxes, [
    'roj-ownmail-invites-v1\0{"invites":[{"nonce":"0123456789abcdef0123456789abcdef",' +
    `"expires":1800000000000,"uses":2,"by":"${"ab".repeat(32)}"}]}`,
  ]);
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 0 });
  held = [{ ...invite, uses: 1 }];
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 1 });
  // The sibling's record, taken here and held as it came: not filed back to it.
  const theirs = { ...invite, nonce: "f".repeat(32) };
  const body = enc.encode(`roj-ownmail-invites-v1\0${JSON.stringify({ invites: [theirs] })}`);
  assert.equal(await r.take(anchor, sibling, body), true);
  held = [{ ...invite, uses: 1 }, theirs];
  assert.deepEqual(await r.push(anchor, sibling, c.put), { filed: 0 });
  // At another anchor it was never handed: filed there.
  assert.deepEqual(await r.push(new Uint8Array(32).fill(3), sibling, c.put), { filed: 2 });
});
