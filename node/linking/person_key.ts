/**
 * The person key leaving the node (`roj key export`): written once, on this
 * explicit request, as a passphrase-protected OpenSSH private key that stock
 * `ssh-keygen -y -f` reads. The only way a key leaves the data folder.
 *
 * The file is written under a temporary name in the target's folder and
 * hard-linked into place: a link never replaces an existing file (so an
 * export never overwrites anything), and a crash leaves no half-written key
 * under the name asked for.
 */
import { RojError } from "../errors.ts";
import { type AskPassphrase, openProfile, type Profile } from "../home/mod.ts";
import { decodePrivateKey, encodePrivateKey, fingerprint, type KeyPair } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";

/** What was exported. */
export interface KeyExport {
  readonly file: string;
  /** The person key's fingerprint (what `ssh-keygen -l -f` prints). */
  readonly fingerprint: string;
}

/**
 * The person key of the folder `profile` opened.
 * @throws {RojError} refused on a device (no person key here) or when the key is in ssh-agent.
 */
export async function personKeyOf(profile: Profile): Promise<KeyPair> {
  // The person's key recorded at all marks a device (its certificate is not needed to say so).
  const person = (await profile.store.kv.get(keys.setting("devicePerson"))).value;
  if (person instanceof Uint8Array) {
    throw new RojError(
      "refused",
      "this data folder is a device: it does not hold the person key (export it where it is)",
    );
  }
  if (profile.keyInAgent) {
    throw new RojError(
      "refused",
      "the person key is in ssh-agent, not in this data folder; export it with your SSH tools",
    );
  }
  return profile.keyPair;
}

/**
 * Writes `keyPair` to `out` (mode 0600), protected by `passphrase`, and reads
 * it back to be sure it opens with it.
 * @throws {RojError} bad_input for an empty passphrase, exists when `out` exists.
 */
export async function writeKeyFile(
  keyPair: KeyPair,
  out: string,
  passphrase: string,
  rounds?: number,
): Promise<void> {
  if (passphrase === "") {
    throw new RojError("bad_input", "the export's passphrase is empty; a key file needs one");
  }
  const text = await encodePrivateKey(keyPair, { passphrase, ...(rounds ? { rounds } : {}) });
  const back = await decodePrivateKey(text, passphrase);
  if (back.seed.some((b, i) => b !== keyPair.seed[i])) {
    throw new RojError("internal", "the exported key does not read back");
  }
  const tmp = `${out}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600); // whatever the umask
    const f = await Deno.open(tmp, { read: true });
    await f.syncData().finally(() => f.close());
    await Deno.link(tmp, out);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new RojError("exists", `${out} exists already; an export never replaces a file`, {
        cause: err,
      });
    }
    if (err instanceof Deno.errors.NotFound) {
      throw new RojError("not_found", `cannot write ${out}: its folder does not exist`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Options for {@linkcode exportPersonKey}. */
export interface ExportOptions {
  /** Where to write the key; never replaced if it exists. */
  readonly out: string;
  /** The export's passphrase (not empty). */
  readonly passphrase: () => Promise<string>;
  /** Asks for the data folder key's own passphrase, when it has one. */
  readonly ask?: AskPassphrase;
  /** bcrypt rounds (tests use fewer). @default 16 */
  readonly rounds?: number;
}

/**
 * `roj key export`: the person key of data folder `dir`, written to `out`.
 * @throws {RojError} refused (a device, or the key in ssh-agent), exists, bad_input.
 */
export async function exportPersonKey(dir: string, o: ExportOptions): Promise<KeyExport> {
  await refuseExisting(o.out);
  const profile = await openProfile(dir, o.ask);
  try {
    const kp = await personKeyOf(profile);
    await writeKeyFile(kp, o.out, await o.passphrase(), o.rounds);
    return { file: o.out, fingerprint: fingerprint(kp.publicKey) };
  } finally {
    profile.store.close();
  }
}

/** Fails before any passphrase is asked when `out` exists (the link checks again). */
async function refuseExisting(out: string): Promise<void> {
  try {
    await Deno.lstat(out);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  throw new RojError("exists", `${out} exists already; an export never replaces a file`);
}
