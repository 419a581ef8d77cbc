import assert from "node:assert/strict";
import { decideLink, isKept, isOpen, KEEP_ENDED_MS, type LinkCodeRecord } from "./link_decision.ts";
import { linkProof } from "./link_proof.ts";

const key = (b: number) => new Uint8Array(32).fill(b);
const laptop = key(1);
const phone = key(2);
const code = (secret: number, over: Partial<LinkCodeRecord> = {}): LinkCodeRecord => ({
  id: secret.toString(16).padStart(32, "0"),
  secret: key(secret),
  made: 1000,
  expires: 1000 + 600_000,
  ...over,
});

Deno.test("decideLink: the code whose secret the proof shows, open until it expires, once", () => {
  const codes = [code(7), code(8)];
  const proof = linkProof(key(8), phone, laptop);
  const ok = decideLink(codes, proof, phone, laptop, 2000);
  assert.ok(ok.ok);
  assert.equal(ok.code.id, codes[1]!.id);
  assert.deepEqual(decideLink(codes, proof, phone, laptop, 601_000), {
    ok: false,
    why: "expired",
    code: codes[1],
  });
  const used = [code(8, { used: { at: 1500, device: key(3) } })];
  assert.equal(decideLink(used, proof, phone, laptop, 2000).ok, false);
  assert.equal((decideLink(used, proof, phone, laptop, 2000) as { why: string }).why, "used");
});

Deno.test("decideLink: a proof is bound to the new key, the linking key and the secret", () => {
  const codes = [code(7)];
  const wrong = (p: Uint8Array, dev = phone, link = laptop) =>
    (decideLink(codes, p, dev, link, 2000) as { why: string }).why;
  assert.equal(wrong(linkProof(key(9), phone, laptop)), "wrong_secret");
  assert.equal(wrong(linkProof(key(7), key(4), laptop)), "wrong_secret");
  assert.equal(wrong(linkProof(key(7), phone, key(5))), "wrong_secret");
  assert.equal(wrong(new Uint8Array(31)), "wrong_secret");
  assert.equal(decideLink([], linkProof(key(7), phone, laptop), phone, laptop, 0).ok, false);
});

Deno.test("a code is open until it expires or is used, and kept an hour after it ended", () => {
  const c = code(7);
  assert.ok(isOpen(c, 2000) && !isOpen(c, c.expires));
  assert.ok(isKept(c, c.expires + KEEP_ENDED_MS - 1) && !isKept(c, c.expires + KEEP_ENDED_MS));
  const u = code(7, { used: { at: 5000, device: phone } });
  assert.ok(!isOpen(u, 5001) && isKept(u, 5000 + KEEP_ENDED_MS - 1));
});

Deno.test("decideLink, two phases: the key a code is pending for asks again; another key is refused in_use", () => {
  const pending = {
    at: 1500,
    device: phone,
    name: "phone",
    certificate: new Uint8Array([1, 2, 3]),
  };
  const codes = [code(7, { pending })];
  const proof = linkProof(key(7), phone, laptop);
  assert.deepEqual(decideLink(codes, proof, phone, laptop, 2000), {
    ok: true,
    code: codes[0],
    again: "pending",
  });
  const tablet = key(4);
  assert.deepEqual(decideLink(codes, linkProof(key(7), tablet, laptop), tablet, laptop, 2000), {
    ok: false,
    why: "in_use",
    code: codes[0],
  });
  // Unconfirmed when it expired: refused, and no device was ever recorded for it.
  assert.equal(
    (decideLink(codes, proof, phone, laptop, 601_000) as { why: string }).why,
    "expired",
  );
  // Used (confirmed) by this key: asked again, also after it expired; by another, "used".
  const used = [code(7, { used: { at: 1600, device: phone } })];
  assert.deepEqual(decideLink(used, proof, phone, laptop, 700_000), {
    ok: true,
    code: used[0],
    again: "used",
  });
  assert.equal(
    (decideLink(used, linkProof(key(7), tablet, laptop), tablet, laptop, 2000) as { why: string })
      .why,
    "used",
  );
});
