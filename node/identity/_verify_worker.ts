/**
 * The worker behind {@linkcode createVerifierPool}: checks batches of raw
 * Ed25519 signatures. A batch arrives packed in one transferred buffer, each
 * check as uint32 data length, 32-byte key, 64-byte signature, data; the
 * answer is one byte per check, 1 for valid.
 */
/// <reference lib="deno.worker" />
import { createVerifier } from "./signer.ts";

/** A batch to check. */
export interface VerifyJob {
  readonly id: number;
  readonly count: number;
  readonly packed: ArrayBuffer;
}

/** The id of the message a worker sends once, when it is ready for jobs (as in verifier_pool.ts). */
const READY = -1;

/** The answer to a {@linkcode VerifyJob}. */
export interface VerifyAnswer {
  readonly id: number;
  readonly ok: Uint8Array;
}

const verifier = createVerifier();

self.onmessage = (event: MessageEvent<VerifyJob>) => {
  const { id, count, packed } = event.data;
  const bytes = new Uint8Array(packed);
  const ok = new Uint8Array(count);
  let at = 0;
  for (let i = 0; i < count && at + 100 <= bytes.length; i++) {
    const len = (bytes[at]! << 24 | bytes[at + 1]! << 16 | bytes[at + 2]! << 8 | bytes[at + 3]!) >>>
      0;
    const pub = bytes.subarray(at + 4, at + 36);
    const sig = bytes.subarray(at + 36, at + 100);
    const data = bytes.subarray(at + 100, at + 100 + len);
    at += 100 + len;
    ok[i] = data.length === len && verifier.verifySync(pub, sig, data) ? 1 : 0;
  }
  self.postMessage({ id, ok } satisfies VerifyAnswer, [ok.buffer]);
};

self.postMessage({ id: READY, ok: new Uint8Array(0) } satisfies VerifyAnswer);
