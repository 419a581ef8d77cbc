/**
 * One contract, every Transport (in the manner of Hono's common.case.test.ts):
 * the in-memory network and real SSH over loopback must behave the same in
 * everything a node relies on, so that discovery and sync tested on memory
 * mean the same on SSH.
 */
import assert from "node:assert/strict";
import { settle } from "../clock/mod.ts";
import { isRojError } from "../errors.ts";
import { generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { MemoryNetwork } from "./memory.ts";
import { type Pipe } from "./pipe.ts";
import { parseEndpoint } from "./ssh.ts";
import { sshTransport } from "./ssh_transport.ts";
import type { InboundPipe, Transport, TransportListener } from "./transport.ts";

interface Implementation {
  readonly name: string;
  readonly transport: () => Transport;
  /** An address to listen on (port 0: any free one). */
  readonly listenAt: string;
  /** A source address for dials, other than the listener's host. */
  readonly dialFrom: string;
  /** An address nobody listens on. */
  readonly nobody: (t: Transport) => Promise<string>;
}

const implementations: Implementation[] = [
  {
    name: "memory",
    transport: () => new MemoryNetwork(),
    listenAt: "10.1.0.1:0",
    dialFrom: "10.1.0.2",
    nobody: () => Promise.resolve("10.1.0.9:7022"),
  },
  {
    name: "ssh",
    transport: () => sshTransport,
    listenAt: "127.0.0.1:0",
    dialFrom: "127.0.0.2",
    // A port that was just free: listen on it, then stop.
    nobody: async (t) => {
      const k = await generateKeyPair("nobody");
      const l = await t.listen({
        keyPair: k,
        address: "127.0.0.1:0",
        authorize: () => false,
        onPipe: () => {},
      });
      await l.close();
      return l.address;
    },
  },
];

const keys = {
  server: await generateKeyPair("server"),
  client: await generateKeyPair("client"),
  other: await generateKeyPair("other"),
};

/** Collects what a pipe receives, and when it closes. */
function recorder(pipe: Pipe) {
  const chunks: Uint8Array[] = [];
  let resolveClosed!: (reason: string | undefined) => void;
  const closed = new Promise<string | undefined>((r) => (resolveClosed = r));
  let closes = 0;
  let waiting: { bytes: number; resolve: () => void } | undefined;
  const received = () => chunks.reduce((n, c) => n + c.length, 0);
  pipe.onData((c) => {
    chunks.push(c.slice());
    if (waiting && received() >= waiting.bytes) waiting.resolve();
  });
  pipe.onClose((reason) => {
    closes++;
    resolveClosed(reason);
  });
  return {
    closed,
    get closes() {
      return closes;
    },
    bytes(): Uint8Array {
      const out = new Uint8Array(received());
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    /** Resolves once `n` bytes in all arrived. */
    until(n: number): Promise<void> {
      if (received() >= n) return Promise.resolve();
      return new Promise((resolve) => (waiting = { bytes: n, resolve }));
    },
  };
}

interface Connected extends AsyncDisposable {
  readonly listener: TransportListener;
  readonly inbound: InboundPipe;
  readonly ours: Pipe;
}

/** A listener with the server key that accepts the client key, and one dial to it. */
async function connect(impl: Implementation, t: Transport, client: KeyPair = keys.client) {
  let gotInbound!: (i: InboundPipe) => void;
  const inbound = new Promise<InboundPipe>((r) => (gotInbound = r));
  const listener = await t.listen({
    keyPair: keys.server,
    address: impl.listenAt,
    authorize: (k) => bytesEqual(k, keys.client.publicKey),
    onPipe: gotInbound,
  });
  try {
    const out = await t.dial({
      keyPair: client,
      address: listener.address,
      expectedKey: keys.server.publicKey,
      expectedName: "server",
      localAddress: impl.dialFrom,
    });
    const connected: Connected = {
      listener,
      inbound: await inbound,
      ours: out.pipe,
      [Symbol.asyncDispose]: async () => {
        out.pipe.close();
        await listener.close();
      },
    };
    return connected;
  } catch (err) {
    await listener.close();
    throw err;
  }
}

const text = (s: string) => new TextEncoder().encode(s);

for (const impl of implementations) {
  const test = (name: string, fn: (t: Transport) => Promise<void>) =>
    Deno.test(`transport contract (${impl.name}): ${name}`, () => fn(impl.transport()));

  test("bytes flow both ways, in order; the far key and addresses are reported", async (t) => {
    await using c = await connect(impl, t);
    assert.ok(bytesEqual(c.inbound.publicKey, keys.client.publicKey), "the listener sees our key");
    assert.equal(c.ours.remote, c.listener.address, "the dialler sees the address it dialled");
    assert.equal(
      parseEndpoint(c.inbound.remote).host,
      impl.dialFrom,
      "the listener sees our source",
    );
    const inbound = recorder(c.inbound.pipe);
    const ours = recorder(c.ours);
    const a = Array.from({ length: 200 }, (_, i) => `a${i};`);
    const b = Array.from({ length: 200 }, (_, i) => `b${i};`);
    for (let i = 0; i < 200; i++) {
      c.ours.send(text(a[i]!));
      c.inbound.pipe.send(text(b[i]!));
    }
    await Promise.all([
      inbound.until(text(a.join("")).length),
      ours.until(text(b.join("")).length),
    ]);
    assert.equal(new TextDecoder().decode(inbound.bytes()), a.join(""));
    assert.equal(new TextDecoder().decode(ours.bytes()), b.join(""));
  });

  test("a large write arrives whole", async (t) => {
    await using c = await connect(impl, t);
    const inbound = recorder(c.inbound.pipe);
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 255);
    c.ours.send(big);
    await inbound.until(big.length);
    assert.deepEqual(inbound.bytes(), big);
  });

  for (const closer of ["dialler", "listener"] as const) {
    test(`the ${closer} closes: both ends close once; the closer with its reason; what was sent first arrives`, async (t) => {
      await using c = await connect(impl, t);
      const [mine, far] = closer === "dialler"
        ? [c.ours, c.inbound.pipe]
        : [c.inbound.pipe, c.ours];
      const mineRec = recorder(mine);
      const farRec = recorder(far);
      mine.send(text("last words"));
      mine.close("done here");
      assert.equal(await mineRec.closed, "done here");
      assert.equal(await farRec.closed, undefined, "a close carries no reason to the far end");
      assert.equal(new TextDecoder().decode(farRec.bytes()), "last words");
      mine.send(text("ignored"));
      far.send(text("ignored"));
      mine.close("again");
      let late: string | undefined = "not called";
      far.onClose((r) => (late = r));
      await farRec.closed;
      await settle();
      assert.equal(late, undefined, "a listener set after the close is still called");
      assert.equal(mineRec.closes, 1);
    });
  }

  test("closing the listener closes the connections it took", async (t) => {
    await using c = await connect(impl, t);
    const ours = recorder(c.ours);
    await c.listener.close();
    await ours.closed;
  });

  test("the wrong host key is refused before any data (protocol)", async (t) => {
    let opened = 0;
    const l = await t.listen({
      keyPair: keys.other,
      address: impl.listenAt,
      authorize: () => true,
      onPipe: () => opened++,
    });
    try {
      await assert.rejects(
        () =>
          t.dial({
            keyPair: keys.client,
            address: l.address,
            expectedKey: keys.server.publicKey,
            expectedName: "server",
          }),
        (e) => isRojError(e, "protocol") && /which is not server/.test(e.message),
      );
      assert.equal(opened, 0);
    } finally {
      await l.close();
    }
  });

  test("a key the listener does not accept is refused (refused)", async (t) => {
    await assert.rejects(() => connect(impl, t, keys.other), (e) => isRojError(e, "refused"));
  });

  test("an address nobody listens on is unreachable", async (t) => {
    const address = await impl.nobody(t);
    await assert.rejects(
      () =>
        t.dial({
          keyPair: keys.client,
          address,
          expectedKey: keys.server.publicKey,
          expectedName: "server",
        }),
      (e) => isRojError(e, "unreachable") && e.retryable,
    );
  });

  test("an address in use cannot be listened on again (bad_input)", async (t) => {
    const l = await t.listen({
      keyPair: keys.server,
      address: impl.listenAt,
      authorize: () => true,
      onPipe: () => {},
    });
    try {
      await assert.rejects(
        () =>
          t.listen({
            keyPair: keys.server,
            address: l.address,
            authorize: () => true,
            onPipe: () => {},
          }),
        (e) => isRojError(e, "bad_input"),
      );
    } finally {
      await l.close();
    }
  });
}
