/**
 * A client of ssh-agent (draft-ietf-sshm-ssh-agent): list the keys it holds
 * and ask it to sign, over its unix socket ($SSH_AUTH_SOCK). One connection
 * per request: the agent is local, and a fresh connection notices at once
 * that the agent has gone.
 *
 *   message  = uint32 length || byte type || contents        (length ≤ MAX_AGENT_REPLY)
 *   11 REQUEST_IDENTITIES                                     → 12 IDENTITIES_ANSWER
 *   12 IDENTITIES_ANSWER  uint32 n, n × (string key blob, string comment)
 *   13 SIGN_REQUEST       string key blob, string data, uint32 flags (0) → 14 SIGN_RESPONSE
 *   14 SIGN_RESPONSE      string signature = string "ssh-ed25519" || string sig (64)
 *    5 FAILURE            the agent refused (no such key, a confirmation declined)
 *
 * The encoders and parsers are pure; {@linkcode agentRequest} is the socket.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import { clip } from "./_util.ts";
import { KEY_TYPE, publicKeyBlob } from "./keys.ts";

/** Largest agent reply read, in bytes: a keyring of a few hundred keys. */
export const MAX_AGENT_REPLY = 256 * 1024;
/** At most this many keys are read from one identities answer. */
export const MAX_AGENT_KEYS = 1024;
/** An agent request that has not been answered in this long fails. */
export const AGENT_TIMEOUT_MS = 5_000;
/** The key type of a FIDO (security key) ed25519 key, which Roj refuses. */
export const SK_ED25519 = "sk-ssh-ed25519@openssh.com";

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

/** One key an agent holds. */
export interface AgentKey {
  /** The SSH key type, e.g. "ssh-ed25519" or "sk-ssh-ed25519@openssh.com". */
  readonly type: string;
  /** The SSH public key blob. */
  readonly blob: Uint8Array;
  /** The 32 raw bytes, for plain ed25519 keys only. */
  readonly publicKey?: Uint8Array;
  readonly comment: string;
}

/** The framed request for the agent's key list. */
export function identitiesRequest(): Uint8Array {
  return frame(new WireWriter().u8(REQUEST_IDENTITIES).bytes());
}

/** The framed request for a signature of `data` by the ed25519 key `publicKey`. */
export function signRequest(publicKey: Uint8Array, data: Uint8Array): Uint8Array {
  return frame(
    new WireWriter().u8(SIGN_REQUEST).string(publicKeyBlob(publicKey)).string(data).u32(0).bytes(),
  );
}

function frame(body: Uint8Array): Uint8Array {
  return new WireWriter().string(body).bytes();
}

/**
 * The keys in an IDENTITIES_ANSWER (the reply without its length).
 * @throws {RojError} bad_input for a malformed or refused reply.
 */
export function parseIdentities(reply: Uint8Array): AgentKey[] {
  const r = new WireReader(reply, "ssh-agent key list");
  expectType(r.u8(), IDENTITIES_ANSWER, "list its keys");
  const n = r.u32();
  if (n > MAX_AGENT_KEYS) {
    throw new RojError("bad_input", `ssh-agent lists ${n} keys, more than ${MAX_AGENT_KEYS}`);
  }
  const keys: AgentKey[] = [];
  for (let i = 0; i < n; i++) {
    const blob = r.string().slice();
    const comment = new TextDecoder().decode(r.string());
    const kr = new WireReader(blob, "ssh-agent key");
    const type = new TextDecoder().decode(kr.string());
    let publicKey: Uint8Array | undefined;
    if (type === KEY_TYPE) {
      const pub = kr.string();
      if (pub.length === 32 && kr.remaining === 0) publicKey = pub.slice();
    }
    keys.push({ type, blob, comment, ...(publicKey ? { publicKey } : {}) });
  }
  r.end();
  return keys;
}

/**
 * The raw 64-byte Ed25519 signature in a SIGN_RESPONSE (the reply without its length).
 * @throws {RojError} bad_input for a malformed reply; agent_unavailable when the agent refused.
 */
export function parseSignResponse(reply: Uint8Array): Uint8Array {
  const r = new WireReader(reply, "ssh-agent signature");
  expectType(r.u8(), SIGN_RESPONSE, "sign");
  const sig = new WireReader(r.string(), "ssh-agent signature");
  r.end();
  const type = new TextDecoder().decode(sig.string());
  if (type !== KEY_TYPE) {
    throw new RojError("bad_input", `ssh-agent signed with ${clip(type)}, not ${KEY_TYPE}`);
  }
  const raw = sig.string();
  sig.end();
  if (raw.length !== 64) {
    throw new RojError("bad_input", `ssh-agent gave a ${raw.length}-byte ed25519 signature`);
  }
  return raw.slice();
}

function expectType(type: number, want: number, what: string): void {
  if (type === want) return;
  if (type === FAILURE) {
    throw new RojError(
      "agent_unavailable",
      `ssh-agent refused to ${what} (the key is no longer in it, or a confirmation was declined)`,
    );
  }
  throw new RojError(
    "bad_input",
    `ssh-agent answered message type ${type} to a request to ${what}`,
  );
}

/** Options for {@linkcode agentRequest}. */
export interface AgentRequestOptions {
  /** @default AGENT_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Sends one framed request to the agent at `socket` and returns its reply
 * without the length prefix.
 * @throws {RojError} agent_unavailable when nothing answers at `socket`, the
 * connection breaks, or no reply comes in time; bad_input for an oversized reply.
 */
export async function agentRequest(
  socket: string,
  request: Uint8Array,
  options: AgentRequestOptions = {},
): Promise<Uint8Array> {
  const clock = options.clock ?? systemClock;
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch (cause) {
    throw gone(socket, (cause as Error).message, cause);
  }
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    conn.close();
  }, options.timeoutMs ?? AGENT_TIMEOUT_MS);
  try {
    await writeAll(conn, request);
    const head = await readExactly(conn, 4);
    const len = new DataView(head.buffer).getUint32(0);
    if (len > MAX_AGENT_REPLY) {
      throw new RojError("bad_input", `ssh-agent reply of ${len} bytes is over ${MAX_AGENT_REPLY}`);
    }
    return await readExactly(conn, len);
  } catch (cause) {
    if (cause instanceof RojError && !timedOut) throw cause;
    throw gone(socket, timedOut ? "no answer in time" : (cause as Error).message, cause);
  } finally {
    clock.clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

/** Lists the keys held by the agent at `socket`. @throws {RojError} agent_unavailable, bad_input */
export async function listAgentKeys(
  socket: string,
  options: AgentRequestOptions = {},
): Promise<AgentKey[]> {
  return parseIdentities(await agentRequest(socket, identitiesRequest(), options));
}

/**
 * Asks the agent at `socket` for `publicKey`'s raw Ed25519 signature of `data`.
 * @throws {RojError} agent_unavailable (no agent, or it no longer holds the key), bad_input
 */
export async function agentSign(
  socket: string,
  publicKey: Uint8Array,
  data: Uint8Array,
  options: AgentRequestOptions = {},
): Promise<Uint8Array> {
  return parseSignResponse(await agentRequest(socket, signRequest(publicKey, data), options));
}

function gone(socket: string, why: string, cause: unknown): RojError {
  return new RojError("agent_unavailable", `no ssh-agent at ${socket}: ${why}`, {
    cause,
    retryable: true,
  });
}

async function writeAll(conn: Deno.UnixConn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

async function readExactly(conn: Deno.UnixConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n;) {
    const got = await conn.read(out.subarray(at));
    if (got === null) throw new Error("the agent closed the connection");
    at += got;
  }
  return out;
}

/**
 * Refuses key types Roj cannot sign with. A FIDO key (sk-ssh-ed25519) needs a
 * touch of the security key for every signature, and its signatures carry
 * flags and a counter over a different message, which neither Roj's SSHSIG
 * entries nor its SSH host key (whose signature is checked as plain
 * ssh-ed25519) can hold.
 * @throws {RojError} key_unsupported for an sk- key; bad_input for any other non-ed25519 type.
 */
export function checkKeyType(type: string): void {
  if (type === KEY_TYPE) return;
  if (type.startsWith("sk-")) {
    throw new RojError(
      "key_unsupported",
      `${clip(type)} is a FIDO security key, which Roj cannot use: it needs a touch for every ` +
        "signature (every message, every connection) and signs in a format SSHSIG entries and " +
        "SSH host keys do not take; ssh-add a plain ed25519 key (ssh-keygen -t ed25519)",
    );
  }
  throw new RojError("bad_input", `Roj uses ed25519 keys, not ${clip(type)}`);
}

/**
 * The key Roj should use among those an agent holds: the ed25519 key `want`
 * when given, else the agent's only ed25519 key.
 * @throws {RojError} not_found when the agent does not hold it (or holds no
 * ed25519 key); key_unsupported when it holds only FIDO keys; bad_input when
 * it holds several and none was chosen.
 */
export function chooseAgentKey(keys: readonly AgentKey[], want?: Uint8Array): AgentKey {
  const plain = keys.filter((k) => k.publicKey !== undefined);
  if (want !== undefined) {
    const found = plain.find((k) => bytesEqual(k.publicKey!, want));
    if (!found) throw new RojError("not_found", "the ssh-agent does not hold that key; ssh-add it");
    return found;
  }
  if (plain.length === 1) return plain[0]!;
  if (plain.length > 1) {
    throw new RojError(
      "bad_input",
      `the ssh-agent holds ${plain.length} ed25519 keys; choose one with --key FILE (its .pub will do)`,
    );
  }
  const sk = keys.find((k) => k.type.startsWith("sk-"));
  if (sk) checkKeyType(sk.type);
  throw new RojError("not_found", "the ssh-agent holds no ed25519 key; ssh-add one");
}
