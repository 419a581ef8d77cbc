/** lazyEntries: each value built on its first read only, once, under the same keys. */
import assert from "node:assert/strict";
import { lazyEntries } from "./lazy.ts";
import { check, schemas } from "./methods.ts";

Deno.test("lazyEntries builds a value on its first read, once, and keeps the keys as given", () => {
  const built: string[] = [];
  const r = lazyEntries({
    a: () => (built.push("a"), { n: 1 }),
    b: () => (built.push("b"), { n: 2 }),
  });
  assert.deepEqual(Object.keys(r), ["a", "b"]);
  assert.ok(Object.hasOwn(r, "b"));
  assert.deepEqual(built, [], "nothing is built before a read");
  assert.equal(r.b.n, 2);
  assert.equal(r.b, r.b, "the same value at every read");
  assert.deepEqual(built, ["b"]);
  assert.deepEqual(Object.keys(r), ["a", "b"], "a read keeps the key where it was");
});

Deno.test("methods.ts: the schemas built lazily check as before", () => {
  assert.deepEqual(check("sync.heads", "params", { chat: "abc-1" }), { chat: "abc-1" });
  assert.throws(
    () => check("sync.heads", "params", { chat: "NOT valid" }),
    /sync\.heads params: chat/,
  );
  assert.equal(schemas["files.get"].binary, true);
});
