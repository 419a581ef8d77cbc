/**
 * Creating and opening a data folder's identity.
 *
 * A generated key lives at <data>/id_ed25519 (0600). An adopted key stays where
 * it is: the store records its path and public key, and the key is read from
 * there (asking for its passphrase) each time, so no passphrase-less copy of it
 * is ever written anywhere.
 *
 * A key in ssh-agent (agent_key.ts) is not in any file: the store records that
 * it is in the agent, and the agent is asked for it at each open.
 *
 * The folder is the owner's alone: made 0700, the key and the store files
 * 0600, whatever the umask or the mode an existing folder had. What had to be
 * tightened is returned (Profile.tightened) for the command to say once.
 */
import { RojError } from "../errors.ts";
import {
  decodePrivateKey,
  encodePrivateKey,
  generateKeyPair,
  isEncryptedPrivateKey,
  type KeyPair,
  publicKeyLine,
} from "../identity/mod.ts";
import { keys, makePrivate, type ModeChange, openStore, type Store } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { type DataPaths, dataPaths } from "./data_dir.ts";
import {
  type AgentAccess,
  type AgentIdentity,
  findAgentKey,
  openAgentIdentity,
  publicKeyOfFile,
} from "./agent_key.ts";

/** Asks the person for a key's passphrase; `why` says which key. */
export type AskPassphrase = (why: string) => Promise<string>;

const NAME_RE = /^[\p{L}\p{N} ._@+-]{1,40}$/u;
/** Largest key file read, in bytes. */
const MAX_KEY_FILE = 16 * 1024;

/** @throws {RojError} bad_input for names that are empty, too long or have odd characters. */
export function checkName(name: string): string {
  const trimmed = name.trim();
  if (!NAME_RE.test(trimmed)) {
    throw new RojError(
      "bad_input",
      `name ${
        JSON.stringify(name.slice(0, 50))
      } is not allowed: use 1-40 letters, digits, spaces, . _ @ + -`,
    );
  }
  return trimmed;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function readKeyFile(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new RojError("not_found", `no key file at ${path}`, { cause: err });
    }
    throw new RojError("bad_input", `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!info.isFile || info.size > MAX_KEY_FILE) {
    throw new RojError("key_malformed", `${path} is not an OpenSSH private key file`);
  }
  return await Deno.readTextFile(path);
}

async function decodeAsking(
  text: string,
  path: string,
  ask: AskPassphrase | undefined,
): Promise<KeyPair> {
  if (!isEncryptedPrivateKey(text)) return await decodePrivateKey(text);
  if (!ask) {
    throw new RojError(
      "key_passphrase_required",
      `${path} is protected by a passphrase and none was given`,
    );
  }
  return await decodePrivateKey(text, await ask(`passphrase for ${path}`));
}

export interface InitOptions {
  /** The name shown to contacts; defaults to the adopted key's comment, else "me". */
  name?: string;
  /** Adopt this existing OpenSSH key instead of generating one. */
  adoptKey?: string;
  /** Protect a generated key with this passphrase. */
  passphrase?: string;
  ask?: AskPassphrase;
  /**
   * The ssh-agent ($SSH_AUTH_SOCK). With `required` (`--agent`) the key is the
   * agent's (the one `adoptKey` names, else its only ed25519 key); without,
   * an `adoptKey` the agent holds is used from the agent, and any other is
   * adopted as a file. @default no agent
   */
  agent?: { readonly socket: string; readonly required: boolean };
  /** Use this freshly made key (a device being linked made it before dialling). @default a new one */
  keyPair?: KeyPair;
  /**
   * The folder is a device of a person (node/linking): the person's key and
   * this device's certificate, written in the same commit as the identity.
   */
  device?: { readonly person: Uint8Array; readonly certificate: Uint8Array };
}

export interface Profile {
  readonly paths: DataPaths;
  /**
   * The identity's key pair. With the key in ssh-agent, its seed is only the
   * key agreement's (agent_key.ts), and `agent` signs.
   */
  readonly keyPair: KeyPair;
  /** Whether the key is in ssh-agent (no private key in any file). */
  readonly keyInAgent: boolean;
  /** The signer in ssh-agent, when the key is there and the profile open; its owner closes it. */
  readonly agent?: AgentIdentity["signer"];
  /** Opened while the agent could not sign (AgentAccess.absentOk): see AgentIdentity.pending. */
  readonly agentPending?: AgentIdentity["pending"];
  readonly name: string;
  readonly store: Store;
  /** Files and the folder that others could read, made private on the way in (mostly none). */
  readonly tightened: readonly ModeChange[];
}

/** Makes the folder 0700 and the key in it 0600 if others could read them. */
async function makeFolderPrivate(paths: DataPaths): Promise<ModeChange[]> {
  const changes = [await makePrivate(paths.dir), await makePrivate(paths.key)];
  return changes.filter((c) => c !== null);
}

/**
 * Creates the identity and the store in `dir`.
 * @throws {RojError} exists when `dir` already has an identity; key_* errors for an unusable adopted key.
 */
export async function initProfile(dir: string, options: InitOptions = {}): Promise<Profile> {
  const paths = dataPaths(dir);
  if (await exists(paths.key) || await exists(paths.publicKey)) {
    throw new RojError("exists", `${dir} already holds an identity; use another --data folder`);
  }
  let keyPair: KeyPair;
  let adopted: string | undefined;
  const inAgent = await agentKeyFor(options);
  if (inAgent) {
    const id = await openAgentIdentity(
      { socket: inAgent.socket },
      inAgent.publicKey,
      inAgent.comment,
    );
    id.signer.close();
    keyPair = id.keyPair;
  } else if (options.adoptKey) {
    adopted = await Deno.realPath(options.adoptKey).catch(() => {
      throw new RojError("not_found", `no key file at ${options.adoptKey}`);
    });
    keyPair = await decodeAsking(await readKeyFile(adopted), adopted, options.ask);
  } else {
    keyPair = options.keyPair ?? await generateKeyPair(checkName(options.name ?? "me"));
  }
  const name = checkName(options.name ?? (keyPair.comment || "me"));
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode as it was (often 0755).
  const tightened = await makeFolderPrivate(paths);
  if (!adopted && !inAgent) {
    const pem = await encodePrivateKey(
      keyPair,
      options.passphrase ? { passphrase: options.passphrase } : {},
    );
    // Written under a temporary name and renamed, so a crash never leaves half a key.
    const tmp = `${paths.key}.tmp`;
    await Deno.writeTextFile(tmp, pem, { mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, paths.key);
  }
  await Deno.writeTextFile(paths.publicKey, publicKeyLine(keyPair.publicKey, name) + "\n", {
    mode: 0o644,
  });
  const store = await openStore(paths.store);
  await store.kv.atomic()
    .set(keys.setting("name"), name)
    .set(keys.setting("publicKey"), keyPair.publicKey)
    .set(keys.setting("keyFile"), adopted ?? null)
    .set(keys.setting("keyInAgent"), inAgent !== undefined)
    .set(keys.setting("devicePerson"), options.device?.person ?? null)
    .set(keys.setting("deviceCertificate"), options.device?.certificate ?? null)
    .commit();
  return {
    paths,
    keyPair,
    keyInAgent: inAgent !== undefined,
    name,
    store,
    tightened: [...tightened, ...store.tightened],
  };
}

/**
 * Opens the identity and store of an initialised data folder.
 * @throws {RojError} not_found when `dir` has no identity; key_* errors; store_corrupt.
 */
export async function openProfile(
  dir: string,
  ask?: AskPassphrase,
  agent?: AgentAccess,
): Promise<Profile> {
  const paths = dataPaths(dir);
  if (!await exists(paths.publicKey) && !await exists(paths.key)) {
    throw new RojError("not_found", `no identity in ${dir}: run \`roj init --data ${dir}\` first`);
  }
  const tightened = await makeFolderPrivate(paths);
  const store = await openStore(paths.store);
  try {
    const [nameRes, pubRes, fileRes, agentRes] = await store.kv.getMany<unknown[]>([
      keys.setting("name"),
      keys.setting("publicKey"),
      keys.setting("keyFile"),
      keys.setting("keyInAgent"),
    ]);
    const pub = pubRes!.value;
    if (agentRes!.value === true) {
      if (!(pub instanceof Uint8Array)) {
        throw new RojError("store_corrupt", "the store's public key is damaged");
      }
      const name = typeof nameRes!.value === "string" ? nameRes!.value : "me";
      const id = await openAgentIdentity(agent, pub, name);
      return {
        paths,
        keyPair: id.keyPair,
        keyInAgent: true,
        agent: id.signer,
        ...(id.pending ? { agentPending: id.pending } : {}),
        name,
        store,
        tightened: [...tightened, ...store.tightened],
      };
    }
    const keyFile = fileRes!.value;
    if (keyFile !== null && typeof keyFile !== "string") {
      throw new RojError("store_corrupt", "the store's key location is damaged");
    }
    const keyPath = keyFile ?? paths.key;
    let keyPair = await decodeAsking(await readKeyFile(keyPath), keyPath, ask);
    if (keyFile === null && pub instanceof Uint8Array && !bytesEqual(pub, keyPair.publicKey)) {
      keyPair = await finishGoingOffline(paths, pub, nameOr(nameRes!.value), ask) ?? keyPair;
    }
    if (pub !== null && !(pub instanceof Uint8Array && bytesEqual(pub, keyPair.publicKey))) {
      throw new RojError(
        "key_malformed",
        `${keyPath} is not the key this data folder was created with`,
      );
    }
    const name = typeof nameRes!.value === "string" ? nameRes!.value : keyPair.comment || "me";
    return {
      paths,
      keyPair,
      keyInAgent: false,
      name,
      store,
      tightened: [...tightened, ...store.tightened],
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

const nameOr = (v: unknown) => typeof v === "string" ? v : "me";

/**
 * `roj key export --remove` stopped after recording the device key in the
 * store but before it replaced the person key (node/linking/go_offline.ts):
 * the step is done here, so the folder starts as the device it became.
 * Undefined when the waiting key is not the one the store names.
 */
async function finishGoingOffline(
  paths: DataPaths,
  pub: Uint8Array,
  name: string,
  ask: AskPassphrase | undefined,
): Promise<KeyPair | undefined> {
  const waiting = `${paths.key}.device`;
  if (!await exists(waiting)) return undefined;
  const kp = await decodeAsking(await readKeyFile(waiting), waiting, ask);
  if (!bytesEqual(kp.publicKey, pub)) return undefined;
  await Deno.rename(waiting, paths.key);
  await Deno.writeTextFile(`${paths.publicKey}.tmp`, publicKeyLine(pub, name) + "\n", {
    mode: 0o644,
  });
  await Deno.rename(`${paths.publicKey}.tmp`, paths.publicKey);
  return kp;
}

/** The agent's key that init should use, if it should use one (see InitOptions.agent). */
async function agentKeyFor(
  options: InitOptions,
): Promise<{ socket: string; publicKey: Uint8Array; comment: string } | undefined> {
  const agent = options.agent;
  // Without --agent, only a --key that the agent holds is taken from it.
  if (!agent || (!agent.required && !options.adoptKey)) return undefined;
  let want: Uint8Array | undefined;
  if (options.adoptKey) {
    const text = await readKeyFile(options.adoptKey);
    want = publicKeyOfFile(text);
  }
  try {
    const key = await findAgentKey(agent.socket, want);
    return { socket: agent.socket, publicKey: key.publicKey!, comment: key.comment };
  } catch (err) {
    // --key with SSH_AUTH_SOCK set: a key the agent does not hold is adopted as a file.
    if (!agent.required && want !== undefined) return undefined;
    throw err;
  }
}
