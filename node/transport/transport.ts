/**
 * The one interface a node needs from a network: listen at an address with
 * its key, dial an address expecting a key, and get a Pipe to run the Roj
 * protocol on. Real SSH (ssh_transport.ts) and the in-memory network
 * (memory.ts) both implement it, and transport_contract_test.ts runs the same
 * suite against both, so a test that passes on memory means the same on SSH.
 *
 * Errors are the SSH dialler's (ssh.ts dialSsh): `unreachable` (nobody
 * listens, no answer in time, given up), `protocol` (the host key is not the
 * one expected), `refused` (the far end does not accept our key).
 */
import type { KeyPair } from "../identity/mod.ts";
import type { Pipe } from "./pipe.ts";
import { type Endpoint, parseEndpoint } from "./ssh.ts";

/** Who dialled a listener, once their key checked out and was accepted. */
export interface InboundPipe {
  readonly publicKey: Uint8Array;
  /** "host:port" the dial came from. */
  readonly remote: string;
  /** The Roj stream; closing it closes the connection. */
  readonly pipe: Pipe;
}

/** What to listen on, and who may come in. */
export interface ListenSpec {
  /** The host key, which is the node's identity. */
  readonly keyPair: KeyPair;
  /** "host:port"; port 0 picks a free one. */
  readonly address: string;
  /** Whether this key may open a session (checked after its signature). */
  authorize(publicKey: Uint8Array): boolean;
  onPipe(inbound: InboundPipe): void;
}

export interface TransportListener {
  /** The "host:port" listened on (with the port picked, for port 0). */
  readonly address: string;
  /** Stops listening and closes every connection it took. */
  close(): Promise<void>;
}

/** Whom to dial, and who must answer. */
export interface DialSpec {
  /** Our key, which the far end checks. */
  readonly keyPair: KeyPair;
  /** "host:port" or "[v6]:port". */
  readonly address: string;
  /** The host key the far end must present; anything else fails before any data. */
  readonly expectedKey: Uint8Array;
  /** Who we think is there, for error messages. @default the key's fingerprint */
  readonly expectedName?: string;
  /** The source address to dial from, so the far end sees our listening address. */
  readonly localAddress?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Gives up a dial still under way. */
  readonly signal?: AbortSignal;
}

export interface OutboundPipe {
  /** The far end's key (the one expected). */
  readonly remoteKey: Uint8Array;
  /** The Roj stream; closing it closes the connection. */
  readonly pipe: Pipe;
}

export interface Transport {
  /** @throws {RojError} bad_input when the address cannot be listened on */
  listen(spec: ListenSpec): Promise<TransportListener>;
  /** @throws {RojError} unreachable, protocol (wrong host key), refused (our key) */
  dial(spec: DialSpec): Promise<OutboundPipe>;
}

/**
 * A "host:port" to listen on, where port 0 means any free one.
 * @throws {RojError} bad_input
 */
export function parseListenAddress(address: string): Endpoint {
  const any = address.endsWith(":0");
  const e = parseEndpoint(any ? `${address.slice(0, -2)}:1` : address);
  return any ? { host: e.host, port: 0 } : e;
}
