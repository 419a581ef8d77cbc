/** Small byte helpers shared by the identity files. */

/**
 * `u` typed as backed by a plain ArrayBuffer, as WebCrypto's `BufferSource`
 * wants; copies only when it is backed by something else (SharedArrayBuffer).
 */
export function toBufferSource(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u.buffer instanceof ArrayBuffer ? u as Uint8Array<ArrayBuffer> : new Uint8Array(u);
}

/** The concatenation of `parts`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `s` quoted and shortened for a one-line error message. */
export function clip(s: string, max = 40): string {
  return JSON.stringify(s.length > max ? s.slice(0, max) + "…" : s);
}
