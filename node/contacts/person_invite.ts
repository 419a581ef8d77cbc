/**
 * An invite a person's device issued (issue 13 item 2, contacts see one
 * person). The device does not hold the person key, so it cannot sign a v1
 * invite naming the person; one naming its own key made its contacts add the
 * device, not the person. This one names the person key, and carries the
 * device certificates that tie the signer and every address to the person:
 *
 *   "roj1:" base64url( string payload, string sshsig )     (no padding)
 *
 *   payload = string "roj-invite-v2"
 *             string  person public key blob
 *             string  person name (UTF-8, 1..40)
 *             uint32  certificate count (1..4), then that many strings: device
 *                     certificates signed by the person key, the issuer's first
 *             uint32  address count (0..8), then per address: string "host:port",
 *                     uint32 whose host key answers there (0: the person key,
 *                     i: the key of the i-th certificate)
 *             uint64  expiry, ms since the epoch
 *             string  nonce, 16 random bytes
 *   sshsig  = SSHSIG over payload, namespace "roj-invite", by the issuer's device
 *             key carrying its certificate (stock `ssh-keygen -Y verify` checks it
 *             with `cert-authority` and the person key)
 *
 * Whoever accepts it adds the person; at a device's address it expects that
 * device's host key, and its hello's certificate (linking/device_sessions.ts).
 * A node of an older version refuses it as damaged (a v1 magic is all it reads).
 */
import { base64urlnopad } from "@scure/base";
import { checkDeviceCertificate } from "../devices/mod.ts";
import {
  type Certificate,
  INVITE_TEXT_PREFIX,
  NAMESPACES,
  parseCertificate,
  parsePublicKeyBlob,
  PERSON_INVITE_MAGIC,
  publicKeyBlob,
  type Signer,
  signSshsig,
  verifySshsig,
} from "../identity/mod.ts";
import { RojError } from "../errors.ts";
import { bytesEqual, WireReader, WireWriter } from "../wire/mod.ts";
import type { Invite } from "./invite.ts";

/** Device certificates one invite carries at most. */
export const MAX_INVITE_DEVICES = 4;
const MAX_ADDRESSES = 8;

/** One address of a person invite and which key answers there. */
export interface InviteAddress {
  readonly address: string;
  /** The person key, or one of the invite's devices' keys. */
  readonly host: Uint8Array;
}

/** What a device puts in its invite. */
export interface PersonInvite {
  readonly person: Uint8Array;
  readonly name: string;
  /** The issuer's certificate first (it must be `signer`'s), then other devices'. */
  readonly devices: readonly Certificate[];
  readonly addresses: readonly InviteAddress[];
  readonly expires: number;
  readonly nonce: Uint8Array;
}

/** A device's invite as text: the v2 payload, signed by `signer` with its certificate (the first of `devices`). */
export async function createPersonInviteText(
  signer: Signer,
  invite: PersonInvite,
): Promise<string> {
  const devices = invite.devices.slice(0, MAX_INVITE_DEVICES);
  const own = devices[0];
  if (!own || !bytesEqual(own.publicKey, signer.publicKey)) {
    throw new RangeError("a person invite carries its signer's certificate first");
  }
  if (invite.nonce.length !== 16) throw new RangeError("invite nonce must be 16 bytes");
  const w = new WireWriter().string(PERSON_INVITE_MAGIC).string(publicKeyBlob(invite.person))
    .string(invite.name).u32(devices.length);
  for (const c of devices) w.string(c.blob);
  // 0: the person key; i: the i-th certificate's key; -1: a key the invite does not carry.
  const index = (host: Uint8Array) =>
    bytesEqual(host, invite.person)
      ? 0
      : devices.findIndex((c) => bytesEqual(c.publicKey, host)) + 1 || -1;
  const addrs = invite.addresses.filter((a) => index(a.host) >= 0).slice(0, MAX_ADDRESSES);
  w.u32(addrs.length);
  for (const a of addrs) w.string(a.address).u32(index(a.host));
  const payload = w.u64(invite.expires).string(invite.nonce).bytes();
  const sig = await signSshsig(signer, NAMESPACES.invite, payload, own);
  return INVITE_TEXT_PREFIX +
    base64urlnopad.encode(new WireWriter().string(payload).string(sig).bytes());
}

/**
 * Reads a v2 payload (not yet checked: see checkPersonInvite).
 * @throws {Error} when it does not parse (the caller names it damaged)
 */
export function decodePersonInvite(payload: Uint8Array): Invite {
  const r = new WireReader(payload, "invite");
  if (r.text() !== PERSON_INVITE_MAGIC) throw new Error("magic");
  const publicKey = parsePublicKeyBlob(r.string()).slice();
  const name = r.text();
  const count = r.u32();
  if (count < 1 || count > MAX_INVITE_DEVICES) throw new Error("devices");
  const devices: Certificate[] = [];
  for (let i = 0; i < count; i++) devices.push(parseCertificate(r.string().slice()));
  const n = r.u32();
  if (n > MAX_ADDRESSES) throw new Error("addresses");
  const addresses: string[] = [];
  const hosts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    addresses.push(r.text());
    const at = r.u32();
    if (at > devices.length) throw new Error("address key");
    hosts.push(at === 0 ? publicKey : devices[at - 1]!.publicKey);
  }
  const expires = Number(r.u64());
  const nonce = r.string().slice();
  r.end();
  if (nonce.length !== 16 || name.length === 0 || name.length > 40) throw new Error("fields");
  return { publicKey, name, addresses, hosts, devices, expires, nonce };
}

/**
 * Checks a decoded v2 invite at `now`: signed by its first device's key with
 * that certificate, and every certificate the person's, for a device, valid now.
 * @throws {RojError} bad_input when one does not check out
 */
export async function checkPersonInvite(
  invite: Invite,
  payload: Uint8Array,
  sig: Uint8Array,
  now: number,
): Promise<void> {
  const issuer = invite.devices![0]!;
  const checked = await verifySshsig(sig, NAMESPACES.invite, payload, {
    publicKey: issuer.publicKey,
  });
  if (!checked?.certificate || !bytesEqual(checked.certificate.blob, issuer.blob)) {
    throw new RojError("bad_input", "this invite's signature does not match: it was altered");
  }
  for (const c of invite.devices!) {
    const problem = await checkDeviceCertificate(c, invite.publicKey, now);
    if (problem !== null) {
      throw new RojError(
        "bad_input",
        `a device in this invite is not ${invite.name}'s now (${problem}); ask for a new one`,
      );
    }
  }
}
