/**
 * Which cipher an SSH connection to a node gets. chacha20-poly1305@openssh.com
 * is offered by no node: under Deno, ssh2's chacha20 leaks native memory with
 * every packet (see CIPHERS in ssh.ts), so a client that prefers it, as
 * OpenSSH does, must get AES-GCM, and a client that offers nothing else must
 * be refused, not served.
 */
import assert from "node:assert/strict";
// @ts-types="./ssh2.d.ts"
import ssh2 from "ssh2";
import { encodePrivateKey, generateKeyPair } from "../identity/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { CIPHERS, listenSsh } from "./ssh.ts";

/** The ciphers negotiated for a raw ssh2 client offering `ciphers`, or the handshake's error. */
async function negotiate(ciphers: string[]): Promise<{ cs: string; sc: string } | Error> {
  const server = await generateKeyPair("server");
  const client = await generateKeyPair("client");
  const ssh = await listenSsh({
    keyPair: server,
    host: "127.0.0.1",
    port: 0,
    authorize: (_u, key) => bytesEqual(key, client.publicKey),
    onRoj: (_peer, pipe) => pipe.close(),
  });
  const c = new ssh2.Client();
  try {
    return await new Promise((resolve) => {
      c.on(
        "handshake",
        (n: { cs: { cipher: string }; sc: { cipher: string } }) =>
          resolve({ cs: n.cs.cipher, sc: n.sc.cipher }),
      );
      c.on("error", (err: Error) => resolve(err));
      encodePrivateKey(client).then((privateKey) =>
        c.connect({
          host: "127.0.0.1",
          port: ssh.address.port,
          username: "roj",
          privateKey,
          algorithms: { cipher: ciphers },
          hostVerifier: () => true,
        })
      );
    });
  } finally {
    c.end();
    await ssh.close();
  }
}

Deno.test("a client that prefers chacha20-poly1305, as OpenSSH does, gets AES-GCM", async () => {
  const got = await negotiate(["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"]);
  assert.deepEqual(got, { cs: "aes128-gcm@openssh.com", sc: "aes128-gcm@openssh.com" });
});

Deno.test("a client that offers only chacha20-poly1305 is refused", async () => {
  const got = await negotiate(["chacha20-poly1305@openssh.com"]);
  assert.ok(got instanceof Error, `negotiated ${JSON.stringify(got)}`);
});

Deno.test("no node offers chacha20-poly1305", () => {
  assert.ok(!CIPHERS.some((c) => c.startsWith("chacha20")), CIPHERS.join(", "));
});
