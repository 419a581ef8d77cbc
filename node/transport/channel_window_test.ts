/**
 * The wider window of a roj channel (_ssh_streams.ts widen): a paused side
 * holds its peer back at exactly CHANNEL_WINDOW (more than ssh2's own 2 MiB,
 * less than was sent), what it holds unread counting against it; resumed, the
 * rest comes, whole and in order.
 */
import assert from "node:assert/strict";
import { generateKeyPair } from "../identity/mod.ts";
import { until } from "../../testing/nodes.ts";
import { CHANNEL_WINDOW } from "./_ssh_streams.ts";
import { dialSsh, listenSsh, type Pipe } from "./mod.ts";

const MiB = 1024 * 1024;

Deno.test("a paused roj channel holds its peer at CHANNEL_WINDOW; resumed, the rest comes in order", async () => {
  const [serverKey, clientKey] = await Promise.all([
    generateKeyPair("window-server"),
    generateKeyPair("window-client"),
  ]);
  let accepted!: (p: Pipe) => void;
  const serverSide = new Promise<Pipe>((resolve) => (accepted = resolve));
  const server = await listenSsh({
    keyPair: serverKey,
    host: "127.61.0.1",
    port: 0,
    authorize: () => true,
    onRoj: (_peer, pipe) => {
      pipe.pause!(); // before anything arrives
      accepted(pipe);
    },
  });
  const conn = await dialSsh({
    keyPair: clientKey,
    to: server.address,
    expectedKey: serverKey.publicKey,
    expectedName: "window server",
  });
  try {
    const client = await conn.openRoj();
    const paused = await serverSide;
    let received = 0;
    let inOrder = true;
    const block = 256 * 1024;
    paused.onData((chunk) => {
      for (let i = 0; i < chunk.length; i += 4096) {
        if (chunk[i] !== Math.floor((received + i) / block) % 256) inOrder = false;
      }
      received += chunk.length;
    });
    const total = CHANNEL_WINDOW + 4 * MiB;
    for (let sent = 0; sent < total; sent += block) {
      client.send(new Uint8Array(block).fill(sent / block));
    }
    // The window's worth went out; the rest waits at the sender.
    await until(() => client.buffered!() === total - CHANNEL_WINDOW, 20_000, "a full window");
    assert.ok(CHANNEL_WINDOW > 2 * MiB, "wider than ssh2's own window");
    assert.equal(received, 0, "nothing delivered while paused");
    paused.resume!();
    await until(() => received === total, 20_000, "the rest once resumed");
    assert.ok(inOrder, "every byte in order");
    client.close();
  } finally {
    conn.close();
    await server.close();
  }
});
