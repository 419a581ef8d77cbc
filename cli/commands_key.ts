/**
 * `roj key export`: the person key, out of the data folder on this explicit
 * request only, as a passphrase-protected OpenSSH private key (`ssh-keygen
 * -y -f FILE` reads it). Kept offline, it is needed only to link, renew and
 * remove devices.
 */
import type { Command } from "commander";
import {
  escapeControl,
  exportPersonKey,
  goOffline,
  jsonLine,
  resolveDataDir,
  RojError,
} from "../node/mod.ts";
import { shortTime } from "./format.ts";
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

/**
 * A test that kills `roj key export --remove` at a step sets
 * $ROJ_TEST_OFFLINE_HOLD to it: after that step the command prints the JSON
 * line `{"type":"offline","step":…}` on stderr and waits there for good
 * (unset outside tests: the tasks pass --ignore-env).
 */
function offlineHold(): { onStep?: (step: string) => Promise<void> } {
  let hold: string | undefined;
  try {
    hold = Deno.env.get("ROJ_TEST_OFFLINE_HOLD");
  } catch {
    return {};
  }
  if (hold === undefined) return {};
  return {
    onStep: (step) => {
      if (step !== hold) return Promise.resolve();
      Deno.stderr.writeSync(
        new TextEncoder().encode(`${JSON.stringify({ type: "offline", step })}\n`),
      );
      return new Promise(() => setInterval(() => {}, 60_000));
    },
  };
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
    .option(
      "--remove",
      "then keep the person key only there: this node makes itself a device key, certified by" +
        " the person key, and runs on it from its next start like any linked device (stop the" +
        " node first); linking and removing devices then need `--key FILE`",
    )
    .option("--name <name>", "with --remove: this node's device name (default device-XXXX)")
    .option("--json", "print what was written as JSON: file, fingerprint (and the device)")
    .action(
      async (
        opts: { data?: string; out: string; remove?: boolean; name?: string; json?: boolean },
      ) => {
        const dir = resolveDataDir(opts.data);
        const common = {
          out: opts.out,
          passphrase: () => newKeyPassphrase(opts.out),
          ask: askPassphrase,
        };
        if (opts.name !== undefined && !opts.remove) {
          throw new RojError("usage", "--name names this node as a device: it goes with --remove");
        }
        if (opts.remove) {
          const r = await goOffline(dir, {
            ...common,
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...offlineHold(),
          });
          return io.out(
            opts.json
              ? jsonLine(r) + "\n"
              : `exported the person key ${r.fingerprint} to ${r.file} and removed it from ${dir}\n` +
                `this node is now device ${escapeControl(r.device)} (${r.deviceFingerprint}),` +
                ` certified until ${shortTime(r.validUntil)}\n` +
                "link or remove devices with --key " + opts.out +
                "; keep it and its passphrase safe\n",
          );
        }
        const r = await exportPersonKey(dir, common);
        io.out(
          opts.json
            ? jsonLine(r) + "\n"
            : `exported the person key ${r.fingerprint} to ${r.file}\n` +
              "keep it and its passphrase safe: whoever has both can link devices as you\n",
        );
      },
    );
}
