/**
 * The person key lent to a device for one operation (`roj device link --key
 * FILE`, `roj device remove NAME --key FILE`): the CLI opens the exported
 * key with its passphrase and hands its seed to the running node over the
 * control socket (the owner's alone, in the 0700 data folder). The node
 * keeps it in memory only, for the operation: a link code's until the code
 * certified its device or expired (a restart forgets it, and the code can
 * then certify nothing), a removal's until the revocation is signed. It is
 * never written anywhere.
 */
import { RojError } from "../errors.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  createSigner,
  decodePrivateKey,
  fingerprint,
  isEncryptedPrivateKey,
  type Signer,
} from "../identity/mod.ts";
import type { AskPassphrase } from "../home/mod.ts";
import { bytesEqual, fromHex, toHex } from "../wire/mod.ts";

/** Largest key file read, in bytes. */
const MAX_KEY_FILE = 16 * 1024;

/**
 * `--key FILE`: the exported person key, opened with its passphrase, as the
 * hex seed to lend the node for one call.
 * @throws {RojError} not_found, key_malformed, key_passphrase_required, key_bad_passphrase
 */
export async function readLentKey(path: string, ask: AskPassphrase): Promise<string> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > MAX_KEY_FILE) {
      throw new RojError("key_malformed", `${path} is not an OpenSSH private key file`);
    }
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof RojError) throw err;
    throw new RojError("not_found", `cannot read the key file ${path}`, { cause: err });
  }
  const pass = isEncryptedPrivateKey(text) ? await ask(`passphrase for ${path}`) : undefined;
  return toHex((await decodePrivateKey(text, pass)).seed);
}

/**
 * The signer of a lent person key, checked to be `person`'s.
 * @throws {RojError} refused when it is another key.
 */
export async function lentSigner(seedHex: string, person: Uint8Array): Promise<Signer> {
  const seed = fromHex(seedHex);
  const publicKey = ed25519.getPublicKey(seed);
  if (!bytesEqual(publicKey, person)) {
    throw new RojError(
      "refused",
      `that key (${fingerprint(publicKey)}) is not this person's key (${fingerprint(person)})`,
    );
  }
  return await createSigner({ seed, publicKey, comment: "" });
}

/** Why a device without a lent key cannot do `what`. */
export function noPersonKey(what: string): RojError {
  return new RojError(
    "refused",
    `this device does not hold the person key: ${what} with --key FILE (the key \`roj key export\`` +
      " wrote) or on the node that holds it",
  );
}
