/** Checking many entry signatures at once, with whatever the verifier offers. */
import { type SshsigCheck, verifyEd25519 } from "../identity/mod.ts";
import type { Ed25519Verifier } from "./entry.ts";

/**
 * Runs each check; true where the signature is valid. Uses the verifier's
 * batch form when it has one (a worker pool) unless `here` asks for this
 * thread, else its synchronous form, else its promise form; without a
 * verifier, WebCrypto with a key import per check.
 */
export async function verifyChecks(
  checks: ReadonlyArray<SshsigCheck>,
  verifier?: Ed25519Verifier,
  options: { here?: boolean } = {},
): Promise<boolean[]> {
  if (checks.length === 0) return [];
  if (verifier?.verifyMany && !options.here) return await verifier.verifyMany(checks);
  if (verifier?.verifySync) {
    const out = new Array<boolean>(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      out[i] = verifier.verifySync(c.publicKey, c.signature, c.data);
    }
    return out;
  }
  return await Promise.all(
    checks.map((c) =>
      verifier
        ? verifier.verify(c.publicKey, c.signature, c.data)
        : verifyEd25519(c.publicKey, c.signature, c.data)
    ),
  );
}
