/**
 * SSH inside a QUIC stream over loopback UDP: the same host key check and
 * authentication as over TCP, and a pinned certificate.
 */
import assert from "node:assert/strict";
import { generateKeyPair } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { isRojError } from "../errors.ts";
import {
  dialQuicSocket,
  dialSsh,
  type InboundPeer,
  listenSsh,
  makeQuicCert,
  openQuicService,
  type Pipe,
} from "./mod.ts";

async function pair() {
  const server = await generateKeyPair("server");
  const client = await generateKeyPair("client");
  const inbound: Array<{ peer: InboundPeer; pipe: Pipe }> = [];
  const ssh = await listenSsh({
    keyPair: server,
    host: "127.0.0.1",
    port: 0,
    authorize: (_u, key) => bytesEqual(key, client.publicKey),
    onRoj: (peer, pipe) => {
      inbound.push({ peer, pipe });
      pipe.onData((chunk) => pipe.send(chunk)); // echo
    },
  });
  const serverQuic = openQuicService({
    host: "127.0.0.1",
    port: 0,
    cert: await makeQuicCert(),
    onSsh: (sock) => ssh.inject(sock),
  });
  const clientQuic = openQuicService({
    host: "127.0.0.1",
    port: 0,
    cert: await makeQuicCert(),
    onSsh: (sock) => sock.destroy(),
  });
  return {
    server,
    client,
    inbound,
    serverQuic,
    clientQuic,
    [Symbol.asyncDispose]: async () => {
      clientQuic.close();
      serverQuic.close();
      await ssh.close();
    },
  };
}

Deno.test("quic: an SSH session runs inside a QUIC stream, both sides authenticated", async () => {
  await using p = await pair();
  const sock = await dialQuicSocket(
    p.clientQuic,
    p.serverQuic.address,
    p.serverQuic.certHash,
    3000,
  );
  const client = await dialSsh({
    keyPair: p.client,
    to: p.serverQuic.address,
    expectedKey: p.server.publicKey,
    expectedName: "server",
    sock,
  });
  const pipe = await client.openRoj();
  const got: Uint8Array[] = [];
  pipe.onData((c) => got.push(c));
  const big = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
  pipe.send(new TextEncoder().encode("hello"));
  pipe.send(big);
  const end = Date.now() + 5000;
  while (got.reduce((a, c) => a + c.length, 0) < 5 + big.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const all = new Uint8Array(got.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of got) all.set(c, (at += c.length) - c.length);
  assert.equal(new TextDecoder().decode(all.subarray(0, 5)), "hello");
  assert.ok(bytesEqual(all.subarray(5), big), "the echo came back intact");
  assert.equal(p.inbound.length, 1);
  assert.equal(p.inbound[0]!.peer.transport, "quic");
  assert.equal(p.inbound[0]!.peer.remote.port, p.clientQuic.address.port, "seen from our UDP port");
  assert.ok(bytesEqual(client.remoteKey, p.server.publicKey));
  const closed = new Promise<void>((r) => p.inbound[0]!.pipe.onClose(() => r()));
  client.close();
  await closed;
});

Deno.test("quic: a wrong host key or an unaccepted client key fails as over TCP", async () => {
  await using p = await pair();
  const other = await generateKeyPair("other");
  const wrongHost = await dialSsh({
    keyPair: p.client,
    to: p.serverQuic.address,
    expectedKey: other.publicKey,
    expectedName: "mallory",
    sock: await dialQuicSocket(p.clientQuic, p.serverQuic.address, p.serverQuic.certHash, 3000),
  }).then(() => null, (e) => e);
  assert.ok(isRojError(wrongHost, "protocol"), String(wrongHost));
  const stranger = await dialSsh({
    keyPair: other,
    to: p.serverQuic.address,
    expectedKey: p.server.publicKey,
    expectedName: "server",
    sock: await dialQuicSocket(p.clientQuic, p.serverQuic.address, p.serverQuic.certHash, 3000),
  }).then(() => null, (e) => e);
  assert.ok(isRojError(stranger, "refused"), String(stranger));
  assert.equal(p.inbound.length, 0);
});

Deno.test("quic: a certificate other than the pinned one is refused", async () => {
  await using p = await pair();
  const err = await dialQuicSocket(p.clientQuic, p.serverQuic.address, new Uint8Array(32), 3000)
    .then(() => null, (e) => e);
  assert.ok(isRojError(err, "unreachable"), String(err));
  assert.match((err as Error).message, /certificate/);
});
