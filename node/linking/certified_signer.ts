/**
 * A device's signer: its own key's, carrying the certificate its person
 * gave it, so that the entries it signs name the certificate in their SSHSIG
 * (log/entry.ts createEntry) and stock `ssh-keygen -Y verify` checks them
 * against the person's key (`cert-authority`).
 */
import type { Certificate, SyncSigner } from "../identity/mod.ts";

/** `signer` with `certificate` (which must be for its key). @throws {RangeError} otherwise */
export function certifiedSigner(signer: SyncSigner, certificate: Certificate): SyncSigner {
  const a = certificate.publicKey;
  const b = signer.publicKey;
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    throw new RangeError("the certificate is for another key than the signer's");
  }
  return {
    publicKey: signer.publicKey,
    certificate,
    sign: (data) => signer.sign(data),
    signSync: (data) => signer.signSync(data),
  };
}
