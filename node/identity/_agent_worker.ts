/**
 * The worker behind an agent signer's `signSync` (agent_signer.ts): ssh2
 * signs the SSH key exchange synchronously, and a unix socket can only be
 * read asynchronously, so the calling thread hands the request to this
 * thread and blocks on a shared buffer until the answer is in it.
 *
 *   shared = int32 state (0 pending, 1 reply, 2 error) || int32 length || bytes
 *
 * The bytes are the agent's reply (without its length), or an error message
 * in UTF-8, cut to the buffer's size.
 */
/// <reference lib="deno.worker" />
import { agentRequest } from "./agent.ts";

/** One request to pass on to the agent. */
export interface AgentJob {
  readonly socket: string;
  readonly request: Uint8Array;
  readonly shared: SharedArrayBuffer;
}

/** The header of the shared buffer, in int32s. */
export const HEADER = 2;
export const PENDING = 0;
export const REPLY = 1;
export const FAILED = 2;

self.onmessage = async (event: MessageEvent<AgentJob>) => {
  const { socket, request, shared } = event.data;
  const head = new Int32Array(shared, 0, HEADER);
  const body = new Uint8Array(shared, HEADER * 4);
  let state = REPLY;
  let bytes: Uint8Array;
  try {
    bytes = await agentRequest(socket, request);
    if (bytes.length > body.length) throw new Error(`a reply of ${bytes.length} bytes`);
  } catch (err) {
    state = FAILED;
    bytes = new TextEncoder().encode((err as Error).message).subarray(0, body.length);
  }
  body.set(bytes);
  Atomics.store(head, 1, bytes.length);
  Atomics.store(head, 0, state);
  Atomics.notify(head, 0);
};

// Loading this module may need the parent thread, which a blocked signSync
// would hold: the parent waits for this before its first signSync.
self.postMessage("ready");
