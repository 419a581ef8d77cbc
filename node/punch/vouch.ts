/**
 * A punch asker's vouch: "coordinator C told me it saw my UDP endpoint at E;
 * target T may send QUIC there until `expires`", signed with the asker's
 * identity key and passed by C to T in punch.offer (see punch.ts).
 *
 * The target sends packets only to an endpoint its contact vouched for, for
 * this coordinator and for itself: a contact acting as coordinator cannot aim
 * them anywhere it likes, and an asker cannot either, since an honest
 * coordinator puts the endpoint it saw beside the vouch.
 *
 * Layout (SSHSIG, namespace "roj-punch", over the SSH wire encoding):
 *   string "roj-punch-vouch-v1" | string asker key blob | string coordinator
 *   key (32) | string target key (32) | string endpoint "ip:port" |
 *   string asker's QUIC certificate hash | uint64 expires (ms since epoch)
 */
import {
  NAMESPACES,
  publicKeyBlob,
  PUNCH_VOUCH_MAGIC,
  type Signer,
  signSshsig,
  verifySshsig,
} from "../identity/mod.ts";
import { WireWriter } from "../wire/mod.ts";

/** How long a vouch stands: a punch follows within seconds; the rest is room for clock skew. */
export const VOUCH_TTL_MS = 5 * 60_000;

/** What a vouch says. */
export interface VouchFacts {
  readonly asker: Uint8Array;
  readonly coordinator: Uint8Array;
  readonly target: Uint8Array;
  /** "ip:port", as formatEndpoint writes it. */
  readonly endpoint: string;
  /** The asker's QUIC certificate hash. */
  readonly cert: Uint8Array;
  readonly expires: number;
}

function vouchBytes(v: VouchFacts): Uint8Array {
  return new WireWriter().string(PUNCH_VOUCH_MAGIC).string(publicKeyBlob(v.asker))
    .string(v.coordinator).string(v.target).string(v.endpoint).string(v.cert).u64(v.expires)
    .bytes();
}

/** The asker's signature over `v` (its `asker` is the signer's key). */
export function signVouch(signer: Signer, v: Omit<VouchFacts, "asker">): Promise<Uint8Array> {
  return signSshsig(signer, NAMESPACES.punch, vouchBytes({ ...v, asker: signer.publicKey }));
}

/** Whether `sig` is `v.asker`'s vouch for exactly `v`. Never throws. */
export async function checkVouch(sig: Uint8Array, v: VouchFacts): Promise<boolean> {
  try {
    return (await verifySshsig(sig, NAMESPACES.punch, vouchBytes(v), { publicKey: v.asker })) !==
      null;
  } catch {
    return false;
  }
}
