/**
 * `roj search "<words>"`: full-text search over every chat the running node
 * holds (group messages as decrypted on this node), best matches first, each
 * with its context. `roj chat mute|pin|archive <chat>` (and un…): a chat's
 * settings on this node: muted chats raise no notification in the admin,
 * pinned ones are listed first, archived ones are left out of the chat list.
 */
import type { Command } from "commander";
import { jsonLine, RojError, type SearchHitView } from "../node/mod.ts";
import { withControl } from "./commands_node.ts";
import { escapeControl, shortTime, table } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption, parsePositive } from "./options.ts";

interface SearchOpts {
  data?: string;
  json?: boolean;
  chat?: string;
  limit?: string;
}

/** One hit per line: chat, time, author, the context with matched words in [brackets]. */
export function hitLines(hits: readonly SearchHitView[]): string[] {
  return table(hits.map((h) => [
    escapeControl(h.chat),
    shortTime(h.ts),
    `${h.mine ? "you" : escapeControl(h.author)}:`,
    escapeControl(h.snippet.map((p) => (p.hit ? `[${p.text}]` : p.text)).join("")),
  ]));
}

const SETTINGS = {
  mute: { muted: true },
  unmute: { muted: false },
  pin: { pinned: true },
  unpin: { pinned: false },
  archive: { archived: true },
  unarchive: { archived: false },
} as const;

/** Adds `roj search` and `roj chat` to `program`. */
export function addSearchCommands(program: Command, io: CliIo): void {
  program.command("search")
    .description(
      "search every chat for messages with all these words (the last may be the start of a word)",
    )
    .argument("<words>", 'what to look for, e.g. "rope" or "red rop"')
    .addOption(dataOption())
    .option("--chat <chat>", "only this chat")
    .option("--limit <n>", "at most this many hits (1-100, default 20)")
    .option("--json", "print as JSON: query, hits (chat, hash, seq, author, ts, snippet), total")
    .action((words: string, opts: SearchOpts) =>
      withControl(opts, async (client) => {
        if (words.trim() === "") throw new RojError("bad_input", "say what to search for");
        const r = await client.call("search", {
          query: words,
          ...(opts.chat !== undefined ? { chat: opts.chat } : {}),
          ...(opts.limit !== undefined ? { limit: parsePositive(opts.limit, 100) } : {}),
        });
        if (opts.json) {
          io.out(jsonLine(r) + "\n");
          return;
        }
        if (!r.ready) io.err("the index is still being rebuilt: some messages may be missing\n");
        if (r.hits.length === 0) {
          io.out(`no messages with ${JSON.stringify(escapeControl(words))}\n`);
          return;
        }
        io.out(hitLines(r.hits).join("\n") + "\n");
        if (r.total > r.hits.length) io.out(`(${r.hits.length} of ${r.total}; --limit for more)\n`);
      })
    );

  program.command("chat")
    .description(
      "change a chat's settings on this node: mute (no notifications), pin (listed first)," +
        " archive (left out of the chat list), and unmute, unpin, unarchive",
    )
    .argument("<setting>", Object.keys(SETTINGS).join("|"))
    .argument("<chat>", "chat name")
    .addOption(dataOption())
    .option("--json", "print the chat's settings as JSON")
    .action((setting: string, chat: string, opts: { data?: string; json?: boolean }) => {
      if (!Object.hasOwn(SETTINGS, setting)) {
        throw new RojError(
          "bad_input",
          `expected one of ${Object.keys(SETTINGS).join(", ")}, got ${
            JSON.stringify(setting.slice(0, 40))
          }`,
        );
      }
      return withControl(opts, async (client) => {
        const p = await client.call("chat.set", {
          chat,
          ...SETTINGS[setting as keyof typeof SETTINGS],
        });
        if (opts.json) {
          io.out(jsonLine(p) + "\n");
          return;
        }
        const on = [p.muted && "muted", p.pinned && "pinned", p.archived && "archived"]
          .filter(Boolean);
        io.out(`${escapeControl(p.chat)}: ${on.length ? on.join(", ") : "no settings"}\n`);
      });
    });
}
