/** What only the memory network does: delays and dropped hosts on a fake clock. */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { isRojError } from "../errors.ts";
import { generateKeyPair } from "../identity/mod.ts";
import { MemoryNetwork } from "./memory.ts";
import type { Pipe } from "./pipe.ts";

const server = await generateKeyPair("server");
const client = await generateKeyPair("client");

Deno.test("memory network: a link's delay holds dials and every chunk back on the fake clock", async () => {
  const clock = new FakeClock({ start: 0 });
  const net = new MemoryNetwork({ clock, delayMs: 10 });
  net.setDelay("10.0.0.1", "10.0.0.2", 25);
  const box: { inbound?: Pipe; dialled?: Pipe } = {};
  const l = await net.listen({
    keyPair: server,
    address: "10.0.0.2:7022",
    authorize: () => true,
    onPipe: (i) => (box.inbound = i.pipe),
  });
  net.dial({
    keyPair: client,
    address: l.address,
    expectedKey: server.publicKey,
    localAddress: "10.0.0.1",
  }).then((o) => (box.dialled = o.pipe));
  await clock.advance(99);
  assert.equal(box.dialled, undefined, "two round trips of 25 ms to connect");
  await clock.advance(1);
  const { dialled, inbound } = box as { inbound?: Pipe; dialled?: Pipe };
  assert.ok(dialled && inbound);
  const got: string[] = [];
  inbound.onData((c) => got.push(new TextDecoder().decode(c)));
  dialled.send(new TextEncoder().encode("x"));
  await clock.advance(24);
  assert.deepEqual(got, []);
  await clock.advance(1);
  assert.deepEqual(got, ["x"]);
  // Chunks due at the same moment share one timer of the clock, and keep their order.
  for (const c of ["a", "b", "c"]) box.inbound!.send(new TextEncoder().encode(c));
  for (const c of ["d", "e"]) dialled.send(new TextEncoder().encode(c));
  assert.equal(clock.pending, 1);
  const back: string[] = [];
  dialled.onData((c) => back.push(new TextDecoder().decode(c)));
  await clock.advance(25);
  assert.deepEqual([got, back], [["x", "d", "e"], ["a", "b", "c"]]);
  assert.deepEqual(net.stats, { dials: 1, connected: 1, failed: 0 });
  dialled.close();
  await clock.runUntilIdle();
  await l.close();
});

Deno.test("memory network: a dropped host times out on the clock, and an aborted dial stops at once", async () => {
  const clock = new FakeClock({ start: 0 });
  const net = new MemoryNetwork({ clock });
  net.drop("10.0.0.3");
  const spec = { keyPair: client, address: "10.0.0.3:7022", expectedKey: server.publicKey };
  const failed: { error?: unknown } = {};
  net.dial({ ...spec, timeoutMs: 3000 }).catch((e) => (failed.error = e));
  await clock.advance(2999);
  assert.equal(failed.error, undefined);
  await clock.advance(1);
  const e = failed.error as unknown;
  assert.ok(isRojError(e, "unreachable") && /in time/.test(e.message));

  const ac = new AbortController();
  const aborted = net.dial({ ...spec, signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted, (e) => isRojError(e, "unreachable"));
  assert.equal(clock.pending, 0);
  assert.equal(net.stats.failed, 2);
});
