/**
 * A request sent in the same flight as the hello (issue 17, item 8): a
 * contact speaking raw roj frames over SSH with its own key sends its hello
 * and a `punch.offer` that names itself in one write. The victim serves it
 * only once the session is registered (its "up" event comes first), so the
 * offer finds the sender among the live sessions and is refused as
 * "connected already". Before the fix it was served by a session nobody
 * knew yet: it passed that check, and the victim probed and sent QUIC
 * wherever the offer said.
 */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode } from "../testing/nodes.ts";
import { encodeB64, encodeFrame, type Frame, FrameDecoder } from "../node/protocol/mod.ts";

Deno.test("hello flight: a request sent with the hello is served only once the session is registered", async () => {
  await using victim = await startTestNode("victim", { host: "127.0.17.20" });
  await using mallory = await startTestNode("mallory", { host: "127.0.17.21" });
  await befriend(victim, mallory);
  await mallory.stop(); // its redials would replace the raw session
  await victim.waitFor((e) => e.type === "session" && e.state === "down");

  const { client, pipe } = await rawRojPipe(mallory, victim);
  try {
    const decoder = new FrameDecoder();
    const answer = Promise.withResolvers<Record<string, unknown>>();
    pipe.onData((chunk) => {
      for (const f of decoder.push(chunk)) {
        if (f.t === "res") answer.resolve(f as unknown as Record<string, unknown>);
      }
    });
    const from = victim.events.length;
    const offer: Frame = {
      t: "req",
      id: 1,
      m: "punch.offer",
      p: {
        peer: encodeB64(mallory.node.publicKey),
        endpoint: "127.0.17.99:9",
        cert: encodeB64(new Uint8Array(32)),
        nonce: encodeB64(new Uint8Array(16)),
        probeCert: encodeB64(new Uint8Array(32)),
        port: 9,
      },
    };
    const hello = encodeFrame({ t: "hello", v: 1, features: ["sync1"], name: "mallory" } as Frame);
    const req = encodeFrame(offer);
    const flight = new Uint8Array(hello.length + req.length);
    flight.set(hello);
    flight.set(req, hello.length);
    pipe.send(flight); // one write: the hello and the request arrive together

    const res = await answer.promise;
    assert.equal(res.ok, false);
    assert.equal(res.code, "exists", `answered ${JSON.stringify(res)}`);
    const refused = await victim.waitFor(
      (e) => e.type === "punch-offer" && !e.accepted && e.code === "connected",
      10_000,
      from,
    );
    const up = victim.events.findIndex((e, i) =>
      i >= from && e.type === "session" && e.state === "up" && e.peer === "mallory"
    );
    assert.ok(up >= 0, "the session was registered");
    assert.ok(up < victim.events.indexOf(refused), "registered before the request was served");
    assert.ok(
      !victim.events.slice(from).some((e) => e.type === "punch-offer" && e.accepted),
      "no packet was aimed anywhere",
    );
    pipe.close();
  } finally {
    client.close();
  }
});
