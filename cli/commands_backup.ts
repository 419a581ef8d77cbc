/**
 * `roj backup` and `roj restore`: an encrypted, consistent snapshot of a data
 * folder (while its node runs, or not), and bringing one back into a new
 * folder. The passphrase comes from $ROJ_PASSPHRASE or is asked for (twice
 * for a new backup, on a terminal). The work is node/backup's.
 */
import type { Command } from "commander";
import { jsonLine, resolveDataDir, restoreBackup, RojError, writeBackup } from "../node/mod.ts";
import { askPassphrase } from "./passphrase.ts";
import { formatBytes } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";

/** A new backup's passphrase: asked twice on a terminal, so a typo cannot lock the backup. */
async function newPassphrase(): Promise<string> {
  const first = await askPassphrase("passphrase for the backup");
  if (first === "") throw new RojError("bad_input", "the backup's passphrase is empty");
  if (Deno.env.get("ROJ_PASSPHRASE") === undefined && Deno.stdin.isTerminal()) {
    if (await askPassphrase("the same passphrase again") !== first) {
      throw new RojError("bad_input", "the two passphrases differ; nothing was written");
    }
  }
  return first;
}

/** Adds `roj backup` and `roj restore` to `program`. */
export function addBackupCommands(program: Command, io: CliIo): void {
  program.command("backup")
    .summary("write an encrypted snapshot of the data folder (while the node runs, too)")
    .description(
      "write an encrypted, consistent snapshot of the data folder: key, public key and store" +
        " (an adopted key stays where it is and is not in it). The file is age-encrypted with a" +
        " passphrase ($ROJ_PASSPHRASE, or asked for); `age -d` and `tar` open it too",
    )
    .addOption(dataOption())
    .requiredOption("--out <file>", "the backup file to write (must not exist)")
    .option("--json", "print the result as JSON: file, bytes, created, fingerprint, files")
    .action(async (opts: { data?: string; out: string; json?: boolean }) => {
      const dir = resolveDataDir(opts.data);
      const r = await writeBackup({
        dataDir: dir,
        out: opts.out,
        passphrase: await newPassphrase(),
      });
      if (opts.json) {
        io.out(jsonLine({ file: r.out, bytes: r.bytes, ...r.manifest }) + "\n");
        return;
      }
      io.out(
        `wrote ${r.out} (${formatBytes(r.bytes)}): ${r.manifest.fingerprint}, ` +
          `${r.manifest.files.map((f) => f.name).join(", ")}\n`,
      );
      if (r.manifest.keyFile) {
        io.out(
          `the key is not in it: it stays at ${r.manifest.keyFile}; keep a copy of that too\n`,
        );
      }
    });

  program.command("restore")
    .summary("bring a backup back into a new data folder")
    .description(
      "restore a backup made by `roj backup` into a new or empty data folder; then `roj run`" +
        " there, and the node finds its contacts again. A non-empty folder, a wrong passphrase" +
        " or a truncated file is refused, and nothing is changed",
    )
    .argument("<file>", "the backup file")
    .addOption(dataOption())
    .option("--json", "print the result as JSON: dataDir, created, fingerprint, files")
    .action(async (file: string, opts: { data?: string; json?: boolean }) => {
      const dir = resolveDataDir(opts.data);
      const r = await restoreBackup({
        file,
        dataDir: dir,
        passphrase: await askPassphrase(`passphrase for ${file}`),
      });
      if (opts.json) {
        io.out(jsonLine({ dataDir: r.dataDir, ...r.manifest }) + "\n");
        return;
      }
      io.out(
        `restored ${r.manifest.fingerprint} from ${new Date(r.manifest.created).toISOString()}` +
          ` into ${r.dataDir}; start it with \`roj run --data ${r.dataDir}\`\n`,
      );
      if (r.manifest.keyFile) io.out(`its key is expected at ${r.manifest.keyFile}\n`);
    });
}
