/**
 * A signer whose key stays in ssh-agent: every signature (SSHSIG entries and
 * records, the SSH host key, the SSH client key) is a request to the agent.
 *
 * When the agent is gone (killed, its socket removed, the key deleted from
 * it), a signature fails with `agent_unavailable` and the signer's state says
 * so; the first signature or {@linkcode AgentSigner.check} that works again
 * puts it back. `onChange` hears each change once, so a node can say it in
 * one line and turn it into an event.
 *
 * `signSync` exists because ssh2 signs the key exchange synchronously
 * (lib/protocol/kex.js calls `hostKey.sign()` and uses the result at once),
 * while a unix socket can only be read asynchronously. It hands the request to
 * a worker (`_agent_worker.ts`) and blocks this thread on a shared buffer
 * until the worker has the agent's answer: about a millisecond with a local
 * agent, at most `syncTimeoutMs`. A fresh buffer per call, so a late answer to
 * a request that timed out can never be read as the next one's.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
// Types and constants only from the worker's module (constants are inlined below).
import type { AgentJob } from "./_agent_worker.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual } from "../wire/mod.ts";
import { concatBytes } from "./_util.ts";
import {
  agentRequest,
  type AgentRequestOptions,
  listAgentKeys,
  parseSignResponse,
  signRequest,
} from "./agent.ts";
import { AGENT_AGREEMENT_LABEL } from "./labels.ts";
import type { Signer, SyncSigner } from "./signer.ts";

/** Whether the agent signs for us now, and if not, why. */
export interface AgentState {
  readonly available: boolean;
  /** Why not, when not available. */
  readonly reason?: string;
}

/** Options for {@linkcode createAgentSigner}. */
export interface AgentSignerOptions {
  /** The agent's socket ($SSH_AUTH_SOCK). */
  readonly socket: string;
  /** The 32-byte ed25519 key the agent must hold. */
  readonly publicKey: Uint8Array;
  /** Hears each change of state, once per change. @default none */
  readonly onChange?: (state: AgentState) => void;
  /** Times asynchronous requests. @default systemClock */
  readonly clock?: Clock;
  /** How long `signSync` blocks at most. @default 3000 */
  readonly syncTimeoutMs?: number;
  /** Why the agent cannot sign yet, for a signer made while it is absent. @default it can */
  readonly unavailable?: string;
}

/** A {@linkcode SyncSigner} backed by ssh-agent. */
export interface AgentSigner extends SyncSigner, Disposable {
  readonly socket: string;
  readonly state: AgentState;
  /** Asks the agent whether it holds the key now (no signature), updating the state. */
  check(): Promise<AgentState>;
  /** Stops the worker behind `signSync`; later `signSync` calls fail. */
  close(): void;
}

const WORKER_URL = new URL("./_agent_worker.ts", import.meta.url);
/** Shared buffer: int32 state, int32 length, then the reply (as in _agent_worker.ts). */
const HEADER_BYTES = 8;
const MAX_SYNC_REPLY = 4096;
const PENDING = 0;
const REPLY = 1;

/**
 * A signer for the ed25519 key `publicKey` held by the agent at `socket`,
 * once its worker is ready. Does not contact the agent: {@linkcode
 * chooseAgentKey} on {@linkcode listAgentKeys} checks that it holds the key.
 * @throws {RangeError} if `publicKey` is not 32 bytes.
 * @throws {RojError} internal if the worker behind `signSync` cannot start.
 */
export async function createAgentSigner(options: AgentSignerOptions): Promise<AgentSigner> {
  if (options.publicKey.length !== 32) {
    throw new RangeError(`ed25519 public key must be 32 bytes, got ${options.publicKey.length}`);
  }
  const { socket } = options;
  const publicKey = options.publicKey.slice();
  const clock = options.clock ?? systemClock;
  const req: AgentRequestOptions = { clock };
  const syncTimeoutMs = options.syncTimeoutMs ?? 3000;
  let state: AgentState = options.unavailable === undefined
    ? { available: true }
    : { available: false, reason: options.unavailable };
  let closed = false;
  const worker = await startWorker(clock);

  const set = (next: AgentState) => {
    if (next.available === state.available) return;
    state = next;
    options.onChange?.(state);
  };
  const refused = (cause: unknown): RojError => {
    const why = cause instanceof Error ? cause.message : String(cause);
    set({ available: false, reason: why });
    return new RojError(
      "agent_unavailable",
      `not signing: the key is in ssh-agent, which cannot sign now (${why}); start it and ssh-add the key`,
      { cause, retryable: true },
    );
  };

  const signer: AgentSigner = {
    publicKey,
    socket,
    get state() {
      return state;
    },
    async sign(data) {
      try {
        const sig = parseSignResponse(
          await agentRequest(socket, signRequest(publicKey, data), req),
        );
        set({ available: true });
        return sig;
      } catch (err) {
        throw refused(err);
      }
    },
    signSync(data) {
      if (closed) throw refused(new Error("the signer is closed"));
      const shared = new SharedArrayBuffer(HEADER_BYTES + MAX_SYNC_REPLY);
      const head = new Int32Array(shared, 0, 2);
      try {
        worker.postMessage(
          { socket, request: signRequest(publicKey, data), shared } satisfies AgentJob,
        );
      } catch (err) {
        throw refused(err);
      }
      if (Atomics.wait(head, 0, PENDING, syncTimeoutMs) === "timed-out") {
        throw refused(new Error("no answer in time"));
      }
      const body = new Uint8Array(shared, HEADER_BYTES, Atomics.load(head, 1)).slice();
      if (Atomics.load(head, 0) !== REPLY) throw refused(new Error(new TextDecoder().decode(body)));
      try {
        const sig = parseSignResponse(body);
        set({ available: true });
        return sig;
      } catch (err) {
        throw refused(err);
      }
    },
    async check() {
      try {
        const keys = await listAgentKeys(socket, req);
        if (keys.some((k) => k.publicKey && bytesEqual(k.publicKey, publicKey))) {
          set({ available: true });
        } else set({ available: false, reason: "the agent no longer holds the key" });
      } catch (err) {
        set({ available: false, reason: (err as Error).message });
      }
      return state;
    },
    close() {
      closed = true;
      worker.terminate();
    },
    [Symbol.dispose]() {
      signer.close();
    },
  };
  return signer;
}

/** Starts the worker and waits until it has loaded (it says "ready"). */
function startWorker(clock: Clock): Promise<Worker> {
  const worker = new Worker(WORKER_URL, { type: "module" });
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => fail(new Error("it did not start in time")), 30_000);
    const fail = (err: unknown) => {
      clock.clearTimeout(timer);
      worker.terminate();
      reject(
        new RojError("internal", `cannot start the ssh-agent worker: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    };
    worker.onerror = (e) => {
      e.preventDefault();
      fail(e.error ?? new Error(e.message));
    };
    worker.onmessage = () => {
      clock.clearTimeout(timer);
      worker.onmessage = null;
      worker.onerror = null;
      resolve(worker);
    };
  });
}

/**
 * The 32-byte seed of the X25519 key agreement of a node whose key is in the
 * agent (an agent signs, it does not agree keys): SHA-256 of the agent's
 * signature of AGENT_AGREEMENT_LABEL. Ed25519 signatures are deterministic
 * (RFC 8032 §5.1.6), so the same key gives the same seed in any agent, and
 * only its holder can make it. Signed twice, to refuse an agent whose
 * signatures vary rather than get a seed that changes.
 * @throws {RojError} agent_unavailable; key_unsupported when the signatures differ.
 */
export async function agreementSeed(signer: Signer): Promise<Uint8Array> {
  const label = new TextEncoder().encode(AGENT_AGREEMENT_LABEL);
  const [a, b] = [await signer.sign(label), await signer.sign(label)];
  if (!bytesEqual(a, b)) {
    throw new RojError(
      "key_unsupported",
      "the ssh-agent's ed25519 signatures of the same data differ (not RFC 8032), so no stable key agreement can come from it",
    );
  }
  return sha256(concatBytes(label, a));
}
