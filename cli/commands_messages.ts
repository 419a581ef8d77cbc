/**
 * `roj edit`, `roj delete`, `roj react`, `roj receipts`, `roj typing`: what
 * a person does to messages already sent, and whether their node tells
 * contacts what they read. A message is named by the id `roj read` shows
 * (or any longer prefix of the `hash` in `roj read --json`). Replies go with
 * `roj send <chat> --reply <id> <text>`. Each talks to the running node
 * over its control socket.
 */
import type { Command } from "commander";
import { jsonLine, type MessageView, type ReceiptsView, RojError } from "../node/mod.ts";
import { escapeControl, messageLine } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { withControl } from "./commands_node.ts";
import { parseMessageId } from "./message_id.ts";

interface JsonOpts {
  data?: string;
  json?: boolean;
}

const json = (value: unknown) => jsonLine(value) + "\n";

function receiptsText(r: ReceiptsView): string {
  const off = r.offFor.length > 0 ? `; off for ${r.offFor.map(escapeControl).join(", ")}` : "";
  return `read receipts are ${r.on ? "on" : "off for everyone"}${r.on ? off : ""}\n`;
}

/** Adds the message commands to `program`. */
export function addMessageCommands(program: Command, io: CliIo): void {
  const printed = (opts: JsonOpts, m: MessageView, say: string) =>
    io.out(opts.json ? json(m) : `${say}\n${messageLine(m)}\n`);

  program.command("edit")
    .description("change the text of one of your messages; the others see it marked edited")
    .argument("<chat>", "chat name")
    .argument("<id>", "the message's id, as `roj read` shows it")
    .argument("<text>", "the new text")
    .addOption(dataOption())
    .option("--json", "print the message as JSON")
    .action((chat: string, id: string, text: string, opts: JsonOpts) => {
      if (text.trim() === "") throw new RojError("bad_input", "the new text is empty");
      const msg = parseMessageId(id);
      return withControl(opts, async (client) => {
        printed(opts, await client.call("edit", { chat, id: msg, text }), "edited");
      });
    });

  program.command("delete")
    .description(
      "delete one of your messages for everyone: each member's node hides it" +
        " (copies made before, such as exports, may remain)",
    )
    .argument("<chat>", "chat name")
    .argument("<id>", "the message's id, as `roj read` shows it")
    .addOption(dataOption())
    .option("--json", "print the message as JSON")
    .action((chat: string, id: string, opts: JsonOpts) => {
      const msg = parseMessageId(id);
      return withControl(opts, async (client) => {
        const m = await client.call("delete", { chat, id: msg });
        printed(
          opts,
          m,
          "deleted for everyone: their nodes hide it once they get this (copies made before may remain)",
        );
      });
    });

  program.command("react")
    .description("react to a message with one emoji (one per person: a new one replaces yours)")
    .argument("<chat>", "chat name")
    .argument("<id>", "the message's id, as `roj read` shows it")
    .argument("[emoji]", "one emoji, like 👍")
    .addOption(dataOption())
    .option("--remove", "take your reaction back")
    .option("--json", "print the message as JSON")
    .action(
      (chat: string, id: string, emoji: string | undefined, o: JsonOpts & { remove?: boolean }) => {
        if (!o.remove && (emoji === undefined || emoji.trim() === "")) {
          throw new RojError("bad_input", "give one emoji, like 👍, or --remove");
        }
        const msg = parseMessageId(id);
        return withControl(o, async (client) => {
          const m = await client.call("react", {
            chat,
            id: msg,
            emoji: o.remove ? "" : emoji!.trim(),
          });
          printed(o, m, o.remove ? "reaction removed" : "reacted");
        });
      },
    );

  program.command("receipts")
    .summary("read receipts: show, or turn on or off for everyone or one contact")
    .description(
      "read receipts tell a contact you read their messages, and show you when they read yours." +
        " Off (for everyone or one contact) means none are sent to them and none of theirs are shown",
    )
    .argument("[state]", "on or off (without it: show the setting)")
    .argument("[contact]", "only for this contact")
    .addOption(dataOption())
    .option("--json", "print the setting as JSON: on, offFor")
    .action((state: string | undefined, contact: string | undefined, opts: JsonOpts) => {
      if (state !== undefined && state !== "on" && state !== "off") {
        throw new RojError("bad_input", `say on or off, not ${JSON.stringify(state.slice(0, 20))}`);
      }
      return withControl(opts, async (client) => {
        const r = await client.call("receipts", {
          ...(state !== undefined ? { on: state === "on" } : {}),
          ...(contact !== undefined ? { contact } : {}),
        });
        io.out(opts.json ? json(r) : receiptsText(r));
      });
    });

  program.command("typing")
    .description("tell a contact you are typing (if they are online; at most every few seconds)")
    .argument("<chat>", "the contact's chat")
    .addOption(dataOption())
    .option("--json", "print the result as JSON: sent")
    .action((chat: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const r = await client.call("typing", { chat });
        io.out(opts.json ? json(r) : r.sent ? "sent\n" : "not sent (offline, or sent just now)\n");
      })
    );
}
