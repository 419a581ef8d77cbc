/**
 * A device's signer: its own key's, carrying the certificate its person
 * gave it, so that the entries it signs name the certificate in their SSHSIG
 * (log/entry.ts createEntry) and stock `ssh-keygen -Y verify` checks them
 * against the person's key (`cert-authority`). A renewal (renewals.ts)
 * replaces the certificate while the node runs: the next entry and the next
 * session's hello carry the new one.
 */
import type { Certificate, Signer, SyncSigner } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";

/** A device's signer, whose certificate a renewal replaces. */
export interface CertifiedSigner extends SyncSigner {
  readonly certificate: Certificate;
  /** @throws {RangeError} when `certificate` is for another key */
  setCertificate(certificate: Certificate): void;
}

/** `signer` with `certificate` (which must be for its key). @throws {RangeError} otherwise */
export function certifiedSigner(signer: SyncSigner, certificate: Certificate): CertifiedSigner {
  const check = (c: Certificate) => {
    if (!bytesEqual(c.publicKey, signer.publicKey)) {
      throw new RangeError("the certificate is for another key than the signer's");
    }
    return c;
  };
  let current = check(certificate);
  return {
    publicKey: signer.publicKey,
    get certificate() {
      return current;
    },
    setCertificate: (c) => (current = check(c), undefined),
    sign: (data) => signer.sign(data),
    signSync: (data) => signer.signSync(data),
  };
}

/** Whether `signer` is a device's (certifiedSigner). */
export function isCertifiedSigner(signer: Signer): signer is CertifiedSigner {
  return typeof (signer as Partial<CertifiedSigner>).setCertificate === "function";
}

/**
 * `deps` with `certificate`: the blob of the signer's certificate as it is
 * when read (each new session's hello reads it), on a device; `deps` as it
 * is otherwise.
 */
export function withLiveCertificate<T extends object>(signer: Signer, deps: T): T {
  if (!isCertifiedSigner(signer)) return deps;
  return Object.defineProperty(deps, "certificate", {
    get: () => signer.certificate.blob,
    enumerable: true,
  });
}
