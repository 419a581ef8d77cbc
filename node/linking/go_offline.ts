/**
 * `roj key export --remove`: the person key leaves this node for good. The
 * node makes itself a device key, certifies it with the person key (as
 * linking certifies a new device), and from its next start runs on that key
 * like any linked device; the person key then lives only in the export.
 *
 * Crash safety, step by step (a kill -9 anywhere leaves a folder that starts):
 *
 *   exported   the export is written and reads back with its passphrase; the
 *              groups' keys are kept as a device keeps them (keep_group_keys.ts)
 *   key        the device key is at `<dir>/id_ed25519.device` (the folder is
 *              still the person key's node; the file is made again next time)
 *   recorded   one commit: the store names the device key, the person and
 *              the certificate; `openProfile` finishes the next step itself
 *              when it finds the store ahead of the key file
 *   replaced   `id_ed25519.device` renamed over `id_ed25519`: the person
 *              key is gone from the folder (the rename is atomic)
 *
 * Run again after a kill before "recorded", it goes on with the export it
 * wrote (given the same file and passphrase).
 */
import { type Clock, systemClock } from "../clock/mod.ts";
import { certifyDevice, checkDeviceName, defaultValidity } from "../devices/mod.ts";
import { RojError } from "../errors.ts";
import { type AskPassphrase, dataPaths, openProfile } from "../home/mod.ts";
import {
  createSigner,
  decodePrivateKey,
  encodePrivateKey,
  fingerprint,
  generateKeyPair,
  isEncryptedPrivateKey,
  type KeyPair,
  publicKeyLine,
} from "../identity/mod.ts";
import { controlSocketPath } from "../control/socket_path.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual, toHex } from "../wire/mod.ts";
import { keepGroupKeys } from "./keep_group_keys.ts";
import { type KeyExport, personKeyOf, writeKeyFile } from "./person_key.ts";

/** A step of going offline done, for a test to stop there (see the module's comment). */
export type OfflineStep = "exported" | "key" | "recorded" | "replaced";

/** Options for {@linkcode goOffline}. */
export interface OfflineOptions {
  /** Where the export goes (or is, from an earlier run that stopped). */
  readonly out: string;
  readonly passphrase: () => Promise<string>;
  readonly ask?: AskPassphrase;
  /** This node's device name. @default "device-" and 4 hex digits of its new key */
  readonly name?: string;
  readonly clock?: Clock;
  /** bcrypt rounds of the export (tests use fewer). @default 16 */
  readonly rounds?: number;
  /** Called after each step; a throw stops there, as a kill would. */
  readonly onStep?: (step: OfflineStep) => void | Promise<void>;
}

/** What going offline did. */
export interface OfflineResult extends KeyExport {
  /** This node's device name and new key's fingerprint. */
  readonly device: string;
  readonly deviceFingerprint: string;
  /** Ms since the epoch. */
  readonly validUntil: number;
}

/**
 * Exports the person key of `dir` and turns the folder into a device of the person.
 * @throws {RojError} exists (a node runs in `dir`, or `out` holds another
 * key), refused (a device already, the key in ssh-agent or adopted from
 * elsewhere), bad_input (empty passphrase, bad name), key_bad_passphrase.
 */
export async function goOffline(dir: string, o: OfflineOptions): Promise<OfflineResult> {
  if (o.name !== undefined) checkDeviceName(o.name);
  await refuseRunning(dir);
  const paths = dataPaths(dir);
  let folderPass: string | undefined;
  const ask: AskPassphrase | undefined = o.ask &&
    (async (why) => (folderPass = await o.ask!(why)));
  const profile = await openProfile(dir, ask);
  try {
    const kv = profile.store.kv;
    const person = await personKeyOf(profile);
    const adopted = (await kv.get(keys.setting("keyFile"))).value;
    if (typeof adopted === "string") {
      throw new RojError(
        "refused",
        `the person key is not in this data folder but at ${adopted}; remove it there yourself`,
      );
    }
    await exportOnce(person, o);
    // The groups' keys as a device keeps them, before the person key goes (again after a stop).
    await keepGroupKeys(profile.store, person);
    await o.onStep?.("exported");

    const keyPair = await generateKeyPair("");
    const name = o.name ?? `device-${toHex(keyPair.publicKey).slice(0, 4)}`;
    const now = (o.clock ?? systemClock).now();
    const certificate = await certifyDevice(await createSigner(person), {
      deviceKey: keyPair.publicKey,
      name,
      ...defaultValidity(now),
      serial: new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0),
      nonce: crypto.getRandomValues(new Uint8Array(32)),
    });
    // The device key is protected as the person key was here.
    const wasEncrypted = isEncryptedPrivateKey(await Deno.readTextFile(paths.key));
    const pem = await encodePrivateKey(
      keyPair,
      wasEncrypted && folderPass ? { passphrase: folderPass } : {},
    );
    const next = deviceKeyPath(dir);
    await Deno.writeTextFile(`${next}.tmp`, pem, { mode: 0o600 });
    await Deno.chmod(`${next}.tmp`, 0o600);
    await Deno.rename(`${next}.tmp`, next);
    await o.onStep?.("key");

    await kv.atomic()
      .set(keys.setting("publicKey"), keyPair.publicKey)
      .set(keys.setting("devicePerson"), person.publicKey)
      .set(keys.setting("deviceCertificate"), certificate.blob)
      .commit();
    await o.onStep?.("recorded");

    await finishReplace(dir, keyPair, profile.name);
    await o.onStep?.("replaced");
    return {
      file: o.out,
      fingerprint: fingerprint(person.publicKey),
      device: name,
      deviceFingerprint: fingerprint(keyPair.publicKey),
      validUntil: certificate.validBefore * 1000,
    };
  } finally {
    profile.store.close();
  }
}

/** Where the new device key waits until it replaces the person key. */
export function deviceKeyPath(dir: string): string {
  return `${dataPaths(dir).key}.device`;
}

/** Renames the device key over the person key and writes its public key file. */
export async function finishReplace(dir: string, keyPair: KeyPair, name: string): Promise<void> {
  const paths = dataPaths(dir);
  await Deno.rename(deviceKeyPath(dir), paths.key);
  await Deno.writeTextFile(
    `${paths.publicKey}.tmp`,
    publicKeyLine(keyPair.publicKey, name) + "\n",
    {
      mode: 0o644,
    },
  );
  await Deno.rename(`${paths.publicKey}.tmp`, paths.publicKey);
}

/** Writes the export, or accepts the one an earlier run wrote if it is this key under this passphrase. */
async function exportOnce(person: KeyPair, o: OfflineOptions): Promise<void> {
  const pass = await o.passphrase();
  let earlier: string | undefined;
  try {
    earlier = await Deno.readTextFile(o.out);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (earlier === undefined) return await writeKeyFile(person, o.out, pass, o.rounds);
  const kp = await decodePrivateKey(earlier, pass).catch(() => undefined);
  if (!kp || !bytesEqual(kp.publicKey, person.publicKey)) {
    throw new RojError(
      "exists",
      `${o.out} exists and is not this person key under this passphrase; choose another --out`,
    );
  }
}

/** @throws {RojError} exists when a node answers on the folder's control socket. */
async function refuseRunning(dir: string): Promise<void> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: controlSocketPath(dir) });
  } catch {
    return;
  }
  conn.close();
  throw new RojError(
    "exists",
    `a node is running in ${dir}: stop it first (it holds the person key while it runs)`,
  );
}
