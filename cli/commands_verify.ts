/**
 * `roj verify <contact>`: the safety number of your key and the contact's,
 * the same 60 digits on both sides, to read to each other in person or over a
 * call you trust (or scan with --qr). `--mark` once they matched; `roj
 * contacts` then shows the contact as verified until either key changes.
 */
import type { Command } from "commander";
import { jsonLine, RojError, type VerifyView } from "../node/mod.ts";
import { qrText, withControl } from "./commands_node.ts";
import { escapeControl } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";

interface VerifyOpts {
  data?: string;
  json?: boolean;
  mark?: boolean;
  unmark?: boolean;
  qr?: boolean;
}

/** The number in three rows of four groups, and what to do next. */
export function verifyText(v: VerifyView): string {
  const name = escapeControl(v.name);
  const rows = [0, 4, 8].map((i) => `  ${v.groups.slice(i, i + 4).join(" ")}`);
  const state = v.verified
    ? `verified${
      v.verifiedAt !== null ? ` (marked ${new Date(v.verifiedAt).toISOString().slice(0, 10)})` : ""
    }`
    : `not verified: compare these digits with ${name} in person or on a call you trust;` +
      ` if every one matches, run \`roj verify ${name} --mark\``;
  return `safety number with ${name} (${v.fingerprint}):\n${rows.join("\n")}\n` +
    `your fingerprint: ${v.myFingerprint}\n${state}\n`;
}

/** Adds `roj verify` to `program`. */
export function addVerifyCommands(program: Command, io: CliIo): void {
  program.command("verify")
    .summary("show the safety number to compare with a contact; --mark once it matched")
    .description(
      "show the safety number of your key and a contact's: 60 digits that both of you see alike." +
        " Compare them in person or on a call you trust; if they match, mark the contact verified" +
        " with --mark (a changed key drops the mark)",
    )
    .argument("<contact>", "the contact's name")
    .addOption(dataOption())
    .option("--mark", "mark the contact verified (after comparing the digits)")
    .option("--unmark", "take the verified mark back")
    .option("--qr", "also print the number as a QR code (for a dark terminal background)")
    .option("--json", "print as JSON: name, fingerprint, myFingerprint, number, groups, verified")
    .action((name: string, opts: VerifyOpts) =>
      withControl(opts, async (client) => {
        if (opts.mark && opts.unmark) {
          throw new RojError("bad_input", "--mark and --unmark exclude each other");
        }
        const v = opts.mark || opts.unmark
          ? await client.call("verify.mark", { name, verified: !opts.unmark })
          : await client.call("verify", { name });
        if (opts.json) {
          io.out(jsonLine(v) + "\n");
          return;
        }
        if (opts.mark) io.out(`marked ${escapeControl(v.name)} as verified\n`);
        if (opts.unmark) io.out(`${escapeControl(v.name)} is no longer marked verified\n`);
        io.out(verifyText(v));
        if (opts.qr) io.out(`\n${qrText(v.number)}\n`);
      })
    );
}
