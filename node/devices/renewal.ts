/**
 * When device certificates are renewed: a pure function of the certificates
 * and `now`, so the timer that runs it (linking/renewals.ts) holds no logic
 * and a test needs no clock.
 *
 * A certificate is due from RENEWAL_DUE_DAYS before it ends (renewalDueAt).
 * The person key's node renews every due certificate of a device it linked
 * and did not remove, also one that ended already (the node was off for
 * weeks: the device is still the person's until removed); a device asks the
 * person key's node for its own once it is due. A certificate valid forever
 * (no end) is never due.
 */
import type { Certificate } from "../identity/mod.ts";
import { defaultValidity, renewalDueAt } from "./device_certificate.ts";

/** How often a node checks whether a renewal is due, at most (also once as it starts). */
export const RENEWAL_CHECK_MS = 60 * 60 * 1000;

/** A certificate the decision looks at. */
export interface RenewalCandidate {
  readonly certificate: Certificate;
  /** Removed by the person (a revocation signed): never renewed. */
  readonly revoked: boolean;
}

/** What to do at `now`. */
export interface RenewalPlan {
  /** Due now, in the order given. */
  readonly due: readonly Certificate[];
  /** When the next one falls due (ms), of those not due now; null when none will. */
  readonly next: number | null;
}

/** When `cert` (a device certificate) falls due, or null for one valid forever. */
export function certificateDueAt(cert: Certificate): number | null {
  return Number.isFinite(cert.validBefore) ? renewalDueAt(cert.validBefore * 1000) : null;
}

/** Which of `candidates` are due for renewal at `now`, and when the next falls due. */
export function planRenewals(candidates: readonly RenewalCandidate[], now: number): RenewalPlan {
  const due: Certificate[] = [];
  let next: number | null = null;
  for (const c of candidates) {
    if (c.revoked) continue;
    const at = certificateDueAt(c.certificate);
    if (at === null) continue;
    if (now >= at) due.push(c.certificate);
    else if (next === null || at < next) next = at;
  }
  return { due, next };
}

/**
 * The window of the certificate that renews `old` at `now`: the usual one
 * (DEVICE_CERTIFICATE_DAYS from now), never ending before the old one.
 */
export function renewedValidity(old: Certificate, now: number): {
  validFrom: number;
  validUntil: number;
} {
  const w = defaultValidity(now);
  const oldEnd = old.validBefore * 1000;
  return { validFrom: w.validFrom, validUntil: Math.max(w.validUntil, oldEnd + 1000) };
}

/** Whether `renewed` may replace `old` on the device: the same key and name, ending later. */
export function isRenewalOf(renewed: Certificate, old: Certificate): boolean {
  const a = renewed.publicKey, b = old.publicKey;
  return a.length === b.length && a.every((x, i) => x === b[i]) &&
    renewed.keyId === old.keyId && renewed.validBefore > old.validBefore;
}
