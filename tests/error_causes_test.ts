/**
 * Parsers that turn a low-level failure into a RojError keep that failure as
 * the `cause` (shown with ROJ_DEBUG=1), instead of dropping why they failed.
 */
import assert from "node:assert/strict";
import { isRojError, type RojErrorCode } from "../node/errors.ts";
import { parseInvite } from "../node/contacts/mod.ts";
import { parsePublicKeyLine } from "../node/identity/mod.ts";
import { entryFromLine } from "../node/log/mod.ts";
import { openRecord } from "../node/discovery/mod.ts";
import { WireReader, WireWriter } from "../node/wire/mod.ts";
import { check, decodeB64, FrameDecoder } from "../node/protocol/mod.ts";

async function causeOf(code: RojErrorCode, fn: () => unknown): Promise<unknown> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isRojError(caught, code), `expected ${code}, got ${caught}`);
  assert.notEqual(caught.cause, undefined, `${caught.message}: the reason is kept`);
  return caught.cause;
}

const frame = (payload: string) => {
  const bytes = new TextEncoder().encode(payload);
  return new Uint8Array([0, 0, 0, bytes.length, ...bytes]);
};

Deno.test("parsers keep the reason they failed as the cause", async () => {
  assert.ok(
    await causeOf("bad_input", () => parseInvite("roj1:AAAA", Date.now())) instanceof Error,
    "invite",
  );
  await causeOf("bad_input", () => parsePublicKeyLine("ssh-ed25519 !!!notbase64"));
  assert.ok(await causeOf("bad_input", () => entryFromLine("{oops")) instanceof SyntaxError);
  await causeOf("bad_input", () => entryFromLine('{"signed":"!!","sig":"x"}'));
  await causeOf("bad_input", () => entryFromLine("{}"));
  await causeOf("bad_input", () => openRecord(new Uint8Array([0, 0, 0, 1]), new Uint8Array(0)));
  await causeOf(
    "bad_input",
    () => new WireReader(new WireWriter().string(new Uint8Array([0xff])).bytes(), "x").text(),
  );
  await causeOf("bad_input", () => decodeB64("!!"));
  await causeOf("bad_input", () => check("sync.heads", "params", { chat: 7 }));
  assert.ok(
    await causeOf("protocol", () => new FrameDecoder().push(frame("{nope"))) instanceof SyntaxError,
  );
  await causeOf("protocol", () => new FrameDecoder().push(frame('{"t":"hello"}')));
});
