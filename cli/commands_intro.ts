/**
 * Introductions: `roj introduce <a> <b>`, `roj introductions`, `roj accept <id>`,
 * `roj decline <id>`, `roj card <contact>` and `roj import <card>`. Each talks
 * to the running node over its control socket.
 */
import type { Command } from "commander";
import { type IntroductionView, jsonLine } from "../node/mod.ts";
import { parseDuration } from "./duration.ts";
import { escapeControl, shortTime, table } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { qrText, withControl } from "./commands_node.ts";

interface JsonOpts {
  data?: string;
  json?: boolean;
}

const json = (value: unknown) => jsonLine(value) + "\n";

/** `roj introductions`: id, who introduces whom, fingerprint, state, expiry. */
export function introductionLines(list: readonly IntroductionView[]): string[] {
  if (list.length === 0) return ["(no introductions waiting)"];
  return table(list.map((i) => [
    i.id.slice(0, 8),
    `${escapeControl(i.introducer)} introduces ${escapeControl(i.name)}`,
    i.fingerprint,
    i.state === "pending"
      ? "waiting for you"
      : i.state === "queued"
      ? "not sent yet: nobody to pass it on is connected"
      : "you accepted; waiting for them",
    `until ${shortTime(i.expires)}`,
  ]));
}

const expiresOption = [
  "--expires <duration>",
  "how long it stays open, like 24h or 7d; 1m to 30d (default: 7d)",
  (v: string) => parseDuration(v),
] as const;

/** Adds the introduction commands to `program`. */
export function addIntroCommands(program: Command, io: CliIo): void {
  program.command("introduce")
    .description(
      "introduce two of your contacts to each other: each gets a card of the other, signed by you," +
        " and they become contacts only when both accept (neither learns where the other is before)",
    )
    .argument("<a>", "a contact's name")
    .argument("<b>", "another contact's name")
    .addOption(dataOption())
    .option(...expiresOption)
    .option("--json", "print as JSON: id, a, b, expires")
    .action((a: string, b: string, opts: JsonOpts & { expires?: number }) =>
      withControl(opts, async (client) => {
        const made = await client.call("introduce", {
          a,
          b,
          ...(opts.expires !== undefined ? { expiresIn: opts.expires } : {}),
        });
        if (opts.json) return io.out(json(made));
        io.out(
          `introduced ${escapeControl(made.a)} and ${escapeControl(made.b)} (${
            made.id.slice(0, 8)
          }), open until ${shortTime(made.expires)}\n`,
        );
      })
    );

  program.command("introductions")
    .description("introductions waiting: who introduces whom, their fingerprint, until when")
    .addOption(dataOption())
    .option(
      "--json",
      "print as a JSON array of {id, introducer, name, fingerprint, expires, state}",
    )
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const list = await client.call("introductions", {});
        io.out(opts.json ? json(list) : introductionLines(list).join("\n") + "\n");
      })
    );

  program.command("accept")
    .description("accept an introduction: you become contacts once the other accepts too")
    .argument("<id>", "the introduction's id, or its first 4+ hex digits")
    .addOption(dataOption())
    .option("--json", "print the introduction as JSON")
    .action((id: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const i = await client.call("accept", { id: id.trim().toLowerCase() });
        if (opts.json) return io.out(json(i));
        io.out(`accepted: ${escapeControl(i.introducer)} introduces ${escapeControl(i.name)}\n`);
      })
    );

  program.command("decline")
    .description("decline an introduction: only the fact that you declined is kept")
    .argument("<id>", "the introduction's id, or its first 4+ hex digits")
    .addOption(dataOption())
    .option("--json", "print the result as JSON")
    .action((id: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const r = await client.call("decline", { id: id.trim().toLowerCase() });
        io.out(opts.json ? json(r) : `declined ${r.declined.slice(0, 8)}\n`);
      })
    );

  program.command("card")
    .description(
      "a shareable card of a contact, signed by you: whoever you give it to can `roj import` it," +
        " which asks you to introduce them; it names no address. The text is the first line of output",
    )
    .argument("[contact]", "the contact's name (none: your own card, through an anchor you share)")
    .addOption(dataOption())
    .option(...expiresOption)
    .option("--qr", "also print it as a QR code (for a dark terminal background)")
    .option("--json", "print as JSON: text, name, fingerprint, expires")
    .action((name: string | undefined, opts: JsonOpts & { expires?: number; qr?: boolean }) =>
      withControl(opts, async (client) => {
        const card = await client.call("card", {
          ...(name !== undefined ? { name } : {}),
          ...(opts.expires !== undefined ? { expiresIn: opts.expires } : {}),
        });
        if (opts.json) return io.out(json(card));
        io.out(card.text + "\n");
        if (opts.qr) {
          const qr = qrText(card.text);
          if (qr) io.out(`\n${qr}\n`);
        }
        io.err(`a card of ${escapeControl(card.name)}, valid until ${shortTime(card.expires)}\n`);
      })
    );

  program.command("import")
    .description(
      "import a card a contact made (rojcard1:… or rojcard2:…): asks them to introduce you to its person;" +
        " you become contacts once that person accepts",
    )
    .argument("<card>", "the card text")
    .addOption(dataOption())
    .option("--json", "print the introduction as JSON")
    .action((card: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const i = await client.call("card.import", { card: card.trim() });
        if (opts.json) return io.out(json(i));
        io.out(
          `asked ${escapeControl(i.introducer)} to introduce you to ${escapeControl(i.name)} (${
            i.id.slice(0, 8)
          })\n`,
        );
      })
    );
}
