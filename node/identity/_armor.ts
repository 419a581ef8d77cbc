/**
 * The text armour OpenSSH puts around binary blobs (private keys, SSHSIG):
 * a BEGIN line, base64 in 70-column lines, an END line, each ending in "\n".
 * This mirrors `sshbuf_dtob64(…, wrap=1)` so our output is byte-identical.
 */
import { base64 } from "@scure/base";

const LINE = 70;

/** Wraps `bytes` as `-----BEGIN <label>-----` … `-----END <label>-----\n`. */
export function armor(label: string, bytes: Uint8Array): string {
  const b64 = base64.encode(bytes);
  let body = "";
  for (let i = 0; i < b64.length; i += LINE) body += b64.slice(i, i + LINE) + "\n";
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/**
 * The bytes inside the first `label` block of `text`, or `null` when there is
 * no such block or its body is not valid base64. Whitespace (CRLF too) is ignored.
 */
export function dearmor(label: string, text: string): Uint8Array | null {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const start = text.indexOf(begin);
  if (start < 0) return null;
  const stop = text.indexOf(end, start + begin.length);
  if (stop < 0) return null;
  const body = text.slice(start + begin.length, stop).replace(/\s+/g, "");
  try {
    return base64.decode(body);
  } catch {
    return null;
  }
}
