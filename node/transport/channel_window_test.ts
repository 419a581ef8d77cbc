/**
 * The wider channel window (_ssh_streams.ts widen) on a relay channel: a side
 * nobody reads still stops its peer, at CHANNEL_WINDOW (more than ssh2's own
 * 2 MiB, less than what was sent), and reading it lets the rest through; and
 * what the carrying stream (nestable) is given in one run arrives whole and
 * in order.
 */
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { generateKeyPair } from "../identity/mod.ts";
import { until } from "../../testing/nodes.ts";
import { CHANNEL_WINDOW } from "./_ssh_streams.ts";
import { dialSsh, listenSsh } from "./mod.ts";

const MiB = 1024 * 1024;

async function streamPair() {
  const [serverKey, clientKey] = await Promise.all([
    generateKeyPair("window-server"),
    generateKeyPair("window-client"),
  ]);
  let accepted!: (d: Duplex) => void;
  const serverSide = new Promise<Duplex>((resolve) => (accepted = resolve));
  const server = await listenSsh({
    keyPair: serverKey,
    host: "127.61.0.1",
    port: 0,
    authorize: () => true,
    onRoj: (_peer, pipe) => pipe.close(),
    onStream: (_peer, _name, accept) => (accepted(accept()), true),
  });
  const conn = await dialSsh({
    keyPair: clientKey,
    to: server.address,
    expectedKey: serverKey.publicKey,
    expectedName: "window server",
  });
  const client = await conn.openStream(`roj-relay-${"ab".repeat(16)}`);
  return {
    client,
    server: await serverSide,
    [Symbol.asyncDispose]: async () => {
      client.destroy();
      conn.close();
      await server.close();
    },
  };
}

Deno.test("a relay channel nobody reads holds its peer at CHANNEL_WINDOW; reading lets the rest through", async () => {
  await using pair = await streamPair();
  const total = CHANNEL_WINDOW + 4 * MiB;
  const block = new Uint8Array(256 * 1024);
  for (let sent = 0; sent < total; sent += block.length) {
    block.fill(sent / block.length);
    pair.client.write(block.slice());
  }
  // Unread, the server's side fills to the window and no further.
  await until(() => pair.server.readableLength === CHANNEL_WINDOW, 20_000, "a full window");
  assert.ok(CHANNEL_WINDOW > 2 * MiB, "wider than ssh2's own window");
  let received = 0;
  let inOrder = true;
  pair.server.on("data", (chunk: Uint8Array) => {
    for (let i = 0; i < chunk.length; i += 4096) {
      if (chunk[i] !== Math.floor((received + i) / block.length) % 256) inOrder = false;
    }
    received += chunk.length;
  });
  await until(() => received === total, 20_000, "the rest once read");
  assert.ok(inOrder, "every byte in order");
});
