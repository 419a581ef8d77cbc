/**
 * Commands that talk to the running node over its control socket
 * (`<data>/roj.sock`): send, read, note, chats, contacts, invite, add, status.
 * Each opens one connection, makes its calls and prints.
 */
import type { Command } from "commander";
import { renderUnicodeCompact } from "uqr";
import { checkName, isRojError, jsonLine, resolveDataDir, RojError } from "../node/mod.ts";
import { connectControl, type ControlClient } from "../node/mod.ts";
import type { MessageView } from "../node/mod.ts";
import { arrangeChats } from "../node/mod.ts";
import { parseDuration } from "./duration.ts";
import {
  chatLines,
  contactLines,
  escapeControl,
  forkLine,
  messageLine,
  peerLines,
  progressText,
  shortTime,
  statusLines,
} from "./format.ts";
import { type CliIo, onProcessInterrupt } from "./io.ts";
import { dataOption, parsePositive } from "./options.ts";
import { parseMessageId } from "./message_id.ts";
import { sendFile } from "./commands_files.ts";

/** Most people one invite may admit (the API's bound). */
export const MAX_INVITE_USES = 100;

interface DataOpts {
  data?: string;
}
interface JsonOpts extends DataOpts {
  json?: boolean;
}

/** `--json` output: one line, with no character a terminal acts on left raw (node/text). */
const json = (value: unknown) => jsonLine(value) + "\n";

/** Runs `fn` with a connection to the node in the data folder. @throws {RojError} no_node */
export async function withControl<T>(
  opts: DataOpts,
  fn: (client: ControlClient) => Promise<T>,
): Promise<T> {
  const client = await connectControl(resolveDataDir(opts.data));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** A connection to the node in `dir`, or null when none runs there. */
export async function tryControl(dir: string): Promise<ControlClient | null> {
  try {
    return await connectControl(dir);
  } catch (err) {
    if (isRojError(err, "no_node")) return null;
    throw err;
  }
}

export interface ReadOptions {
  json?: boolean;
  last?: number;
  follow?: boolean;
}

/**
 * `roj read` through the node: prints the chat, then with `follow` every new
 * message of it until interrupted. Following starts before reading (both on
 * one connection, answered in order), so nothing falls between the two.
 * Forks on record in the chat (someone's key signed two different entries)
 * get a line each on stderr, like progress, so piped output stays messages.
 * @throws {RojError} unreachable when the node stops while following.
 */
export async function readViaNode(
  client: ControlClient,
  chat: string,
  opts: ReadOptions,
  io: CliIo,
): Promise<void> {
  // What --follow shows counts as read, as in the admin: the read mark moves
  // after each shown message, one call at a time however fast they come.
  let marking = false;
  let markAgain = false;
  const markRead = (): void => {
    if (marking) {
      markAgain = true;
      return;
    }
    marking = true;
    client.call("read", { chat, last: 1 }).catch(() => {}).finally(() => {
      marking = false;
      if (markAgain) {
        markAgain = false;
        markRead();
      }
    });
  };
  const show = (m: MessageView) => {
    io.out(opts.json ? json(m) : messageLine(m) + "\n");
    if (!m.mine) markRead();
  };
  let early: MessageView[] | null = [];
  let following: Promise<void> | null = null;
  if (opts.follow) {
    following = client.follow({ chat }, (event) => {
      // A long catch-up shows how far it is, on stderr, so piped output stays messages only.
      if (event.type === "progress" && !opts.json) {
        io.err(`catching up ${progressText(event.progress)}\n`);
        return;
      }
      if (event.type === "fork" && event.fork.chat === chat) {
        io.err(forkLine(event.fork) + "\n");
        return;
      }
      if (event.type === "typing" && !opts.json) {
        io.err(`${escapeControl(event.who)} is typing…\n`);
        return;
      }
      if (event.type !== "message") return;
      if (early) early.push(event.message);
      else show(event.message);
    });
    following.catch(() => {}); // awaited below; this only keeps an early failure from escaping
  }
  // Asked first, answered in order: the messages are the last call made.
  const forks = client.call("forks", { chat });
  forks.catch(() => {}); // awaited below, after the read that names a missing chat
  const messages = await client.call("read", {
    chat,
    ...(opts.last !== undefined ? { last: opts.last } : {}),
  });
  if (opts.json) io.out(json(messages));
  else if (messages.length === 0 && !following) io.out("(no messages yet)\n");
  else for (const m of messages) io.out(messageLine(m) + "\n");
  for (const f of await forks) io.err(forkLine(f) + "\n");
  if (!following) return;

  const seen = new Set(messages.map((m) => m.hash));
  const pending = early;
  early = null;
  for (const m of pending) if (!seen.has(m.hash)) show(m);

  let interrupted = false;
  const stopListening = (io.onInterrupt ?? onProcessInterrupt)(() => {
    interrupted = true;
    void client.close();
  });
  try {
    await following;
  } finally {
    stopListening();
  }
  if (!interrupted) {
    throw new RojError("unreachable", `the node in ${client.dataDir} stopped`, { retryable: true });
  }
}

/** `roj note` through the node. */
export async function noteViaNode(
  client: ControlClient,
  text: string,
  opts: { json?: boolean },
  io: CliIo,
): Promise<void> {
  const m = await client.call("note", { text });
  io.out(opts.json ? json(m) : `stored note ${m.seq}\n`);
}

/** How long `roj send` waits for "delivered" by default, when the peer is online. */
export const DELIVERY_WAIT_MS = 3000;

/**
 * Sends, then, while someone who would hold it is online, waits up to
 * `waitMs` for the peer to hold the message, so that what is printed is the
 * truth: "delivered" when it is, "stored" when it is not (yet). Following
 * starts before sending, on the same connection, so the delivery cannot come
 * between the two unseen.
 */
export async function sendAndWait(
  client: ControlClient,
  chat: string,
  text: string,
  waitMs: number,
  reply?: string,
): Promise<MessageView> {
  let deliveredUpTo = 0;
  let wake: (() => void) | null = null;
  if (waitMs > 0) {
    client.follow({ chat }, (event) => {
      if (event.type !== "delivered") return;
      deliveredUpTo = Math.max(deliveredUpTo, event.seq);
      wake?.();
    }).catch(() => {}); // ends when the connection closes
  }
  const m = await client.call("send", { chat, text, ...(reply !== undefined ? { reply } : {}) });
  if (m.state !== "stored" || waitMs <= 0 || !await someoneOnline(client, chat)) return m;
  if (deliveredUpTo < m.seq) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      wake = () => deliveredUpTo >= m.seq && resolve();
      timer = setTimeout(resolve, waitMs);
    });
    clearTimeout(timer);
  }
  return deliveredUpTo >= m.seq ? { ...m, state: "delivered" } : m;
}

/** Whether a session is up with the chat's contact (any person, for a group). */
async function someoneOnline(client: ControlClient, chat: string): Promise<boolean> {
  try {
    const peers = await client.call("peers", {});
    const chats = await client.call("chats", {});
    const kind = chats.find((c) => c.name === chat)?.kind;
    return peers.some((p) =>
      p.state === "connected" && p.kind === "person" && (kind === "group" || p.name === chat)
    );
  } catch {
    return false; // the message is sent either way; without this, it is only not awaited
  }
}

/** A terminal QR code of `text` (light modules drawn, for dark backgrounds), or null when too long. */
export function qrText(text: string): string | null {
  try {
    return renderUnicodeCompact(text, { border: 2, ecc: "L", boostEcc: true });
  } catch {
    return null;
  }
}

/** Adds the commands that need a running node to `program`. */
export function addNodeCommands(program: Command, io: CliIo): void {
  program.command("send")
    .description(
      "send a message to a chat; prints delivered once the peer holds it, at-anchor once an anchor holds it for them," +
        " or stored if neither happened within --wait",
    )
    .argument("<chat>", "chat name (a contact's name for a direct chat, or a group's name)")
    .argument("[text]", "the message (none with --file)")
    .addOption(dataOption())
    .option("--json", "print the message as JSON")
    .option("--file <path>", "send this file instead (a contact's chat); progress on stderr")
    .option("--caption <text>", "with --file: a caption shown with it")
    .option(
      "--reply <id>",
      "answer the message with this id (as `roj read` shows it)",
      parseMessageId,
    )
    .option(
      "--wait <duration>",
      "how long to wait for delivery while the peer is online, e.g. 10s (0: do not wait)",
      (v: string) => v.trim() === "0" ? 0 : parseDuration(v, { min: 1, max: 300 }) * 1000,
      DELIVERY_WAIT_MS,
    )
    .action((
      chat: string,
      text: string | undefined,
      opts: JsonOpts & { wait: number; reply?: string; file?: string; caption?: string },
    ) => {
      if (opts.file !== undefined) {
        if (text !== undefined) throw new RojError("usage", "give either a text or --file");
        if (opts.reply !== undefined) throw new RojError("usage", "--reply goes with a text");
        const path = opts.file;
        return withControl(opts, (client) => sendFile(client, io, chat, path, opts));
      }
      if (opts.caption !== undefined) throw new RojError("usage", "--caption goes with --file");
      if (text === undefined) {
        throw new RojError("usage", "missing required argument 'text' (or --file PATH)");
      }
      if (text.trim() === "") {
        throw new RojError(
          "bad_input",
          "the message is empty; put the text in quotes after the chat",
        );
      }
      return withControl(opts, async (client) => {
        const m = await sendAndWait(client, chat, text, opts.wait, opts.reply);
        io.out(opts.json ? json(m) : `${m.state}\n`);
      });
    });

  program.command("chats")
    .description("list chats: name, unread messages, the last message")
    .addOption(dataOption())
    .option("--json", "print as a JSON array")
    .option("--all", "also list archived chats (pinned ones come first either way)")
    .action((opts: JsonOpts & { all?: boolean }) =>
      withControl(opts, async (client) => {
        const chats = arrangeChats(await client.call("chats", {}), { archived: opts.all ?? false });
        io.out(opts.json ? json(chats) : chatLines(chats).join("\n") + "\n");
      })
    );

  program.command("contacts")
    .description("list contacts: name, fingerprint, online or not, last seen, addresses")
    .addOption(dataOption())
    .option("--json", "print as a JSON array")
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const contacts = await client.call("contacts", {});
        io.out(opts.json ? json(contacts) : contactLines(contacts).join("\n") + "\n");
      })
    );

  program.command("invite")
    .summary("make an invite for someone to add you as a contact")
    .description(
      "make an invite: text that lets someone add you as a contact (share it over a channel you trust)." +
        " The text alone is the first line of output",
    )
    .addOption(dataOption())
    .option(
      "--expires <duration>",
      "how long it stays valid, like 30m, 24h or 7d; 1m to 30d (default: 24h)",
      (v: string) => parseDuration(v),
    )
    .option(
      "--uses <n>",
      `how many people may use it, 1 to ${MAX_INVITE_USES} (default: 1)`,
      (v: string) => parsePositive(v, MAX_INVITE_USES),
    )
    .option("--qr", "also print it as a QR code (for a dark terminal background)")
    .option("--json", "print as JSON: text, expires (ms since the epoch), addresses")
    .option(
      "--withdraw <invite>",
      "withdraw an invite you made (on this device or another of yours): nobody can use it now",
    )
    .action((
      opts: JsonOpts & { expires?: number; uses?: number; qr?: boolean; withdraw?: string },
    ) =>
      withControl(opts, async (client) => {
        if (opts.withdraw !== undefined) {
          const r = await client.call("invite.withdraw", { invite: opts.withdraw });
          if (opts.json) return io.out(json(r));
          return io.out(
            r.withdrawn ? "withdrawn\n" : "it was used up, expired or withdrawn already\n",
          );
        }
        const invite = await client.call("invite", {
          ...(opts.expires !== undefined ? { expiresIn: opts.expires } : {}),
          ...(opts.uses !== undefined ? { uses: opts.uses } : {}),
        });
        if (opts.json) return io.out(json(invite));
        io.out(invite.text + "\n");
        if (opts.qr) {
          const qr = qrText(invite.text);
          if (qr) io.out(`\n${qr}\n`);
          else io.err("(the invite is too long for a QR code)\n");
        }
        const uses = opts.uses ?? 1;
        io.err(
          `valid until ${shortTime(invite.expires)}, for ${uses} ${
            uses === 1 ? "person" : "people"
          }\n`,
        );
      })
    );

  program.command("add")
    .description("accept an invite: adds its maker as a contact (and you as theirs)")
    .argument("<invite>", "the invite text")
    .addOption(dataOption())
    .option("--name <name>", "the name to give the contact (default: the one in the invite)")
    .option("--json", "print the contact as JSON")
    .action((invite: string, opts: JsonOpts & { name?: string }) => {
      if (opts.name !== undefined) checkName(opts.name);
      return withControl(opts, async (client) => {
        const c = await client.call("add", {
          invite: invite.trim(),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
        });
        io.out(opts.json ? json(c) : `added ${escapeControl(c.name)} ${c.fingerprint}\n`);
      });
    });

  program.command("peers")
    .description(
      "each contact: connected, dialing or unreachable; the address in use; how it was learnt (direct, via a friend, via an anchor); last seen",
    )
    .addOption(dataOption())
    .option("--json", "print as a JSON array")
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const peers = await client.call("peers", {});
        io.out(opts.json ? json(peers) : peerLines(peers).join("\n") + "\n");
      })
    );

  program.command("connect")
    .description(
      "reach a friend at an address you were told (when nobody is reachable); the rest of your contacts follow by themselves",
    )
    .argument("<host:port>", "the friend's current address")
    .addOption(dataOption())
    .option("--json", "print the contact reached as JSON")
    .action((address: string, opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const c = await client.call("connect", { address });
        io.out(opts.json ? json(c) : `reached ${escapeControl(c.name)} ${c.fingerprint}\n`);
      })
    );

  program.command("rename")
    .description("give a contact another name here (their chat is renamed with them)")
    .argument("<name>", "the contact's current name")
    .argument("<new-name>", "the new name")
    .addOption(dataOption())
    .action((name: string, to: string, opts: JsonOpts) => {
      checkName(to);
      return withControl(opts, async (client) => {
        const c = await client.call("rename", { name, to });
        io.out(`renamed to ${escapeControl(c.name)}\n`);
      });
    });

  for (
    const [cmd, what] of [[
      "remove",
      "forget a contact: no more sessions or addresses for them (the chat stays)",
    ], ["block", "refuse a contact's sessions from now on"]] as const
  ) {
    program.command(cmd)
      .description(what)
      .argument("<name>", "the contact")
      .addOption(dataOption())
      .action((name: string, opts: JsonOpts) =>
        withControl(opts, async (client) => {
          await client.call(cmd, { name });
          io.out(`${cmd === "remove" ? "removed" : "blocked"} ${escapeControl(name)}\n`);
        })
      );
  }

  program.command("status")
    .description("show the running node: identity, data folder, addresses, contacts online")
    .addOption(dataOption())
    .option("--json", "print as JSON")
    .action((opts: JsonOpts) =>
      withControl(opts, async (client) => {
        const s = await client.call("status", {});
        io.out(opts.json ? json(s) : statusLines(s).join("\n") + "\n");
      })
    );
}
