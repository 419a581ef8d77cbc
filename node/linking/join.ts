/**
 * The new device's side of linking (`roj init --join`): read the link code,
 * make this device's own ed25519 key, dial the linking device at the code's
 * addresses expecting the code's host key, prove the code's secret for this
 * key, and check the certificate that comes back before anything is written.
 *
 * The folder is written under a temporary name beside the target and renamed
 * into place only once complete (key, public key, store with the certificate),
 * so a kill at any moment leaves either no folder or a linked one.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { checkDeviceCertificate, checkDeviceName, parseLinkCode } from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import { checkName, initProfile } from "../home/mod.ts";
import { ContactBook } from "../contacts/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import {
  type Certificate,
  fingerprint,
  generateKeyPair,
  parseCertificate,
} from "../identity/mod.ts";
import { decodeB64, DEVLINK_FEATURE, peerHas, type ResultOf, RpcSession } from "../protocol/mod.ts";
import { dialSsh, parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { LINK_USER } from "./link_service.ts";
import { linkProof } from "./link_proof.ts";

/** What the linking device answered, checked. */
interface Linked {
  readonly certificate: Certificate;
  readonly person: string;
  readonly contacts: ResultOf<"device.link">["contacts"];
}

/** The person's contacts, as the new device's own (a copy; they do not sync yet). */
async function copyContacts(
  store: Store,
  contacts: Linked["contacts"],
  person: Uint8Array,
  now: number,
): Promise<void> {
  const book = await ContactBook.open(store);
  for (const c of contacts) {
    let key: Uint8Array;
    let name: string;
    try {
      key = decodeB64(c.key);
      name = checkName(c.name);
    } catch {
      continue;
    }
    if (key.length !== 32 || bytesEqual(key, person) || book.get(key)) continue;
    const addresses = c.addresses.filter((a) => {
      try {
        parseEndpoint(a);
        return true;
      } catch {
        return false;
      }
    });
    // A name another contact took already: that one is left out.
    const added = await book.add(key, name, addresses, now).catch(() => undefined);
    if (added && c.anchor) await book.update(key, { anchor: true });
  }
}

/** What `roj init --join` made. */
export interface JoinResult {
  readonly dataDir: string;
  /** The device's name (its certificate's key id). */
  readonly device: string;
  /** The new device's key's fingerprint: compare it with what the linking device shows. */
  readonly fingerprint: string;
  /** The person's name, as the linking device gave it (this folder's name). */
  readonly person: string;
  readonly personFingerprint: string;
  /** Ms since the epoch. */
  readonly validUntil: number;
}

export interface JoinOptions {
  /** The device's name. @default "device-" and 4 hex digits of its key */
  readonly name?: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Per address. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Links a new device into `dir`.
 * @throws {RojError} bad_input (code unreadable, altered or expired; bad
 * name), exists (the folder holds an identity), unreachable, refused (with
 * the linking device's reason: wrong secret, used, expired), protocol (its
 * certificate does not check out).
 */
export async function joinPerson(
  dir: string,
  text: string,
  options: JoinOptions = {},
): Promise<JoinResult> {
  const clock = options.clock ?? systemClock;
  const code = await parseLinkCode(text, clock.now());
  if (options.name !== undefined) checkDeviceName(options.name);
  await mustBeEmpty(dir);
  const keyPair = await generateKeyPair("");
  const name = options.name ?? `device-${toHex(keyPair.publicKey).slice(0, 4)}`;
  let lastError: RojError | undefined;
  let got: Linked | undefined;
  for (const address of code.addresses) {
    try {
      got = await askOnce(address);
      break;
    } catch (err) {
      if (!(err instanceof RojError)) throw err;
      lastError = err;
      // The linking device answered and said no: another of its addresses would say the same.
      if (err.code === "refused" || err.code === "protocol") throw err;
    }
  }
  if (!got) throw lastError ?? new RojError("bad_input", "the link code names no address");
  const { certificate, person, contacts } = got;
  const tmp = `${dir}.joining-${toHex(crypto.getRandomValues(new Uint8Array(4)))}`;
  const profile = await initProfile(tmp, {
    name: person,
    keyPair: { ...keyPair, comment: person },
    device: { person: code.person, certificate: certificate.blob },
  });
  try {
    await copyContacts(profile.store, contacts, code.person, clock.now());
    // Where the linking node listens: the new device's first sibling to sync with (node/device_sync).
    await profile.store.kv.set(keys.siblingAddresses(code.person), code.addresses.slice(0, 8));
  } finally {
    profile.store.close();
  }
  await Deno.rename(tmp, dir);
  return {
    dataDir: dir,
    device: certificate.keyId,
    fingerprint: fingerprint(keyPair.publicKey),
    person,
    personFingerprint: fingerprint(code.person),
    validUntil: certificate.validBefore * 1000,
  };

  async function askOnce(address: string): Promise<Linked> {
    const client = await dialSsh({
      keyPair,
      to: parseEndpoint(address),
      expectedKey: code.device,
      expectedName: "the device that made this link code",
      username: LINK_USER,
      timeoutMs: options.timeoutMs ?? 5000,
      clock,
    });
    try {
      const rpc = new RpcSession(await client.openRoj(), { hello: { features: [], name }, clock });
      const hello = await rpc.ready;
      if (!peerHas(hello, DEVLINK_FEATURE)) {
        throw new RojError("refused", "the device that made this code does not link devices");
      }
      const res = await rpc.request("device.link", {
        proof: toHex(linkProof(code.secret, keyPair.publicKey, code.device)),
        name,
      });
      let certificate: Certificate;
      try {
        certificate = parseCertificate(decodeB64(res.certificate));
      } catch (err) {
        throw new RojError("protocol", "the linking device sent a malformed certificate", {
          cause: err,
        });
      }
      const problem = await checkDeviceCertificate(certificate, code.person, clock.now());
      if (problem !== null || !bytesEqual(certificate.publicKey, keyPair.publicKey)) {
        throw new RojError(
          "protocol",
          `the certificate the linking device sent does not make this key the person's (${
            problem ?? "another key"
          })`,
        );
      }
      if (certificate.keyId !== name) {
        throw new RojError("protocol", "the certificate names another device");
      }
      rpc.close("linked");
      return { certificate, person: res.person, contacts: res.contacts };
    } finally {
      client.close();
    }
  }
}

/** @throws {RojError} exists when `dir` holds anything (a device is joined into a new folder). */
async function mustBeEmpty(dir: string): Promise<void> {
  try {
    for await (const _ of Deno.readDir(dir)) {
      throw new RojError(
        "exists",
        `${dir} is not empty: a device is joined into a new folder; use another --data`,
      );
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
}
