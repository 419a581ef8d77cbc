/**
 * `roj key export`: the person key, out of the data folder on this explicit
 * request only, as a passphrase-protected OpenSSH private key (`ssh-keygen
 * -y -f FILE` reads it). Kept offline, it is needed only to link, renew and
 * remove devices.
 */
import type { Command } from "commander";
import { exportPersonKey, jsonLine, resolveDataDir, RojError } from "../node/mod.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { askPassphrase } from "./passphrase.ts";

/** A new key file's passphrase: asked twice on a terminal, so a typo cannot lock the key away. */
export async function newKeyPassphrase(file: string): Promise<string> {
  const first = await askPassphrase(`new passphrase for ${file}`);
  if (first === "") {
    throw new RojError("bad_input", "the passphrase is empty; an exported key needs one");
  }
  if (Deno.env.get("ROJ_PASSPHRASE") === undefined && Deno.stdin.isTerminal()) {
    if (await askPassphrase("the same passphrase again") !== first) {
      throw new RojError("bad_input", "the two passphrases differ; nothing was written");
    }
  }
  return first;
}

/** Adds `roj key export` to `program`. */
export function addKeyCommands(program: Command, io: CliIo): void {
  const key = program.command("key")
    .description("your person key: export it to keep it offline");
  key.command("export")
    .description(
      "write the person key to a new file as a passphrase-protected OpenSSH private key" +
        " (ssh-keygen reads it; the passphrase is asked for, or $ROJ_PASSPHRASE);" +
        " an existing file is never replaced",
    )
    .addOption(dataOption())
    .requiredOption("--out <file>", "the new key file (made 0600)")
    .option("--json", "print what was written as JSON: file, fingerprint")
    .action(async (opts: { data?: string; out: string; json?: boolean }) => {
      const dir = resolveDataDir(opts.data);
      const r = await exportPersonKey(dir, {
        out: opts.out,
        passphrase: () => newKeyPassphrase(opts.out),
        ask: askPassphrase,
      });
      io.out(
        opts.json ? jsonLine(r) + "\n" : `exported the person key ${r.fingerprint} to ${r.file}\n` +
          "keep it and its passphrase safe: whoever has both can link devices as you\n",
      );
    });
}
