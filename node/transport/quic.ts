/**
 * QUIC (Deno.QuicEndpoint, `"unstable": ["net"]`) as a carrier for SSH.
 *
 * Each node owns one UDP endpoint on its listen port. It listens there with a
 * throw-away self-signed certificate and dials from the same endpoint, which
 * is what UDP hole punching needs: the NAT mapping a peer saw for a probe is
 * the one a punched connection then uses.
 *
 * TLS here authenticates nothing: a dialler pins the certificate's SHA-256
 * (learnt from the peer through an authenticated session), and SSH runs
 * inside a bidirectional stream with the same host key check and the same
 * authentication as over TCP. Two ALPN protocols share the endpoint:
 * `roj-ssh/1` (one SSH connection in the first bidirectional stream) and
 * `roj-probe/1` (punch/ asks where a node's packets come from).
 */
import { Duplex } from "node:stream";
import { type Clock, systemClock, withTimeout } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { type Endpoint, formatEndpoint } from "./ssh.ts";
import { bindFallingBackToIPv4, unmapEndpoint } from "./addresses.ts";
import { ALPN_PROBE, ALPN_SSH } from "../identity/mod.ts";

export { ALPN_PROBE, ALPN_SSH };
/** Certificates live this long (a node makes a new one at each start). */
const CERT_DAYS = 13;
/** QUIC keep-alives, well under common NAT UDP timeouts (30 s and up), keep punched paths open. */
export const QUIC_KEEPALIVE_MS = 10_000;
export const QUIC_IDLE_TIMEOUT_MS = 40_000;
/** Inbound QUIC connections at once; more are refused. */
const MAX_QUIC_CONNECTIONS = 256;
/** An inbound connection must open its stream within this long. */
const FIRST_STREAM_MS = 10_000;

/** A self-signed certificate and its key, in PEM; `hash` (SHA-256 of the DER) is what diallers pin. */
export interface QuicCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly hash: Uint8Array;
}

// Just enough DER for one self-signed Ed25519 certificate (RFC 5280, RFC 8410).
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
function der(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const size = parts.reduce((a, p) => a + p.length, 0);
  const head = [tag, ...derLength(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const seq = (...parts: Uint8Array[]) => der(0x30, ...parts);
const utcTime = (ms: number) =>
  der(
    0x17,
    new TextEncoder().encode(new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z"),
  );
function pem(bytes: Uint8Array, label: string): string {
  const b64 = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** A fresh Ed25519 key and a self-signed certificate for it, valid from an hour ago for 13 days. */
export async function makeQuicCert(now = systemClock.now()): Promise<QuicCert> {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const ed25519 = seq(new Uint8Array([0x06, 0x03, 0x2b, 0x65, 0x70]));
  const name = seq(
    der(
      0x31,
      seq(
        new Uint8Array([0x06, 0x03, 0x55, 0x04, 0x03]),
        der(0x0c, new TextEncoder().encode("roj")),
      ),
    ),
  );
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = serial[0]! & 0x7f | 0x01; // positive, no leading zero byte
  const tbs = seq(
    der(0xa0, der(0x02, new Uint8Array([2]))), // v3
    der(0x02, serial),
    ed25519,
    name,
    seq(utcTime(now - 3_600_000), utcTime(now + CERT_DAYS * 86_400_000)),
    name,
    spki,
  );
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", keys.privateKey, tbs));
  const cert = seq(tbs, ed25519, der(0x03, new Uint8Array([0]), sig));
  return {
    certPem: pem(cert, "CERTIFICATE"),
    keyPem: pem(
      new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)),
      "PRIVATE KEY",
    ),
    hash: new Uint8Array(await crypto.subtle.digest("SHA-256", cert)),
  };
}

/** What ssh2 reads from a socket besides the stream itself (see listenSsh's injectSocket). */
export interface SocketLike extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** "quic" marks a session carried by QUIC (ssh2 passes it on as info.family). */
  readonly remoteFamily: string;
  setNoDelay(noDelay?: boolean): this;
}

/**
 * A node-style Duplex over one QUIC bidirectional stream, for ssh2 (as the
 * client's `sock` or the server's injected socket). Destroying it closes the
 * whole QUIC connection when `owns` is set (one SSH session per connection).
 */
export function quicStreamSocket(
  conn: Deno.QuicConn,
  stream: Deno.QuicBidirectionalStream,
  remote: Endpoint,
  owns = true,
): SocketLike {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  let pumping = false;
  const socket = new Duplex({
    read() {
      if (pumping) return;
      pumping = true;
      (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) {
              socket.push(null);
              return;
            }
            // Stop when the consumer is full; read() is called again when it drains.
            if (!socket.push(value)) break;
          }
        } catch (err) {
          socket.destroy(err as Error);
        } finally {
          pumping = false;
        }
      })();
    },
    write(chunk: Uint8Array, _enc, callback) {
      writer.write(chunk).then(() => callback(), (err) => callback(err as Error));
    },
    final(callback) {
      writer.close().then(() => callback(), () => callback());
    },
    destroy(err, callback) {
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      if (owns) {
        try {
          conn.close({ closeCode: 0, reason: err ? "error" : "closed" });
        } catch { /* already closed */ }
      }
      callback(err);
    },
  }) as SocketLike;
  Object.assign(socket, {
    remoteAddress: remote.host,
    remotePort: remote.port,
    remoteFamily: "quic",
    setNoDelay() {
      return socket;
    },
  });
  conn.closed.then(() => socket.destroy(), () => socket.destroy());
  return socket;
}

export interface QuicServiceOptions {
  readonly host: string;
  /** The UDP port; the node uses its TCP listen port. 0 picks one. */
  readonly port: number;
  readonly cert: QuicCert;
  /** An SSH connection arrived over QUIC: hand it to the SSH server. */
  onSsh(socket: SocketLike): void;
  /** A probe connection arrived (punch/ answers it). */
  onProbe?(conn: Deno.QuicConn, stream: Deno.QuicBidirectionalStream, from: Endpoint): void;
  log?(line: string): void;
  /** Times the first-stream limit and connect's timeout. @default systemClock */
  readonly clock?: Clock;
}

export interface QuicService {
  /** The bound UDP address. */
  readonly address: Endpoint;
  readonly certHash: Uint8Array;
  /**
   * Opens a QUIC connection from this endpoint (the one peers and coordinators
   * see), pinning the peer's certificate hash.
   * @throws {RojError} unreachable when no handshake completes in time.
   */
  connect(
    to: Endpoint,
    certHash: Uint8Array,
    alpn: string,
    timeoutMs: number,
  ): Promise<Deno.QuicConn>;
  close(): void;
}

/**
 * Binds the node's UDP endpoint and serves QUIC on it.
 * @throws {RojError} bad_input when the address cannot be bound.
 */
export function openQuicService(options: QuicServiceOptions): QuicService {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  let endpoint: Deno.QuicEndpoint;
  try {
    endpoint = bindFallingBackToIPv4(
      options.host,
      (hostname) => new Deno.QuicEndpoint({ hostname, port: options.port }),
      log,
      "QUIC listens",
    );
  } catch (err) {
    throw new RojError(
      "bad_input",
      `cannot bind UDP ${formatEndpoint(options)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const listener = endpoint.listen({
    alpnProtocols: [ALPN_SSH, ALPN_PROBE],
    cert: options.cert.certPem,
    key: options.cert.keyPem,
    keepAliveInterval: QUIC_KEEPALIVE_MS,
    maxIdleTimeout: QUIC_IDLE_TIMEOUT_MS,
  });
  let closed = false;
  let open = 0;
  const accept = async (incoming: Deno.QuicIncoming) => {
    // Reading incoming.remoteAddr before accept() invalidates the incoming in Deno 2.9.6.
    if (closed) return incoming.ignore();
    if (open >= MAX_QUIC_CONNECTIONS) return incoming.refuse();
    let conn: Deno.QuicConn;
    try {
      // With transport options Deno accepts with its own copy of the server
      // config; without, quinn unwraps the endpoint's, which listener.stop()
      // clears: an accept racing a stop then panics the whole process (2.9.6).
      conn = await incoming.accept({
        keepAliveInterval: QUIC_KEEPALIVE_MS,
        maxIdleTimeout: QUIC_IDLE_TIMEOUT_MS,
      });
      await conn.handshake;
    } catch {
      return;
    }
    open++;
    conn.closed.finally(() => open--);
    // Unmapped: on a dual-stack "::" endpoint an IPv4 peer may show as ::ffff:a.b.c.d.
    const from = unmapEndpoint({ host: conn.remoteAddr.hostname, port: conn.remoteAddr.port });
    const timer = clock.setTimeout(
      () => conn.close({ closeCode: 1, reason: "no stream" }),
      FIRST_STREAM_MS,
    );
    try {
      const streams = conn.incomingBidirectionalStreams.getReader();
      const { value: stream } = await streams.read();
      streams.releaseLock();
      clock.clearTimeout(timer);
      if (!stream) return;
      if (conn.protocol === ALPN_SSH) options.onSsh(quicStreamSocket(conn, stream, from));
      else if (conn.protocol === ALPN_PROBE && options.onProbe) options.onProbe(conn, stream, from);
      else conn.close({ closeCode: 1, reason: "unknown protocol" });
    } catch {
      clock.clearTimeout(timer);
      try {
        conn.close({ closeCode: 1, reason: "failed" });
      } catch { /* closed */ }
    }
  };
  (async () => {
    while (!closed) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await listener.incoming();
      } catch (err) {
        if (!closed) log(`quic listener stopped: ${(err as Error).message}`);
        return;
      }
      accept(incoming).catch(() => {});
    }
  })();
  const addr = endpoint.addr;
  return {
    address: { host: addr.hostname, port: addr.port },
    certHash: options.cert.hash,
    async connect(to, certHash, alpn, timeoutMs) {
      const pending = Deno.connectQuic({
        hostname: to.host,
        port: to.port,
        serverName: "roj",
        alpnProtocols: [alpn],
        endpoint,
        keepAliveInterval: QUIC_KEEPALIVE_MS,
        maxIdleTimeout: QUIC_IDLE_TIMEOUT_MS,
        // Untyped in Deno 2.9.6, honoured: accept exactly this certificate.
        serverCertificateHashes: [{ algorithm: "sha-256", value: certHash }],
      } as Deno.ConnectQuicOptions<false>);
      const where = formatEndpoint(to);
      try {
        const conn = await withTimeout(clock, pending, timeoutMs, () => null);
        if (conn === null) {
          throw new RojError("unreachable", `no QUIC answer from ${where} in time`, {
            retryable: true,
          });
        }
        return conn;
      } catch (err) {
        // A late success must not leak a connection.
        pending.then((c) => c.close({ closeCode: 1, reason: "gave up" }), () => {});
        if (err instanceof RojError) throw err;
        throw new RojError("unreachable", `QUIC to ${where}: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      // Not listener.stop(): see accept(). Closing the endpoint ends the listener too.
      try {
        endpoint.close({ closeCode: 0, reason: "node stopping" });
      } catch { /* closed */ }
    },
  };
}

/**
 * Opens an SSH carrier to a peer: a QUIC connection from the service's
 * endpoint and its first bidirectional stream, as a socket for dialSsh.
 */
export async function dialQuicSocket(
  service: QuicService,
  to: Endpoint,
  certHash: Uint8Array,
  timeoutMs: number,
): Promise<SocketLike> {
  const conn = await service.connect(to, certHash, ALPN_SSH, timeoutMs);
  try {
    const stream = await conn.createBidirectionalStream();
    return quicStreamSocket(conn, stream, to);
  } catch (err) {
    conn.close({ closeCode: 1, reason: "no stream" });
    throw new RojError(
      "unreachable",
      `QUIC stream to ${formatEndpoint(to)}: ${(err as Error).message}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
}
