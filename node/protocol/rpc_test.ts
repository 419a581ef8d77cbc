import assert from "node:assert/strict";
import { delay, FakeClock } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import { memoryPipePair, type Pipe } from "../transport/mod.ts";
import { encodeFrame, FrameDecoder } from "./codec.ts";
import type { Frame } from "./messages.ts";
import type { ResultOf } from "./methods.ts";
import { MAX_UNADMITTED_REQUESTS, RpcSession } from "./rpc.ts";

const TAG = "A".repeat(22) + "=="; // the shape of an address tag (16 bytes)
const KEY = "A".repeat(43) + "=";

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

/** An RpcSession facing a peer written by hand: frames in and out, no checks on its side. */
function rawPeer() {
  const [pa, pb] = memoryPipePair();
  const a = new RpcSession(pa, { hello: { features: [], name: "a" } });
  const decoder = new FrameDecoder();
  const seen: Frame[] = [];
  const waiting: Array<() => void> = [];
  pb.onData((chunk) => {
    seen.push(...decoder.push(chunk));
    for (const w of waiting.splice(0)) w();
  });
  const send = (f: Frame) => pb.send(encodeFrame(f));
  /** The next frame from `a` of kind `t`. */
  const next = async (t: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const i = seen.findIndex((f) => f.t === t);
      if (i >= 0) return seen.splice(i, 1)[0] as unknown as Record<string, unknown>;
      await new Promise<void>((r) => waiting.push(r));
    }
  };
  send({ t: "hello", v: 1, features: [], name: "raw" });
  return { a, pipe: pb as Pipe, send, next };
}

Deno.test("hello both ways, then requests and answers in both directions", async () => {
  const { a, b, close } = pair();
  assert.equal((await a.ready).name, "b");
  assert.equal((await b.ready).name, "a");
  b.handle("addr.get", (p) => ({ items: p.tags.map((t) => ({ t, b: "YmxvYg==" })) }));
  a.handle("sync.heads", (p) => Promise.resolve({ heads: [{ a: KEY, s: p.chat.length }] }));
  const got = await a.request("addr.get", { tags: [TAG] });
  // Typed from methods.ts: this line stops compiling if the result type is lost.
  const first: string = got.items[0]!.t;
  assert.equal(first, TAG);
  assert.deepEqual(await b.request("sync.heads", { chat: "d-abc" }), { heads: [{ a: KEY, s: 5 }] });
  close();
});

Deno.test("refusals carry the code; unserved methods and timeouts are errors", async () => {
  const clock = new FakeClock();
  const { a, b, close } = pair(clock);
  await a.ready;
  b.handle("mbox.has", () => Promise.reject(new RojError("not_found", "nothing here")));
  let answered = 0;
  b.handle("addr.notify", () => delay(clock, 400).then(() => (answered++, {})));
  await assert.rejects(
    () => a.request("mbox.has", { tag: "0".repeat(32), ids: ["1".repeat(32)] }),
    (e) => isRojError(e, "not_found") && e.message === "nothing here",
  );
  await assert.rejects(
    () => a.request("mbox.get", { tag: "0".repeat(32), after: 0 }),
    (e) => isRojError(e, "unknown_method"),
  );
  const slow = a.request("addr.notify", { tags: [TAG] });
  const timedOut = assert.rejects(
    slow,
    (e) => isRojError(e, "timeout") && e.message === "addr.notify got no answer in 200 ms",
  );
  await clock.advance(200);
  await timedOut;
  // The answer that comes after the timeout is dropped, and the session goes on.
  await clock.advance(200);
  assert.equal(answered, 1);
  b.handle("addr.mine", () => ({}));
  assert.deepEqual(await a.request("addr.mine", { record: "cmVjb3Jk" }), {});
  assert.equal(clock.pending, 0, "no timer left behind");
  close();
});

Deno.test("params that fail the method's schema are answered bad_input before the handler runs", async () => {
  const { a, b, close } = pair();
  await a.ready;
  let calls = 0;
  b.handle("addr.get", () => (calls++, { items: [] }));
  await assert.rejects(
    () => a.request("addr.get", { tags: [] }), // the schema wants at least one tag
    (e) => isRojError(e, "bad_input") && /^addr\.get params: tags/.test(e.message),
  );
  await assert.rejects(
    // @ts-expect-error: a wrong param shape does not compile
    () => a.request("addr.get", { tag: TAG }),
    (e) => isRojError(e, "bad_input"),
  );
  assert.equal(calls, 0);
  assert.deepEqual(await a.request("addr.get", { tags: [TAG] }), { items: [] });
  assert.equal(calls, 1);
  close();
});

Deno.test("a result that fails the method's schema is refused at the edge", async () => {
  const { a, b, close } = pair();
  await a.ready;
  // A peer whose handler lies about its result (only a cast lets it compile).
  b.handle("addr.get", () => ({ items: "none" }) as unknown as ResultOf<"addr.get">);
  await assert.rejects(
    () => a.request("addr.get", { tags: [TAG] }),
    (e) => isRojError(e, "bad_input") && /^addr\.get result: items/.test(e.message),
  );
  // The session stays up for the next request.
  b.handle("addr.get", () => ({ items: [] }));
  assert.deepEqual(await a.request("addr.get", { tags: [TAG] }), { items: [] });
  close();
});

Deno.test("a hand-written peer: its bad result is refused, its unknown method answered unknown_method", async () => {
  const { a, send, next } = rawPeer();
  await a.ready;
  const asked = a.request("relay.open", { to: KEY });
  const req = await next("req");
  assert.equal(req.m, "relay.open");
  assert.deepEqual(req.p, { to: KEY }, "the params go out as given");
  send({ t: "res", id: req.id as number, ok: true, r: { token: "not hex" } });
  await assert.rejects(asked, (e) => isRojError(e, "bad_input"));

  send({ t: "req", id: 1, m: "relay.nope", p: {} });
  const res = await next("res");
  assert.deepEqual(res, {
    t: "res",
    id: 1,
    ok: false,
    code: "unknown_method",
    msg: "unknown method relay.nope",
  });
  a.close();
});

Deno.test("a method missing from methods.ts does not compile, and is refused before sending", async () => {
  const { a, next } = rawPeer();
  await a.ready;
  await assert.rejects(
    // @ts-expect-error: not a method name
    () => a.request("addr.gett", { tags: [TAG] }),
    (e) => e instanceof TypeError,
  );
  // @ts-expect-error: not a method name
  assert.throws(() => a.handle("addr.gett", () => ({})), TypeError);
  // @ts-expect-error: a handler's result must be its method's result
  a.handle("addr.get", () => ({ stored: 1 }));
  // @ts-expect-error: a handler's params are its method's params
  a.handle("addr.put", (p) => ({ stored: p.tags.length }));
  // Nothing went out for the misnamed request: the next frame is this one.
  const ok = a.request("punch.probe", {});
  assert.equal((await next("req")).m, "punch.probe");
  a.close();
  await assert.rejects(ok, (e) => isRojError(e, "unreachable"));
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

/** Lets the handlers' promise chains run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A pipe whose peer takes nothing until `take()`: what the session sends waits, counted. */
function slowPipe() {
  let data: ((c: Uint8Array) => void) | undefined;
  let drain: (() => void) | undefined;
  let waiting = 0;
  const sent: Uint8Array[] = [];
  const state = { paused: false, closed: undefined as string | undefined };
  const pipe: Pipe = {
    remote: "slow",
    send: (b) => {
      sent.push(b);
      waiting += b.length;
    },
    onData: (l) => (data = l),
    onClose: () => {},
    close: (why) => (state.closed = why ?? "closed"),
    buffered: () => waiting,
    pause: () => (state.paused = true),
    resume: () => (state.paused = false),
    onDrain: (l) => (drain = l),
  };
  return {
    pipe,
    state,
    sent,
    from: (f: Frame) => data!(encodeFrame(f)),
    take: () => {
      waiting = 0;
      drain?.();
    },
  };
}

Deno.test("backpressure: over the soft cap the session stops reading and holds requests; past the hard cap it closes", async () => {
  const slow = slowPipe();
  const rpc = new RpcSession(slow.pipe, {
    hello: { features: [], name: "a" },
    softBufferBytes: 1500,
    hardBufferBytes: 5000,
  });
  let served = 0;
  rpc.handle("addr.get", () => {
    served++;
    return { items: [{ t: TAG, b: "B".repeat(900) }] };
  });
  slow.from({ t: "hello", v: 1, features: [], name: "b", sees: "x:1" } as Frame);
  await rpc.ready;
  for (let id = 1; id <= 4; id++) {
    slow.from({ t: "req", id, m: "addr.get", p: { tags: [TAG] } });
    await flush();
  }
  // The second answer took the backlog past 1,500 bytes: the rest wait, unread and unserved.
  assert.equal(served, 2);
  assert.equal(slow.state.paused, true);
  slow.take();
  await flush();
  assert.equal(slow.state.paused, true); // the held ones were served and filled it again
  assert.equal(served, 4);
  for (let id = 5; id <= 12; id++) slow.from({ t: "req", id, m: "addr.get", p: { tags: [TAG] } });
  assert.equal(served, 4); // held while paused
  slow.take();
  await flush();
  assert.ok(served >= 6);
  assert.equal(slow.state.closed, undefined);
  // Now answers that nobody takes: past 5,000 bytes the session is closed.
  const big = slowPipe();
  const r2 = new RpcSession(big.pipe, {
    hello: { features: [], name: "a" },
    hardBufferBytes: 5000,
  });
  r2.handle("addr.get", () => ({ items: [{ t: TAG, b: "B".repeat(1800) }] }));
  big.from({ t: "hello", v: 1, features: [], name: "b" } as Frame);
  await r2.ready;
  for (let id = 1; id <= 4; id++) big.from({ t: "req", id, m: "addr.get", p: { tags: [TAG] } });
  await flush();
  assert.ok(r2.closed);
  assert.ok(big.state.closed);
  rpc.close();
});

Deno.test("admission: requests that came with the hello wait, unserved, until admit(); too many close the session", async () => {
  const [pa, pb] = memoryPipePair();
  const rpc = new RpcSession(pa, { hello: { features: [], name: "a" } });
  rpc.hold();
  const served: number[] = [];
  rpc.handle("addr.get", () => {
    served.push(served.length + 1);
    return { items: [] };
  });
  const answers: Frame[] = [];
  const decoder = new FrameDecoder();
  pb.onData((c) => answers.push(...decoder.push(c).filter((f) => f.t === "res")));
  const hello = encodeFrame({ t: "hello", v: 1, features: [], name: "b" } as Frame);
  const reqs = [1, 2, 3].map((id) => encodeFrame({ t: "req", id, m: "addr.get", p: { tags: [] } }));
  pb.send(new Uint8Array([...hello, ...reqs.flatMap((r) => [...r])])); // one flight
  await rpc.ready;
  await flush();
  assert.deepEqual([served.length, answers.length], [0, 0], "nothing served before admit()");
  rpc.admit();
  await flush();
  assert.deepEqual(answers.map((f) => (f as { id: number }).id), [1, 2, 3], "then all, in order");
  rpc.close();

  // A peer that floods before it is admitted is closed at MAX_UNADMITTED_REQUESTS.
  const [qa, qb] = memoryPipePair();
  const held = new RpcSession(qa, { hello: { features: [], name: "a" } });
  held.hold();
  held.handle("addr.get", () => ({ items: [] }));
  qb.send(encodeFrame({ t: "hello", v: 1, features: [], name: "b" } as Frame));
  await held.ready;
  for (let id = 1; id <= MAX_UNADMITTED_REQUESTS; id++) {
    qb.send(encodeFrame({ t: "req", id, m: "addr.get", p: { tags: [] } }));
  }
  await flush();
  assert.equal(held.closed, false, "up to the cap they wait");
  qb.send(encodeFrame({ t: "req", id: 999, m: "addr.get", p: { tags: [] } }));
  await flush();
  assert.equal(held.closed, true);
});
