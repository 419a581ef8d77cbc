/**
 * A Roj node: one identity, its store and its chats. Wires the parts; holds no
 * module-level state, so several nodes can live in one process.
 */
import { RojError } from "./errors.ts";
import { type AskPassphrase, openProfile, type Profile } from "./home/mod.ts";
import {
  createSigner,
  createVerifier,
  fingerprint,
  publicKeyLine,
  type Signer,
} from "./identity/mod.ts";
import { ChatLog, type Entry, notesChatId } from "./log/mod.ts";

export interface NodeOptions {
  /** The data folder, already resolved (see home/resolveDataDir). */
  dataDir: string;
  /** Asked when the key is protected by a passphrase. */
  ask?: AskPassphrase;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/** How a chat is named on the command line and in the admin. */
export interface ChatRef {
  readonly id: string;
  readonly kind: "notes";
  readonly name: string;
}

export class RojNode {
  readonly profile: Profile;
  readonly signer: Signer;
  readonly log: ChatLog;

  private constructor(profile: Profile, signer: Signer, log: ChatLog) {
    this.profile = profile;
    this.signer = signer;
    this.log = log;
  }

  /** Opens the node in an initialised data folder. @throws {RojError} */
  static async open(options: NodeOptions): Promise<RojNode> {
    const profile = await openProfile(options.dataDir, options.ask);
    try {
      const signer = await createSigner(profile.keyPair);
      const log = new ChatLog(profile.store, {
        verifier: createVerifier(),
        ...(options.now ? { now: options.now } : {}),
      });
      return new RojNode(profile, signer, log);
    } catch (err) {
      profile.store.close();
      throw err;
    }
  }

  get publicKey(): Uint8Array {
    return this.profile.keyPair.publicKey;
  }

  get name(): string {
    return this.profile.name;
  }

  /** The key as an OpenSSH public key line, with the name as comment. */
  get keyLine(): string {
    return publicKeyLine(this.publicKey, this.name);
  }

  get fingerprint(): string {
    return fingerprint(this.publicKey);
  }

  /** Finds a chat by the name a person types. @throws {RojError} not_found */
  chat(name: string): ChatRef {
    if (name === "notes") return { id: notesChatId(this.publicKey), kind: "notes", name: "notes" };
    throw new RojError("not_found", `no chat called ${JSON.stringify(name.slice(0, 60))}`);
  }

  /** Adds a note to self. Resolves once it is committed. */
  note(text: string): Promise<Entry> {
    if (text.trim() === "") throw new RojError("bad_input", "the note is empty");
    return this.log.append(this.chat("notes").id, this.signer, "msg", text);
  }

  /** A chat's entries in display order; the newest `last` with `last`. */
  read(name: string, options: { last?: number } = {}): Promise<Entry[]> {
    return this.log.read(this.chat(name).id, options);
  }

  close(): void {
    this.profile.store.close();
  }
}
