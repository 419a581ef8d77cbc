/**
 * SSH on npm:ssh2. The node's host key is its identity key: a client checks
 * that the server's host key is the contact it meant to reach, and a server
 * lets in only keys its owner accepted. This is the only file that knows ssh2.
 *
 * Under Deno, ssh2 leaves Nagle on, which costs ~40-90 ms per small round
 * trip; every socket here gets setNoDelay(true), so we own the TCP server and
 * hand accepted sockets to ssh2 with injectSocket().
 */
// @ts-types="./ssh2.d.ts"
import ssh2 from "ssh2";
import net from "node:net";
import { Duplex } from "node:stream";
import { type Clock, systemClock } from "../clock/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import {
  createSigner,
  createVerifier,
  fingerprint,
  type KeyPair,
  parsePublicKeyBlob,
  ROJ_SUBSYSTEM,
  type SyncSigner,
} from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { bindFallingBackToIPv4, unmapIPv4 } from "./addresses.ts";
import {
  AuthThrottle,
  type AuthThrottleOptions,
  MAX_AUTH_PER_CONNECTION,
} from "./auth_throttle.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
import type { Pipe } from "./pipe.ts";
import { channelPipe, coalesceWrites, nestable, type Ssh2Channel } from "./_ssh_streams.ts";
import { serveSftp, type SftpStream, type SftpView } from "./sftp_server.ts";
import { clientKeyOf, hostKeyOf } from "./_ssh_keys.ts";

/**
 * Ciphers in order of preference; the ctr ones for OpenSSH clients. Not
 * chacha20-poly1305@openssh.com: without its native binding ssh2 makes three
 * node:crypto chacha20 ciphers a packet and never calls their final(), and
 * Deno frees a cipher's native state only at final(), so every packet leaked
 * ~1 KiB on each side (a contact sending tiny frames grew a node by ~100 MiB a
 * minute; found by tests/hostile_fuzz_test.ts). Offering it at all would let
 * any client, OpenSSH's sftp first of all, pick it. aes-gcm calls final() per
 * packet, and the ctr ones keep one cipher per connection.
 */
export const CIPHERS: readonly string[] = [
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes256-ctr",
];
const ALGORITHMS = {
  cipher: [...CIPHERS],
  serverHostKey: ["ssh-ed25519"],
  kex: ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256"],
};
export { type Endpoint, formatEndpoint, parseEndpoint };
/** The SSH subsystem that carries the Roj protocol. */
export { ROJ_SUBSYSTEM };
/** Unauthenticated connections are dropped after this long. */
const AUTH_TIMEOUT_MS = 10_000;
/** At most this many SSH connections at once, authenticated or not. */
const MAX_CONNECTIONS = 512;

/** Who is on the other end of an inbound connection, once authenticated. */
export interface InboundPeer {
  readonly publicKey: Uint8Array;
  readonly username: string;
  readonly remote: Endpoint;
  /** What carries the SSH connection: a TCP socket, or a QUIC stream (see quic.ts). */
  readonly transport: "tcp" | "quic";
  /** Set when the connection came spliced through a relay: the relay's name. */
  readonly via?: string;
  /** Closes the whole SSH connection. */
  close(): void;
}

export interface ListenOptions {
  readonly keyPair: KeyPair;
  /**
   * Signs for the host key when the key is not keyPair's seed (it is in
   * ssh-agent). @default a signer of keyPair
   */
  readonly signer?: SyncSigner;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Decides, after the key's signature checked out, whether this key may log in with this user name. */
  authorize(username: string, publicKey: Uint8Array): boolean;
  /** An authenticated peer opened the roj subsystem. */
  onRoj(peer: InboundPeer, pipe: Pipe): void;
  /** The chats an authenticated peer may see over SFTP; undefined refuses SFTP. */
  sftpView?(peer: InboundPeer): SftpView | undefined;
  /**
   * An authenticated peer opened another subsystem (a relay channel, see
   * node/relay): true takes the channel as a byte stream, false refuses it.
   */
  onStream?(peer: InboundPeer, subsystem: string, stream: () => Duplex): boolean;
  log?(line: string): void;
  /** Times the authentication limit and dates the SFTP view's files. @default systemClock */
  readonly clock?: Clock;
  /** Authentication attempts per source address. @default AuthThrottle's defaults */
  readonly authThrottle?: AuthThrottleOptions;
  /** A source began to be throttled (once until it behaves). */
  onThrottled?(source: string): void;
}

export interface SshServer {
  readonly address: Endpoint;
  /**
   * Serves an SSH connection that arrived another way than the TCP listener
   * (a QUIC stream): same host key, same authentication. The socket needs
   * remoteAddress, remotePort and remoteFamily ("quic" marks the transport).
   */
  inject(socket: Duplex): void;
  /**
   * Serves one SSH connection over `stream` (a channel a relay spliced to a
   * peer, from SshClient.openStream) exactly as one accepted on the listener:
   * same host key, same authentication. `via` names the relay, for InboundPeer.via.
   */
  serveStream(stream: Duplex, via: string): void;
  close(): Promise<void>;
}

/** remoteFamily of streams handed to ssh2 by serveStream, so its connection callback can tell them. */
const RELAYED_FAMILY = "relay";

/**
 * Listens for SSH connections.
 * @throws {RojError} bad_input when the address cannot be listened on (in use, not local).
 */
export async function listenSsh(options: ListenOptions): Promise<SshServer> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const hostKey = hostKeyOf(options.signer ?? await createSigner(options.keyPair));
  // Synchronous and with the keys kept: every login of a contact checks one signature.
  const verifier = createVerifier();
  const throttle = new AuthThrottle(clock, options.authThrottle);
  const server = new ssh2.Server(
    { hostKeys: [{ key: hostKey }], algorithms: ALGORITHMS, ident: "Roj_1" },
    (client: Ssh2ServerClient, info: Ssh2ClientInfo) => {
      // A stream from serveStream: spliced through the relay named in its remoteAddress.
      const via = info.family === RELAYED_FAMILY ? info.ip : undefined;
      const remote = via !== undefined
        ? { host: "relay", port: 0 }
        // On a dual-stack "::" listener an IPv4 peer arrives as ::ffff:a.b.c.d.
        : { host: unmapIPv4(info.ip ?? "unknown"), port: info.port };
      const transport = info.family === "quic" ? "quic" as const : "tcp" as const;
      let peer: InboundPeer | undefined;
      const authTimer = clock.setTimeout(() => {
        log(`dropped ${formatEndpoint(remote)}: no authentication in time`);
        client.end();
      }, AUTH_TIMEOUT_MS);
      client.on("close", () => clock.clearTimeout(authTimer));
      client.on("error", () => {});
      const source = via !== undefined ? `via ${via}` : remote.host;
      let attempts = 0;
      client.on("authentication", (ctx: Ssh2AuthContext) => {
        if (++attempts > MAX_AUTH_PER_CONNECTION) {
          ctx.reject([]);
          return client.end();
        }
        const turn = throttle.take(source);
        if (!turn.ok) {
          if (turn.firstRefusal) {
            log(`throttling logins from ${source}: too many attempts`);
            options.onThrottled?.(source);
          }
          return ctx.reject([]);
        }
        if (ctx.method !== "publickey" || ctx.key?.algo !== "ssh-ed25519") {
          return ctx.reject(["publickey"]);
        }
        let publicKey: Uint8Array;
        try {
          publicKey = parsePublicKeyBlob(ctx.key.data);
        } catch {
          return ctx.reject(["publickey"]);
        }
        // A query ("would this key do?") gets the same answer for every key, so
        // it tells a stranger nothing about who our contacts are: the decision
        // waits for the signed attempt, which needs the private key.
        if (!ctx.signature) return ctx.accept();
        // ssh2 leaves checking the client's signature to us.
        if (!ctx.blob || !verifier.verifySync(publicKey, ctx.signature, ctx.blob)) {
          return ctx.reject(["publickey"]);
        }
        if (!options.authorize(ctx.username, publicKey)) {
          log(`refused ${formatEndpoint(remote)}: key ${fingerprint(publicKey)} is not accepted`);
          return ctx.reject(["publickey"]);
        }
        throttle.refund(source, attempts);
        peer = {
          publicKey,
          username: ctx.username,
          remote,
          transport,
          ...(via !== undefined ? { via } : {}),
          close: () => {
            client.end();
            // end() waits for the peer to close its side; a peer whose NAT
            // forgot us never does, and the channels spliced through this
            // connection would stay open for minutes. Drop the socket now.
            (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
          },
        };
        ctx.accept();
      });
      client.on("ready", () => {
        clock.clearTimeout(authTimer);
        client.on("session", (accept: () => Ssh2Session) => {
          const session = accept();
          session.on(
            "subsystem",
            (acceptSub: () => Ssh2Channel, reject: () => void, info: { name: string }) => {
              if (info.name === ROJ_SUBSYSTEM && peer) {
                options.onRoj(
                  peer,
                  channelPipe(
                    acceptSub(),
                    via !== undefined ? `via ${via}` : formatEndpoint(remote),
                  ),
                );
              } else if (
                !peer ||
                !options.onStream?.(peer, info.name, () => acceptSub() as unknown as Duplex)
              ) reject();
            },
          );
          session.on("sftp", (acceptSftp: () => SftpStream, reject: () => void) => {
            const view = peer && options.sftpView?.(peer);
            if (view) serveSftp(acceptSftp(), view, options.log, clock);
            else reject();
          });
          for (
            const other of [
              "pty",
              "shell",
              "exec",
              "env",
              "x11",
              "auth-agent",
              "signal",
              "window-change",
            ]
          ) {
            session.on(
              other,
              (_a: unknown, reject?: () => void) => typeof reject === "function" && reject(),
            );
          }
        });
        client.on("tcpip", (_a: unknown, reject: () => void) => reject());
        client.on("request", (_a: unknown, reject?: () => void) => reject?.());
      });
    },
  );
  let closed = false;
  const tcp = net.createServer((sock: net.Socket) => {
    // Under Deno a closed server may still hand over a connection it had
    // pending; a node that is shutting down must not take a session on it.
    if (closed) return sock.destroy();
    sock.setNoDelay(true);
    coalesceWrites(sock);
    server.injectSocket(sock);
  });
  tcp.maxConnections = MAX_CONNECTIONS;
  const bind = (host: string) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { code?: string }) =>
        reject(
          new RojError(
            "bad_input",
            `cannot listen on ${formatEndpoint({ host, port: options.port })}: ${
              err.code === "EADDRINUSE" ? "address in use" : err.message
            }`,
            { cause: err },
          ),
        );
      tcp.once("error", onError);
      tcp.listen(options.port, host, () => {
        tcp.off("error", onError);
        resolve();
      });
    });
  // "::" also takes IPv4 (Linux, bindv6only=0); a machine without IPv6 gets 0.0.0.0.
  await bindFallingBackToIPv4(options.host, bind, log, "SSH listens");
  tcp.on("error", (err: Error) => log(`ssh server error: ${err.message}`));
  const addr = tcp.address() as net.AddressInfo;
  const open = new Set<net.Socket>();
  tcp.on("connection", (s: net.Socket) => {
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  return {
    address: { host: addr.address, port: addr.port },
    inject: (socket) => (closed ? socket.destroy() : server.injectSocket(socket)),
    serveStream(stream, via) {
      if (closed) return stream.destroy();
      Object.assign(stream, { remoteAddress: via, remotePort: 0, remoteFamily: RELAYED_FAMILY });
      open.add(stream as unknown as net.Socket);
      stream.once("close", () => open.delete(stream as unknown as net.Socket));
      server.injectSocket(stream);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        tcp.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

export interface DialOptions {
  readonly keyPair: KeyPair;
  /** Signs our authentication when the key is not keyPair's seed. @default a signer of keyPair */
  readonly signer?: SyncSigner;
  readonly to: Endpoint;
  /** The key the server must present; anything else fails before any data is sent. */
  readonly expectedKey: Uint8Array | ((key: Uint8Array) => boolean);
  /** Who we think is there, for the error message. */
  readonly expectedName: string;
  /** Bind the source address (so peers see our listening address). */
  readonly localAddress?: string;
  /**
   * Run SSH over this connected stream (a QUIC stream, see quic.ts; a relay
   * channel from openStream) instead of dialling TCP; `to` then only names
   * the peer in messages.
   */
  readonly sock?: Duplex;
  readonly username?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Gives up a dial still under way (another address of the peer answered first). */
  readonly signal?: AbortSignal;
  /** Times `timeoutMs`. @default systemClock */
  readonly clock?: Clock;
}

export interface SshClient {
  readonly remote: Endpoint;
  /** The server's host key (its identity). */
  readonly remoteKey: Uint8Array;
  /** Opens the roj subsystem on this connection. */
  openRoj(): Promise<Pipe>;
  /**
   * Opens another subsystem (a relay channel) as a byte stream that can carry
   * an SSH session of its own (see nestable). @throws {RojError} refused
   */
  openStream(subsystem: string): Promise<Duplex>;
  onClose(listener: () => void): void;
  close(): void;
}

/**
 * Dials a peer and authenticates both ways.
 * @throws {RojError} unreachable (refused, timed out), refused (our key not accepted), protocol (wrong host key).
 */
export async function dialSsh(options: DialOptions): Promise<SshClient> {
  const ourKey = clientKeyOf(options.signer ?? await createSigner(options.keyPair));
  const where = formatEndpoint(options.to);
  const timeoutMs = options.timeoutMs ?? 5000;
  const clock = options.clock ?? systemClock;
  return await new Promise<SshClient>((resolve, reject) => {
    let wrongKey: Uint8Array | undefined;
    let hostKey: Uint8Array | undefined;
    let settled = false;
    let triedKey = false;
    const client = new ssh2.Client();
    const sock: Duplex = options.sock ?? net.connect({
      host: options.to.host,
      port: options.to.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    }).setNoDelay(true);
    if (sock instanceof net.Socket) coalesceWrites(sock);
    const timer = clock.setTimeout(
      () =>
        fail(new RojError("unreachable", `${where} did not answer in time`, { retryable: true })),
      timeoutMs,
    );
    const fail = (err: RojError) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      client.end();
      sock.destroy();
      reject(err);
    };
    const onAbort = () =>
      fail(new RojError("unreachable", `${where}: not needed any more`, { retryable: true }));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    sock.on("error", (err: Error & { code?: string }) => {
      fail(
        new RojError(
          "unreachable",
          `${where}: ${err.code === "ECONNREFUSED" ? "connection refused" : err.message}`,
          { retryable: true, cause: err },
        ),
      );
    });
    const closers: Array<() => void> = [];
    client.on("close", () => {
      fail(new RojError("unreachable", `${where} closed the connection`, { retryable: true }));
      for (const c of closers.splice(0)) c();
    });
    client.on("error", (err: Error & { level?: string }) => {
      if (wrongKey) {
        fail(
          new RojError(
            "protocol",
            `${where} answered with key ${
              fingerprint(wrongKey)
            } which is not ${options.expectedName}`,
          ),
        );
      } else if (err.level === "client-authentication" || err.level === "agent") {
        const failure = ourKey.failure();
        // We could not sign (the key is in an ssh-agent that is gone): not the peer's refusal.
        if (isRojError(failure)) fail(failure);
        else {fail(
            new RojError("refused", `${options.expectedName} at ${where} did not accept our key`),
          );}
      } else {
        fail(
          new RojError("unreachable", `${where}: ${err.message}`, { retryable: true, cause: err }),
        );
      }
    });
    client.on("ready", () => {
      if (settled) return client.end();
      settled = true;
      clock.clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        remote: options.to,
        remoteKey: hostKey!,
        openRoj: () =>
          new Promise<Pipe>((res, rej) => {
            client.subsys(ROJ_SUBSYSTEM, (err: Error | undefined, ch: Ssh2Channel) => {
              if (err) {
                rej(
                  new RojError(
                    "refused",
                    `${options.expectedName} refused the roj subsystem: ${err.message}`,
                  ),
                );
              } else res(channelPipe(ch, where));
            });
          }),
        openStream: (subsystem) =>
          new Promise<Duplex>((res, rej) => {
            client.subsys(subsystem, (err: Error | undefined, ch: Duplex) => {
              if (err) {
                rej(
                  new RojError(
                    "refused",
                    `${options.expectedName} refused ${subsystem}: ${err.message}`,
                  ),
                );
              } else res(nestable(ch));
            });
          }),
        onClose: (l) => closers.push(l),
        close: () => client.end(),
      });
    });
    const username = options.username ?? "roj";
    const start = () =>
      client.connect({
        sock,
        username,
        agent: ourKey.agent,
        // Straight to our key: ssh2's default tries "none" first, a round trip
        // every roj peer refuses (it asks for publickey only).
        authHandler: (
          _left: unknown,
          _partial: unknown,
          next: (auth: { type: "agent"; username: string; agent: unknown } | false) => void,
        ) =>
          next(
            triedKey ? false : (triedKey = true, { type: "agent", username, agent: ourKey.agent }),
          ),
        algorithms: ALGORITHMS,
        readyTimeout: timeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (blob: Uint8Array) => {
          let key: Uint8Array;
          try {
            key = parsePublicKeyBlob(blob);
          } catch {
            wrongKey = new Uint8Array(32);
            return false;
          }
          const ok = typeof options.expectedKey === "function"
            ? options.expectedKey(key)
            : bytesEqual(key, options.expectedKey);
          if (ok) {
            hostKey = key;
            return true;
          }
          wrongKey = key;
          return false;
        },
      });
    // ssh2 builds its protocol state (the key exchange offer and all) in connect(): only once
    // TCP is up, so that a refused dial (a thousand offline contacts, each retry) costs a socket.
    if (sock instanceof net.Socket && sock.connecting) {
      sock.once("connect", () => {
        if (!settled) start();
      });
    } else start();
  });
}

// Minimal shapes of the ssh2 objects we touch (ssh2 ships no types).
// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;
interface Ssh2Session {
  on(event: string, listener: Listener): void;
}
interface Ssh2AuthContext {
  method: string;
  username: string;
  key?: { algo: string; data: Uint8Array };
  signature?: Uint8Array;
  blob?: Uint8Array;
  accept(): void;
  reject(methods?: string[]): void;
}
interface Ssh2ServerClient {
  on(event: string, listener: Listener): void;
  end(): void;
}
interface Ssh2ClientInfo {
  /** Undefined when the socket closed before ssh2 read the client's header. */
  ip: string | undefined;
  family?: string;
  port: number;
}
