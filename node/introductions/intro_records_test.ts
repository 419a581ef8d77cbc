import assert from "node:assert/strict";
import { isRojError } from "../errors.ts";
import type { Got, Made } from "./introduction.ts";
import {
  IntroRecords,
  MAX_ENDED,
  MAX_OPEN_OFFERED,
  MAX_OPEN_OFFERED_PER_INTRODUCER,
} from "./intro_records.ts";

const key = (n: number) => new Uint8Array(32).fill(n);
const hexId = (n: number) => n.toString(16).padStart(32, "0");
const got = (n: number, introducer: number, phase: Got["phase"] = "pending"): Got => ({
  id: hexId(n),
  introducer: key(introducer),
  person: key(200),
  name: "x",
  card: null,
  expires: 10,
  phase,
  unsent: false,
  at: n,
});

function throwsCode(fn: () => void, code: string): void {
  assert.throws(fn, (err) => isRojError(err) && err.code === code);
}

Deno.test("one introducer fills at most its share of open offers; everyone at most the cap", async () => {
  using kv = await Deno.openKv(":memory:");
  const r = await IntroRecords.open(kv);
  for (let i = 0; i < MAX_OPEN_OFFERED_PER_INTRODUCER; i++) await r.putGot(got(i, 1));
  throwsCode(() => r.roomForOffer(key(1)), "busy");
  r.roomForOffer(key(2));
  for (let i = 100; r.got.size < MAX_OPEN_OFFERED; i++) await r.putGot(got(i, 2 + (i % 8)));
  throwsCode(() => r.roomForOffer(key(50)), "busy");
  // Ended ones take no room.
  await r.putGot(got(0, 1, "declined"));
  r.roomForOffer(key(1));
});

Deno.test("one open introduction per pair, either way round", async () => {
  using kv = await Deno.openKv(":memory:");
  const r = await IntroRecords.open(kv);
  const m: Made = {
    id: hexId(1),
    a: key(1),
    b: key(2),
    expires: 10,
    phase: "pending",
    accepted: [],
    toOffer: [],
    toTell: [],
    at: 0,
  };
  await r.putMade(m);
  throwsCode(() => r.roomToMake(key(2), key(1)), "exists");
  r.roomToMake(key(1), key(3));
  await r.putMade({ ...m, phase: "declined", a: null, b: null });
  r.roomToMake(key(2), key(1));
});

Deno.test("ended introductions past the cap: the oldest go, from memory and the store", async () => {
  using kv = await Deno.openKv(":memory:");
  const r = await IntroRecords.open(kv);
  for (let i = 0; i < MAX_ENDED + 3; i++) await r.putGot(got(i, 1, "declined"));
  await r.putGot(got(99_999, 1, "pending"));
  await r.trim();
  assert.equal(r.got.size, MAX_ENDED + 1);
  assert.ok(!r.got.has(hexId(0)) && !r.got.has(hexId(2)) && r.got.has(hexId(3)));
  const again = await IntroRecords.open(kv);
  assert.equal(again.got.size, MAX_ENDED + 1);
});
