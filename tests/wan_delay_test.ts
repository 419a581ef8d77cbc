/**
 * The WAN door the wan bench puts in front of every node: a round trip
 * through it costs at least 2 × oneWayMs, and jitter never reorders bytes.
 */
import assert from "node:assert/strict";
import { startWanDelay } from "../testing/wan_delay.ts";

function echoServer(host: string): Deno.Listener {
  const listener = Deno.listen({ hostname: host, port: 0 });
  (async () => {
    for await (const c of listener) {
      (async () => {
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await c.read(buf).catch(() => null);
          if (n === null) break;
          let off = 0;
          while (off < n) off += await c.write(buf.subarray(off, n));
        }
        c.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  return listener;
}

async function readExactly(c: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await c.read(out.subarray(got));
    if (k === null) throw new Error(`closed after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

Deno.test("a round trip through a WAN door takes twice its delay, and bytes keep their order", async () => {
  const echo = echoServer("127.0.0.61");
  await using wan = await startWanDelay({ oneWayMs: 30, jitterMs: 10, seed: 3 });
  const door = await wan.open("127.0.0.62", 0);
  door.target("127.0.0.61", (echo.addr as Deno.NetAddr).port);
  const c = await Deno.connect({ hostname: "127.0.0.62", port: door.port });
  try {
    const t0 = performance.now();
    await c.write(new TextEncoder().encode("ping"));
    assert.equal(new TextDecoder().decode(await readExactly(c, 4)), "ping");
    assert.ok(performance.now() - t0 >= 2 * (30 - 10), "the round trip was not delayed");

    // 1 MiB in small writes, each chunk delayed by its own jitter: back in order.
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    const reading = readExactly(c, data.length);
    for (let off = 0; off < data.length;) off += await c.write(data.subarray(off, off + 4096));
    assert.deepEqual(await reading, data);
  } finally {
    c.close();
    echo.close();
  }
});
