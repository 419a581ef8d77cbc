import assert from "node:assert/strict";
import { isRojError, RojError } from "../errors.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { RpcSession } from "./rpc.ts";

function pair() {
  const [pa, pb] = memoryPipePair();
  const a = new RpcSession(pa, {
    hello: { features: ["sync1"], name: "a" },
    requestTimeoutMs: 200,
  });
  const b = new RpcSession(pb, {
    hello: { features: ["sync1"], name: "b" },
    requestTimeoutMs: 200,
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
  const { a, b, close } = pair();
  await a.ready;
  b.handle("fail", () => Promise.reject(new RojError("not_found", "nothing here")));
  b.handle("slow", () => new Promise((r) => setTimeout(r, 400)));
  await assert.rejects(
    () => a.request("fail", {}),
    (e) => isRojError(e, "not_found") && e.message === "nothing here",
  );
  await assert.rejects(() => a.request("nope", {}), (e) => isRojError(e, "unknown_method"));
  await assert.rejects(() => a.request("slow", {}), (e) => isRojError(e, "timeout"));
  await new Promise((r) => setTimeout(r, 250));
  close();
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
