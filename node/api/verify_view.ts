/** What `roj verify` and the admin's verify page show (api.ts: `verify`, `verify.mark`). */
/**
 * A contact's safety number: 60 digits computed from both keys, the same on
 * both sides (identity/safety_number.ts), and whether it is marked verified.
 */
export interface VerifyView {
  readonly name: string;
  readonly fingerprint: string;
  /** This node's own fingerprint. */
  readonly myFingerprint: string;
  /** The 60 digits, no spaces (what the QR code holds). */
  readonly number: string;
  /** The same in 12 groups of 5, as people read it out. */
  readonly groups: string[];
  readonly verified: boolean;
  /** ms since the epoch when it was marked; null when not verified. */
  readonly verifiedAt: number | null;
}
