/**
 * The certificate a device shows in its hello (`cert`, base64; ssh2 cannot
 * authenticate with certificates, mscdex/ssh2#551), checked for the key that
 * logged in or answered as host: the person's device at `at`, or why not.
 * Revocation is the device book's job, not this.
 */
import { type Certificate, parseCertificate } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { base64 } from "@scure/base";
import { checkDeviceCertificate } from "./device_certificate.ts";

/** The certificate when it makes `key` a device of `person` at `at` (ms); else a sentence why not. */
export async function helloCertificate(
  person: Uint8Array,
  key: Uint8Array,
  certB64: string | undefined,
  at: number,
): Promise<Certificate | string> {
  if (certB64 === undefined) return "its hello holds no certificate";
  let cert: Certificate;
  try {
    cert = parseCertificate(base64.decode(certB64));
  } catch {
    return "its certificate is malformed";
  }
  if (!bytesEqual(cert.publicKey, key)) return "the certificate is for another key";
  const problem = await checkDeviceCertificate(cert, person, at);
  return problem === null ? cert : `certificate: ${problem}`;
}
