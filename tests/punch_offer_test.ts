/**
 * A contact cannot aim the victim's QUIC packets (issue 17, item 8). Mallory,
 * one of the victim's contacts, speaks raw roj frames over SSH with her own
 * key and sends `punch.offer`s naming alice (another contact, not connected)
 * as the asker, at a UDP socket the test listens on. The victim takes an
 * offer only for an endpoint alice vouched for, for this coordinator and for
 * the victim: a missing vouch, one mallory signed herself, and alice's own
 * for another endpoint are refused before any packet leaves; alice's vouch for
 * that endpoint (made with her key, as her node would) is taken, and the
 * socket then hears the victim.
 */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode } from "../testing/nodes.ts";
import type { NodeEvent } from "../node/mod.ts";
import { encodeB64, type ParamsOf, RpcSession } from "../node/protocol/mod.ts";
import { createSigner } from "../node/identity/mod.ts";
import { signVouch } from "../node/punch/vouch.ts";
import { isRojError } from "../node/errors.ts";

Deno.test("punch offer: the victim sends QUIC only to an endpoint the asker vouched for", async () => {
  await using victim = await startTestNode("victim", { host: "127.0.17.30" });
  await using alice = await startTestNode("alice", { host: "127.0.17.31" });
  await using mallory = await startTestNode("mallory", { host: "127.0.17.32" });
  await befriend(victim, alice);
  await befriend(victim, mallory);
  await alice.stop(); // not connected: an offer naming her is worth a punch
  await mallory.stop(); // her raw session takes the place of her node's
  await victim.waitFor((e) => e.type === "session" && e.state === "down" && e.peer === "alice");

  // Where mallory aims: a UDP socket on the host her session comes from.
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const heard = socket.receive().then(() => true, () => false);
  let packets = false;
  heard.then((v) => (packets = v));

  const { client, pipe } = await rawRojPipe(mallory, victim);
  const rpc = new RpcSession(pipe, {
    hello: { features: ["sync1", "punch"], name: "mallory" },
  });
  try {
    await rpc.ready;
    await victim.waitFor((e) => e.type === "session" && e.state === "up" && e.peer === "mallory");
    const cert = new Uint8Array(32).fill(3);
    const endpoint = `127.0.0.1:${port}`;
    const offer = (vouch?: ParamsOf<"punch.offer">["vouch"]): ParamsOf<"punch.offer"> => ({
      peer: encodeB64(alice.node.publicKey),
      endpoint,
      cert: encodeB64(cert),
      nonce: encodeB64(new Uint8Array(16)),
      probeCert: encodeB64(new Uint8Array(32)),
      port,
      ...(vouch ? { vouch } : {}),
    });
    const expires = Date.now() + 60_000;
    const vouchBy = async (
      who: typeof alice,
      facts: { endpoint?: string; coordinator?: Uint8Array } = {},
    ) => ({
      sig: encodeB64(
        await signVouch(await createSigner(who.node.profile.keyPair), {
          coordinator: facts.coordinator ?? mallory.node.publicKey,
          target: victim.node.publicKey,
          endpoint: facts.endpoint ?? endpoint,
          cert,
          expires,
        }),
      ),
      expires,
    });
    const refusedAs = async (
      params: ParamsOf<"punch.offer">,
      what: string,
    ): Promise<NodeEvent> => {
      const from = victim.events.length;
      await assert.rejects(rpc.request("punch.offer", params), (e) => isRojError(e, "refused"));
      const ev = await victim.waitFor((e) => e.type === "punch-offer", 5000, from);
      assert.ok(ev.type === "punch-offer" && !ev.accepted && ev.code === "unvouched", what);
      assert.equal(packets, false, `${what}: no packet reached the socket`);
      return ev;
    };
    await refusedAs(offer(), "no vouch");
    // Mallory signs "alice is there" herself: it is not alice's signature.
    const forged = { ...(await vouchBy(mallory)) };
    await refusedAs(offer(forged), "mallory's own signature");
    // Alice's vouch for another endpoint, or through another coordinator, is no vouch for this one.
    await refusedAs(offer(await vouchBy(alice, { endpoint: "127.0.0.1:9" })), "another endpoint");
    await refusedAs(
      offer(await vouchBy(alice, { coordinator: victim.node.publicKey })),
      "another coordinator",
    );

    // Alice's own vouch for this endpoint: taken, and the victim's packets arrive.
    const from = victim.events.length;
    const taken = rpc.request("punch.offer", offer(await vouchBy(alice)), 10_000).catch(() => {});
    assert.equal(await heard, true, "the socket hears the victim");
    await taken;
    assert.ok(
      !victim.events.slice(from).some((e) =>
        e.type === "punch-offer" && !e.accepted && e.code === "unvouched"
      ),
    );
  } finally {
    rpc.close();
    client.close();
    socket.close();
  }
});
