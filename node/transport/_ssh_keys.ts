/**
 * The node's key as ssh2 takes it, signing through a {@linkcode SyncSigner}
 * (a key file's native key, or ssh-agent) so that no PEM of the private key
 * is ever made for ssh2.
 *
 * ssh2 (1.17, lib/) has two ways to sign, and we use each where it fits:
 *
 * - Host key (server): `new Server({ hostKeys })` takes only PEM text or an
 *   object its `parseKey` recognises as already parsed (it carries a private
 *   symbol), and the key exchange (protocol/kex.js) calls `hostKey.sign(H)`
 *   and writes the result into the KEX reply in the same call: there is no
 *   asynchronous path. So the host key is ssh2's own parsed *public* key
 *   (which has the symbol) as the prototype of an object whose `sign` is the
 *   signer's `signSync`, and whose `getPrivatePEM` is non-null only because
 *   the server refuses keys without one (nothing else reads it).
 * - User authentication (client): `Client.connect({ agent })` takes any
 *   `BaseAgent`, whose `sign(key, data, options, cb)` answers by callback, so
 *   the client signs asynchronously, never blocking the thread.
 *
 * A failed signature reaches ssh2 as an Error, which fails that handshake
 * alone (the server's KEX, the client's authentication).
 */
// @ts-types="./ssh2.d.ts"
import ssh2 from "ssh2";
import { Buffer } from "node:buffer";
import { publicKeyLine, type SyncSigner } from "../identity/mod.ts";

/** ssh2's parsed-key object for the host key of `signer`. */
export function hostKeyOf(signer: SyncSigner): unknown {
  const parsed = ssh2.utils.parseKey(publicKeyLine(signer.publicKey));
  if (parsed instanceof Error) throw parsed;
  return Object.create(parsed, {
    getPrivatePEM: { value: () => "(held by the signer)" },
    isPrivateKey: { value: () => true },
    sign: {
      value: (data: Uint8Array): Buffer | Error => {
        try {
          return Buffer.from(signer.signSync(data));
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      },
    },
  });
}

/** The last error of an agent's signature, so the dialler can say why it could not log in. */
export interface ClientKey {
  /** For `Client.connect({ agent })`. */
  readonly agent: unknown;
  /** Set when a signature failed. */
  readonly failure: () => Error | undefined;
}

/** Each signer's public key as ssh2 parsed it: parsed once, not at every dial. */
const parsedKeys = new WeakMap<SyncSigner, unknown>();

/** An ssh2 agent offering `signer`'s key alone, for the client's publickey authentication. */
export function clientKeyOf(signer: SyncSigner): ClientKey {
  const key = parsedKeys.get(signer) ?? ssh2.utils.parseKey(publicKeyLine(signer.publicKey));
  if (key instanceof Error) throw key;
  parsedKeys.set(signer, key);
  let failure: Error | undefined;
  const agent = new (class extends ssh2.BaseAgent {
    getIdentities(cb: (err: Error | null, keys?: unknown[]) => void) {
      cb(null, [key]);
    }
    sign(
      _key: unknown,
      data: Uint8Array,
      options: unknown,
      cb?: (err: Error | null, sig?: Buffer) => void,
    ) {
      const done = typeof options === "function" ? options as typeof cb : cb;
      signer.sign(data).then(
        (sig) => done?.(null, Buffer.from(sig)),
        (err) => {
          failure = err instanceof Error ? err : new Error(String(err));
          done?.(failure);
        },
      );
    }
  })();
  return { agent, failure: () => failure };
}
