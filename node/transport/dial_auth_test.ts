/**
 * How many user-authentication round trips a dial costs: our key's query and
 * its signed attempt, and no "none" first (ssh2's default, which every roj
 * peer refuses: a round trip lost per session, 40 ms on a WAN).
 */
import assert from "node:assert/strict";
import ssh2 from "ssh2";
import { encodePrivateKey, generateKeyPair } from "../identity/mod.ts";
import { dialSsh } from "./mod.ts";

Deno.test("a dial authenticates with its key straight away: no 'none' attempt", async () => {
  const host = await generateKeyPair("host");
  const me = await generateKeyPair("me");
  const methods: string[] = [];
  const server = new ssh2.Server(
    { hostKeys: [await encodePrivateKey(host)] },
    (client: {
      on(e: string, f: (ctx: never) => void): unknown;
      end(): void;
    }) => {
      client.on("authentication", (ctx: {
        method: string;
        signature?: Uint8Array;
        accept(): void;
        reject(m: string[]): void;
      }) => {
        methods.push(ctx.signature ? `${ctx.method}+signature` : ctx.method);
        if (ctx.method === "publickey") ctx.accept();
        else ctx.reject(["publickey"]);
      });
      client.on("error", () => {});
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.63", r));
  try {
    const port = (server.address() as { port: number }).port;
    const client = await dialSsh({
      keyPair: me,
      to: { host: "127.0.0.63", port },
      expectedKey: host.publicKey,
      expectedName: "host",
    });
    client.close();
    assert.deepEqual(methods, ["publickey", "publickey+signature"]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
