/**
 * The Transport interface (transport.ts) over real SSH: a thin adapter on
 * listenSsh / dialSsh that opens the roj subsystem, one per connection, and
 * closes the connection with it. The node itself still uses ssh.ts directly
 * for what this interface leaves out (SFTP, relay streams, QUIC sockets).
 */
import { fingerprint } from "../identity/mod.ts";
import { closingWith } from "./pipe.ts";
import { dialSsh, formatEndpoint, listenSsh, parseEndpoint } from "./ssh.ts";
import { parseListenAddress, type Transport } from "./transport.ts";

/** SSH on TCP, as the node runs it (user name "roj", the key as host key). */
export const sshTransport: Transport = {
  async listen(spec) {
    const at = parseListenAddress(spec.address);
    const server = await listenSsh({
      keyPair: spec.keyPair,
      host: at.host,
      port: at.port,
      authorize: (username, key) => username === "roj" && spec.authorize(key),
      onRoj: (peer, pipe) =>
        spec.onPipe({
          publicKey: peer.publicKey,
          remote: formatEndpoint(peer.remote),
          pipe: closingWith(pipe, () => peer.close()),
        }),
    });
    return {
      address: formatEndpoint(server.address),
      close: () => server.close(),
    };
  },

  async dial(spec) {
    const client = await dialSsh({
      keyPair: spec.keyPair,
      to: parseEndpoint(spec.address),
      expectedKey: spec.expectedKey,
      expectedName: spec.expectedName ?? fingerprint(spec.expectedKey),
      ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
      ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
      ...(spec.signal !== undefined ? { signal: spec.signal } : {}),
    });
    try {
      const pipe = await client.openRoj();
      return { remoteKey: client.remoteKey, pipe: closingWith(pipe, () => client.close()) };
    } catch (err) {
      client.close();
      throw err;
    }
  },
};
