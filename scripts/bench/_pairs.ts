/**
 * What several benches set up the same way: a bare SSH connection with the roj
 * subsystem open on both ends (the baseline every node figure is compared
 * with), a byte counter on a pipe, and a wait for a node's next message.
 */
import { generateKeyPair } from "../../node/identity/mod.ts";
import {
  dialQuicSocket,
  dialSsh,
  listenSsh,
  makeQuicCert,
  openQuicService,
  type Pipe,
} from "../../node/transport/mod.ts";
import type { TestNode } from "../../testing/nodes.ts";

export interface SshPair {
  readonly client: Pipe;
  readonly server: Pipe;
  close(): Promise<void>;
}

export interface SshPairOptions {
  /** Where the server listens. @default "127.0.0.1" */
  readonly host?: string;
  /** "quic" runs the SSH connection inside a QUIC stream, as a punched path does. @default "tcp" */
  readonly carrier?: "tcp" | "quic";
  /** The client's own UDP address when the carrier is QUIC. @default "127.0.0.1" */
  readonly clientHost?: string;
}

/** A bare SSH connection between two fresh keys, with the roj subsystem open on both ends. */
export async function sshPair(options: SshPairOptions = {}): Promise<SshPair> {
  const host = options.host ?? "127.0.0.1";
  const [serverKey, clientKey] = await Promise.all([
    generateKeyPair("bench-server"),
    generateKeyPair("bench-client"),
  ]);
  let accepted!: (p: Pipe) => void;
  const serverPipe = new Promise<Pipe>((resolve) => (accepted = resolve));
  const server = await listenSsh({
    keyPair: serverKey,
    host,
    port: 0,
    authorize: () => true,
    onRoj: (_peer, pipe) => accepted(pipe),
  });
  const quic = options.carrier === "quic"
    ? {
      server: openQuicService({
        host,
        port: 0,
        cert: await makeQuicCert(),
        onSsh: (s) => server.inject(s),
      }),
      client: openQuicService({
        host: options.clientHost ?? "127.0.0.1",
        port: 0,
        cert: await makeQuicCert(),
        onSsh: (s) => s.destroy(),
      }),
    }
    : null;
  const closeListeners = async () => {
    quic?.client.close();
    quic?.server.close();
    await server.close();
  };
  try {
    const conn = await dialSsh({
      keyPair: clientKey,
      to: quic ? quic.server.address : server.address,
      expectedKey: serverKey.publicKey,
      expectedName: "bench server",
      ...(quic
        ? {
          sock: await dialQuicSocket(
            quic.client,
            quic.server.address,
            quic.server.certHash,
            3000,
          ),
        }
        : {}),
    });
    const client = await conn.openRoj();
    return {
      client,
      server: await serverPipe,
      close: async () => {
        client.close();
        conn.close();
        await closeListeners();
      },
    };
  } catch (err) {
    await closeListeners();
    throw err;
  }
}

/** Resolves `until(total)` once the pipe has received that many bytes in all. */
export function countBytes(pipe: Pipe): { until(total: number): Promise<void> } {
  let received = 0;
  let waiter: { total: number; resolve: () => void } | null = null;
  pipe.onData((chunk) => {
    received += chunk.length;
    if (waiter && received >= waiter.total) {
      const w = waiter;
      waiter = null;
      w.resolve();
    }
  });
  return {
    until: (total) =>
      received >= total
        ? Promise.resolve()
        : new Promise<void>((resolve) => (waiter = { total, resolve })),
  };
}

/** `next(text)` resolves when the node reports a message from someone else with this text. */
export function messageInbox(t: TestNode): { next(text: string): Promise<void>; stop(): void } {
  const waiting = new Map<string, () => void>();
  const stop = t.node.subscribe((e) => {
    if (e.type !== "message" || e.message.mine) return;
    const w = waiting.get(e.message.body);
    if (w) {
      waiting.delete(e.message.body);
      w();
    }
  });
  return {
    next: (text) => new Promise<void>((resolve) => waiting.set(text, resolve)),
    stop,
  };
}
