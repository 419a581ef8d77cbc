/**
 * The new device's side of linking (`roj init --join`): read the link code,
 * make this device's own ed25519 key, dial the linking device at the code's
 * addresses expecting the code's host key, prove the code's secret for this
 * key, and check the certificate that comes back before anything is written.
 *
 * Crash safety, with the linking node's two phases (link_service.ts): the
 * folder is made as `<dir>.joining` beside the target and renamed into place
 * only once the linking node recorded the device. In steps (JoinStep):
 *
 *   key        `<dir>.joining` holds the new key and the code (written last)
 *   certified  the linking node reserved the code for this key and sent the certificate
 *   written    the certificate, the person's name and contacts are in `<dir>.joining`
 *   confirmed  the linking node recorded the device (device.confirm)
 *   then       `<dir>.joining` is renamed to `<dir>`
 *
 * Run again after a kill at any step, `roj init --join` finds `<dir>.joining`
 * and goes on with its key and code (the linking node answers a key it
 * reserved or recorded with the same certificate), so both sides end linked;
 * refused (expired unconfirmed, removed), it removes `<dir>.joining` and
 * neither side has the device. A kill before "key" is complete leaves a
 * folder without the code, which is removed and started afresh.
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { checkDeviceCertificate, checkDeviceName, parseLinkCode } from "../devices/mod.ts";
import { isRojError, RojError } from "../errors.ts";
import { checkName, dataPaths, initProfile } from "../home/mod.ts";
import { ContactBook } from "../contacts/mod.ts";
import { keys, openStore, type Store } from "../store/mod.ts";
import {
  type Certificate,
  decodePrivateKey,
  fingerprint,
  generateKeyPair,
  type KeyPair,
  parseCertificate,
  publicKeyLine,
} from "../identity/mod.ts";
import { decodeB64, DEVLINK_CONFIRM_FEATURE, peerHas, type ResultOf } from "../protocol/mod.ts";
import { parseEndpoint } from "../transport/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { dialLinking, LINKED_BY } from "./link_dial.ts";
import { linkProof } from "./link_proof.ts";

/** What the linking device answered, checked. */
interface Linked {
  readonly certificate: Certificate;
  readonly person: string;
  readonly contacts: ResultOf<"device.link">["contacts"];
  /** Tells the linking device the folder is written (two phases), or undefined (one phase). */
  readonly confirm: (() => Promise<void>) | undefined;
  readonly close: () => void;
}

/** The person's contacts, as the new device's own (a copy; later changes sync, device_sync/contact_sync.ts). */
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

/** A step of joining done (see the module's comment), for a test to kill the process there. */
export type JoinStep = "key" | "certified" | "written" | "confirmed";

export interface JoinOptions {
  /** The device's name. @default "device-" and 4 hex digits of its key */
  readonly name?: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Per address. @default 5000 */
  readonly timeoutMs?: number;
  /** Called after each step, awaited before the next. */
  readonly onStep?: (step: JoinStep) => void | Promise<void>;
}

/** An unfinished join: `<dir>.joining`, its key, and the code and name it was for. */
interface Joining {
  readonly path: string;
  readonly keyPair: KeyPair;
  readonly code: string;
  readonly name: string;
}

const JOINING = keys.setting("joining");

/**
 * Links a new device into `dir`, or finishes linking it after a kill.
 * @throws {RojError} bad_input (code unreadable, altered or expired; bad
 * name), exists (the folder holds an identity), unreachable (run it again to
 * finish), refused (with the linking device's reason: wrong secret, used,
 * expired), protocol (its certificate does not check out).
 */
export async function joinPerson(
  dir: string,
  text: string,
  options: JoinOptions = {},
): Promise<JoinResult> {
  const clock = options.clock ?? systemClock;
  const given = text.trim();
  if (options.name !== undefined) checkDeviceName(options.name);
  await mustBeEmpty(dir);
  const path = `${dir}.joining`;
  let joining = await readJoining(path);
  if (joining && joining.code !== given) {
    // An unfinished link of this folder with another code: finish that one first.
    try {
      return await finish(dir, joining, clock, options);
    } catch (err) {
      if (!isRojError(err, "refused")) throw err;
      joining = undefined;
    }
  }
  if (!joining) {
    await parseLinkCode(given, clock.now()); // expired or altered: nothing is written
    joining = await startJoining(path, given, options.name);
  }
  return await finish(dir, joining, clock, options);
}

/** Makes `<path>`: a new key and the code, the code written last (its presence says the step is done). */
async function startJoining(path: string, code: string, name?: string): Promise<Joining> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
  const keyPair = await generateKeyPair("");
  const device = name ?? `device-${toHex(keyPair.publicKey).slice(0, 4)}`;
  const profile = await initProfile(path, { name: "me", keyPair });
  try {
    await profile.store.kv.set(JOINING, { code, name: device });
  } finally {
    profile.store.close();
  }
  return { path, keyPair, code, name: device };
}

/** The unfinished join at `path`, if one is there complete; a partial one is removed. */
async function readJoining(path: string): Promise<Joining | undefined> {
  const paths = dataPaths(path);
  let record: { code: string; name: string } | null = null;
  let keyPair: KeyPair | undefined;
  try {
    keyPair = await decodePrivateKey(await Deno.readTextFile(paths.key));
    const store = await openStore(paths.store);
    try {
      record = (await store.kv.get<{ code: string; name: string }>(JOINING)).value;
    } finally {
      store.close();
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound) && !(err instanceof RojError)) throw err;
  }
  if (record && keyPair) return { path, keyPair, code: record.code, name: record.name };
  await Deno.remove(path, { recursive: true }).catch(() => {});
  return undefined;
}

async function finish(
  dir: string,
  joining: Joining,
  clock: Clock,
  options: JoinOptions,
): Promise<JoinResult> {
  const { keyPair, name } = joining;
  // Its expiry is the linking node's to judge now: it may have recorded this key already.
  const code = await parseLinkCode(joining.code, 0);
  await options.onStep?.("key");
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
      if (err.code === "refused" || err.code === "protocol") {
        await Deno.remove(joining.path, { recursive: true }).catch(() => {});
        throw err;
      }
    }
  }
  if (!got) throw unfinished(lastError, dir);
  try {
    await options.onStep?.("certified");
    const { certificate, person, contacts } = got;
    const paths = dataPaths(joining.path);
    const store = await openStore(paths.store);
    try {
      await store.kv.atomic()
        .set(keys.setting("name"), person)
        .set(keys.setting("devicePerson"), code.person)
        .set(keys.setting("deviceCertificate"), certificate.blob)
        // Where to ask for a renewed certificate later (renewals.ts).
        .set(LINKED_BY, { device: code.device, addresses: code.addresses })
        .commit();
      await copyContacts(store, contacts, code.person, clock.now());
      // Where the linking node listens: the new device's first sibling to sync with (node/device_sync).
      await store.kv.set(keys.siblingAddresses(code.person), code.addresses.slice(0, 8));
    } finally {
      store.close();
    }
    const pub = `${paths.publicKey}.tmp`;
    await Deno.writeTextFile(pub, publicKeyLine(keyPair.publicKey, person) + "\n", { mode: 0o644 });
    await Deno.rename(pub, paths.publicKey);
    await options.onStep?.("written");
    if (got.confirm) {
      try {
        await got.confirm();
      } catch (err) {
        if (isRojError(err, "refused")) {
          await Deno.remove(joining.path, { recursive: true }).catch(() => {});
          throw err;
        }
        throw unfinished(err instanceof RojError ? err : undefined, dir);
      }
      await options.onStep?.("confirmed");
    }
    await Deno.rename(joining.path, dir);
    // The code's record has done its job (best effort: a kill here leaves a used code's text).
    const done = await openStore(dataPaths(dir).store);
    await done.kv.delete(JOINING).finally(() => done.close());
    return {
      dataDir: dir,
      device: certificate.keyId,
      fingerprint: fingerprint(keyPair.publicKey),
      person,
      personFingerprint: fingerprint(code.person),
      validUntil: certificate.validBefore * 1000,
    };
  } finally {
    got.close();
  }

  async function askOnce(address: string): Promise<Linked> {
    const session = await dialLinking(
      keyPair,
      address,
      code.device,
      name,
      clock,
      options.timeoutMs,
    );
    const { rpc, hello } = session;
    try {
      const res = await rpc.request("device.link", {
        proof: toHex(linkProof(code.secret, keyPair.publicKey, code.device)),
        name,
      });
      const certificate = await checkOwnCertificate(res.certificate, keyPair.publicKey, name);
      const confirm = peerHas(hello, DEVLINK_CONFIRM_FEATURE)
        ? async () => {
          await rpc.request("device.confirm", {});
        }
        : undefined;
      return {
        certificate,
        person: res.person,
        contacts: res.contacts,
        confirm,
        close: () => session.close(),
      };
    } catch (err) {
      session.close();
      throw err;
    }
  }

  /** The certificate the linking device sent, checked: the person's, for this key and name, valid now. */
  async function checkOwnCertificate(b64: string, key: Uint8Array, name: string) {
    let certificate: Certificate;
    try {
      certificate = parseCertificate(decodeB64(b64));
    } catch (err) {
      throw new RojError("protocol", "the linking device sent a malformed certificate", {
        cause: err,
      });
    }
    const problem = await checkDeviceCertificate(certificate, code.person, clock.now());
    if (problem !== null || !bytesEqual(certificate.publicKey, key)) {
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
    return certificate;
  }
}

/** The linking device could not be reached (or the answer was lost): running again finishes. */
function unfinished(cause: RojError | undefined, dir: string): RojError {
  return new RojError(
    "unreachable",
    `${cause?.message ?? "the linking device did not answer"}; run the same command again` +
      ` to finish linking ${dir} (it goes on from ${dir}.joining)`,
    cause ? { cause } : {},
  );
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
