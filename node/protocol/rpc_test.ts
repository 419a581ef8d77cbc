import assert from "node:assert/strict";
import { delay, FakeClock } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { RpcSession } from "./rpc.ts";

function pair(clock = new FakeClock()) {
  const [pa, pb] = memoryPipePair();
  const a = new RpcSession(pa, {
    hello: { features: ["sync1"], name: "a" },
    requestTimeoutMs: 200,
    clock,
  });
  const b = new RpcSession(pb, {
    hello: { features: ["sync1"], name: "b" },
    requestTimeoutMs: 200,
    clock,
  });
  return { a, b, close: () => (a.close(), b.close()) };
}

Deno.test("hello both ways, then requests and answers in both directions", async () => {
  const { a, b, close } = pair();
  assert.equal((await a.ready).name, "b");
  assert.equal((await b.ready).name, "a");
  b.handle("echo", (p) => Promise.resolve({ got: p }));
  a.handle("add", (p) => Promise.resolve((p as number[])[0]! + (p as number[])[1]!));
  assert.deepEqual(await a.request("echo", { x: 1 }), { got: { x: 1 } });
  assert.equal(await b.request("add", [2, 3]), 5);
  close();
});

Deno.test("refusals carry the code; unknown methods and timeouts are errors", async () => {
  const clock = new FakeClock();
  const { a, b, close } = pair(clock);
  await a.ready;
  b.handle("fail", () => Promise.reject(new RojError("not_found", "nothing here")));
  let answered = 0;
  b.handle("slow", () => delay(clock, 400).then(() => answered++));
  await assert.rejects(
    () => a.request("fail", {}),
    (e) => isRojError(e, "not_found") && e.message === "nothing here",
  );
  await assert.rejects(() => a.request("nope", {}), (e) => isRojError(e, "unknown_method"));
  const slow = a.request("slow", {});
  const timedOut = assert.rejects(
    slow,
    (e) => isRojError(e, "timeout") && e.message === "slow got no answer in 200 ms",
  );
  await clock.advance(200);
  await timedOut;
  // The answer that comes after the timeout is dropped, and the session goes on.
  await clock.advance(200);
  assert.equal(answered, 1);
  b.handle("echo", (p) => Promise.resolve(p));
  assert.equal(await a.request("echo", 7), 7);
  assert.equal(clock.pending, 0, "no timer left behind");
  close();
});

Deno.test("a peer that sends no hello is dropped after helloTimeoutMs on the clock", async () => {
  const clock = new FakeClock();
  const [pa] = memoryPipePair();
  const a = new RpcSession(pa, { hello: { features: [], name: "a" }, helloTimeoutMs: 5000, clock });
  let closedWith: string | undefined;
  a.onClose((r) => closedWith = r);
  const ready = assert.rejects(a.ready, (e) => isRojError(e, "unreachable"));
  await clock.advance(4999);
  assert.equal(a.closed, false);
  await clock.advance(1);
  await ready;
  assert.ok(a.closed);
  assert.equal(closedWith, "no hello in time");
  assert.equal(clock.pending, 0);
});

Deno.test("a bad frame closes the session and fails pending requests", async () => {
  const [pa, pb] = memoryPipePair();
  const a = new RpcSession(pa, { hello: { features: [], name: "a" } });
  let closedWith: string | undefined;
  a.onClose((r) => closedWith = r);
  pb.send(new Uint8Array([0, 0, 0, 3, 0x7b, 0x7d, 0x7d]));
  await assert.rejects(() => a.ready);
  assert.ok(a.closed);
  assert.match(closedWith ?? "", /bad frame/);
});
