/**
 * An identity whose key stays in ssh-agent (`roj init --agent`): the data
 * folder holds its public key only, and every signature is the agent's.
 *
 * An agent signs; it does not do key agreement. The X25519 secret that
 * sealing and pairwise tags use is, for such a node, derived from the
 * agent's signature of a fixed label (identity/agent_signer.ts
 * agreementSeed) and held in memory only; its public half is not the X25519
 * form of our ed25519 key, so the node publishes it in its hello (`agree`)
 * and contacts seal to it (contacts/agreeKeys; README, "Keys in ssh-agent").
 */
import { RojError } from "../errors.ts";
import {
  type AgentKey,
  type AgentSigner,
  type AgentState,
  agreementSeed,
  checkKeyType,
  chooseAgentKey,
  createAgentSigner,
  type KeyPair,
  listAgentKeys,
  parsePublicKeyBlob,
  parsePublicKeyLine,
  publicKeyOfKeyFile,
} from "../identity/mod.ts";

/** Where the agent is, and who hears when it goes and comes back. */
export interface AgentAccess {
  /** The agent's socket ($SSH_AUTH_SOCK). */
  readonly socket: string;
  /** Hears each change of the agent's state (node/events: "agent"). @default none */
  readonly onChange?: (state: AgentState) => void;
  /**
   * Open even when the agent cannot sign now (`roj run`): the identity then
   * waits for it (AgentIdentity.pending). @default refuse with agent_unavailable
   */
  readonly absentOk?: boolean;
}

/** A key found in the agent, with its signer and the key pair of its key agreement. */
export interface AgentIdentity {
  readonly signer: AgentSigner;
  /**
   * publicKey: the identity's; seed: the agreement seed, not a signing key.
   * While `pending`, reading the seed throws agent_unavailable.
   */
  readonly keyPair: KeyPair;
  /**
   * Opened while the agent could not sign: derives the agreement seed once it
   * can (the node calls it when the agent is back). @throws {RojError} agent_unavailable
   */
  readonly pending?: () => Promise<void>;
}

/**
 * The public key and type named by a key file given with --key: a private
 * key file (read without its passphrase: its public part is in the clear) or
 * a public key line (`id_ed25519.pub`).
 * @throws {RojError} key_unsupported for a FIDO key; key_malformed, bad_input
 */
export function publicKeyOfFile(text: string): Uint8Array {
  if (/^-----BEGIN /.test(text.trim())) return publicKeyOfKeyFile(text);
  const type = text.trim().split(/\s+/, 1)[0] ?? "";
  checkKeyType(type);
  return parsePublicKeyLine(text).publicKey;
}

/**
 * The ed25519 key to use in the agent at `socket`: `want`, or its only one.
 * @throws {RojError} agent_unavailable; not_found; key_unsupported (FIDO); bad_input (several)
 */
export async function findAgentKey(socket: string, want?: Uint8Array): Promise<AgentKey> {
  return chooseAgentKey(await listAgentKeys(socket), want);
}

/**
 * The signer and agreement key pair of `publicKey`, held by the agent.
 * @throws {RojError} agent_unavailable when there is no agent or it lacks the
 * key; key_unsupported when its signatures are not deterministic.
 */
export async function openAgentIdentity(
  access: AgentAccess | undefined,
  publicKey: Uint8Array,
  comment: string,
): Promise<AgentIdentity> {
  try {
    return await openPresent(access, publicKey, comment);
  } catch (err) {
    if (!access?.absentOk || !(err instanceof RojError && err.code === "agent_unavailable")) {
      throw err;
    }
    return await openAbsent(access, publicKey, comment, err.message);
  }
}

async function openPresent(
  access: AgentAccess | undefined,
  publicKey: Uint8Array,
  comment: string,
): Promise<AgentIdentity> {
  if (access === undefined) {
    throw new RojError(
      "agent_unavailable",
      "this identity's key is in ssh-agent, and SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add the key",
    );
  }
  const key = await findAgentKey(access.socket, publicKey).catch((err) => {
    if (err instanceof RojError && err.code === "not_found") {
      throw new RojError(
        "agent_unavailable",
        `the ssh-agent at ${access.socket} does not hold this identity's key: ssh-add it`,
        { cause: err },
      );
    }
    throw err;
  });
  const signer = await createAgentSigner({
    socket: access.socket,
    publicKey: parsePublicKeyBlob(key.blob),
    ...(access.onChange ? { onChange: access.onChange } : {}),
  });
  try {
    const seed = await agreementSeed(signer);
    return { signer, keyPair: { publicKey: signer.publicKey, seed, comment } };
  } catch (err) {
    signer.close();
    throw err;
  }
}

/**
 * The identity while the agent cannot sign: a signer that says so (and comes
 * back by itself once the agent answers), and a key pair whose agreement seed
 * is made by `pending` once it can be.
 */
async function openAbsent(
  access: AgentAccess,
  publicKey: Uint8Array,
  comment: string,
  reason: string,
): Promise<AgentIdentity> {
  const signer = await createAgentSigner({
    socket: access.socket,
    publicKey,
    unavailable: reason,
    ...(access.onChange ? { onChange: access.onChange } : {}),
  });
  let seed: Uint8Array | undefined;
  const keyPair: KeyPair = {
    publicKey: signer.publicKey,
    comment,
    get seed(): Uint8Array {
      if (seed) return seed;
      throw new RojError(
        "agent_unavailable",
        "the key agreement waits for ssh-agent (it comes from the agent's signature): ssh-add the key",
        { retryable: true },
      );
    },
  };
  return {
    signer,
    keyPair,
    pending: async () => {
      seed ??= await agreementSeed(signer);
    },
  };
}
