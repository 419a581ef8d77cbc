/**
 * Invites: a short text that lets one person add another.
 *
 *   "roj1:" base64url( string payload, string sshsig )     (no padding)
 *
 *   payload = string "roj-invite-v1"
 *             string  issuer public key blob
 *             string  issuer name (UTF-8, 1..40)
 *             uint32  address count (0..8), then that many strings "host:port"
 *             uint64  expiry, ms since the epoch
 *             string  nonce, 16 random bytes: the secret that lets its holder log in once
 *   sshsig  = SSHSIG by the issuer over payload, namespace "roj-invite"
 *
 * A person's device issues the v2 layout instead (person_invite.ts): the
 * person key, with the device certificates. The person key's own node keeps
 * issuing v1, which every version reads.
 */
import { base64urlnopad } from "@scure/base";
import { RojError } from "../errors.ts";
import {
  type Certificate,
  INVITE_MAGIC,
  INVITE_TEXT_PREFIX,
  NAMESPACES,
  parsePublicKeyBlob,
  PERSON_INVITE_MAGIC,
  publicKeyBlob,
  type Signer,
  signPacked,
  unpackSigned,
  verifySshsig,
} from "../identity/mod.ts";
import { WireReader, WireWriter } from "../wire/mod.ts";
import { checkPersonInvite, decodePersonInvite } from "./person_invite.ts";

const PREFIX = INVITE_TEXT_PREFIX;
const MAGIC = INVITE_MAGIC;
export const MAX_INVITE_TEXT = 4096;
export const MAX_INVITE_ADDRESSES = 8;

export interface Invite {
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly addresses: string[];
  readonly expires: number;
  readonly nonce: Uint8Array;
  /**
   * A device's invite (v2): the host key answering at each address, in the
   * order of `addresses` (the person key's, or one of `devices`').
   */
  readonly hosts?: readonly Uint8Array[];
  /** A device's invite (v2): device certificates by `publicKey`, valid when parsed, the issuer's first. */
  readonly devices?: readonly Certificate[];
}

/** Signs an invite and renders it as text. */
export async function createInviteText(
  signer: Signer,
  invite: Omit<Invite, "publicKey">,
): Promise<string> {
  if (invite.nonce.length !== 16) throw new RangeError("invite nonce must be 16 bytes");
  const w = new WireWriter().string(MAGIC).string(publicKeyBlob(signer.publicKey)).string(
    invite.name,
  );
  const addrs = invite.addresses.slice(0, MAX_INVITE_ADDRESSES);
  w.u32(addrs.length);
  for (const a of addrs) w.string(a);
  const payload = w.u64(invite.expires).string(invite.nonce).bytes();
  return PREFIX + base64urlnopad.encode(await signPacked(signer, NAMESPACES.invite, payload));
}

/**
 * Parses and checks an invite's text.
 * @throws {RojError} bad_input with a one-line reason: unparseable, tampered, expired.
 */
export async function parseInvite(text: string, now: number): Promise<Invite> {
  const t = text.trim();
  if (t.length > MAX_INVITE_TEXT || !t.startsWith(PREFIX)) {
    throw new RojError("bad_input", "this is not a Roj invite (it should start with roj1:)");
  }
  let payload: Uint8Array;
  let sig: Uint8Array;
  let invite: Invite;
  try {
    ({ payload, sig } = unpackSigned(base64urlnopad.decode(t.slice(PREFIX.length)), "invite"));
    const r = new WireReader(payload, "invite");
    const magic = r.text();
    if (magic === PERSON_INVITE_MAGIC) invite = decodePersonInvite(payload);
    else {
      if (magic !== MAGIC) throw new Error("magic");
      const publicKey = parsePublicKeyBlob(r.string()).slice();
      const name = r.text();
      const count = r.u32();
      if (count > MAX_INVITE_ADDRESSES) throw new Error("addresses");
      const addresses: string[] = [];
      for (let i = 0; i < count; i++) addresses.push(r.text());
      const expires = Number(r.u64());
      const nonce = r.string().slice();
      r.end();
      if (nonce.length !== 16 || name.length === 0 || name.length > 40) throw new Error("fields");
      invite = { publicKey, name, addresses, expires, nonce };
    }
  } catch (err) {
    throw new RojError("bad_input", "this invite is damaged or incomplete; ask for a new one", {
      cause: err,
    });
  }
  if (invite.devices) await checkPersonInvite(invite, payload, sig, now);
  else if (!await verifySshsig(sig, NAMESPACES.invite, payload, { publicKey: invite.publicKey })) {
    throw new RojError("bad_input", "this invite's signature does not match: it was altered");
  }
  return expiryChecked(invite, now);
}

function expiryChecked(invite: Invite, now: number): Invite {
  if (invite.expires <= now) {
    throw new RojError(
      "bad_input",
      `this invite expired at ${
        new Date(invite.expires).toISOString()
      }; ask ${invite.name} for a new one`,
    );
  }
  return invite;
}
