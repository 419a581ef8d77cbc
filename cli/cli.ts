/**
 * The `roj` command line. Each command is a thin shell over node/: it parses,
 * calls one node method and prints. A failure becomes `roj: <code>: <message>`
 * on stderr (with --json, `{"error":{"code","message"}}` on stdout) and an exit
 * status by code (failure.ts, exit_codes.ts); stack traces and causes only
 * with ROJ_DEBUG=1.
 */
import { Command, CommanderError } from "commander";
import {
  checkName,
  entryToJson,
  escapeControl,
  fingerprint,
  fingerprintLine,
  initProfile,
  isRojError,
  jsonLine,
  type ModeChange,
  resolveDataDir,
  RojError,
  RojNode,
  tightenedNotice,
} from "../node/mod.ts";
import {
  type ControlClient,
  type ControlServer,
  controlSocketPath,
  noNodeError,
  serveControl,
} from "../node/mod.ts";
import { formatEndpoint, parseEndpoint } from "../node/mod.ts";
import { type AdminServer, isLoopback, startAdmin, writeAdminOrigin } from "../routes/mod.ts";
import { askPassphrase } from "./passphrase.ts";
import { appendEvents } from "./events_file.ts";
import { scavengeEvery, trimHeap } from "./heap_trim.ts";
import { entryLine, messageLine } from "./format.ts";
import { addNodeCommands, noteViaNode, readViaNode, tryControl } from "./commands_node.ts";
import { addGroupCommands } from "./commands_group.ts";
import { addIdentityCommands } from "./commands_identity.ts";
import { addVerifyCommands } from "./commands_verify.ts";
import { addBackupCommands } from "./commands_backup.ts";
import { addIntroCommands } from "./commands_intro.ts";
import { addDeviceCommands, joinDevice } from "./commands_devices.ts";
import { addKeyCommands } from "./commands_key.ts";
import { addSearchCommands } from "./commands_search.ts";
import { addMessageCommands } from "./commands_messages.ts";
import { addFileCommands, parseSize } from "./commands_files.ts";
import { addAdminCommands } from "./commands_admin.ts";
import { type CliIo, stdio } from "./io.ts";
import { agentOptions, dataOption, parsePositive } from "./options.ts";
import { parseDuration } from "./duration.ts";
import { EXIT, exitCodeOf } from "./exit_codes.ts";
import { asRojError, debugText, failureJson, failureLine, wantsJson } from "./failure.ts";

export type { CliIo } from "./io.ts";

/** `--relay-rate` at most: above what one core forwards, so a bound on typos, not on use. */
const MAX_RELAY_RATE = 1024 ** 3;

/** Says on stderr, once, which files had to be made private (node/home: Profile.tightened). */
function sayTightened(io: CliIo, changes: readonly ModeChange[]): void {
  const notice = tightenedNotice(changes);
  if (notice) io.err(`${escapeControl(notice)}\n`);
}

async function withNode<T>(
  opts: { data?: string },
  io: CliIo,
  fn: (node: RojNode) => Promise<T>,
): Promise<T> {
  const node = await RojNode.open({
    dataDir: resolveDataDir(opts.data),
    ask: askPassphrase,
    ...agentOptions(),
  });
  sayTightened(io, node.profile.tightened);
  try {
    return await fn(node);
  } finally {
    await node.close();
  }
}

/** Runs `viaNode` when a node runs in the data folder, else `direct` with the folder. */
async function nodeOrDirect(
  opts: { data?: string },
  viaNode: (client: ControlClient) => Promise<void>,
  direct: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = resolveDataDir(opts.data);
  const client = await tryControl(dir);
  if (!client) return direct(dir);
  try {
    await viaNode(client);
  } finally {
    await client.close();
  }
}

/** `roj read` without a node: straight from the store, as before the node ran. */
function readDirect(
  chat: string,
  opts: { data?: string; json?: boolean; last?: number },
  dir: string,
  io: CliIo,
): Promise<void> {
  return withNode(opts, io, async (node) => {
    let entries;
    try {
      if (node.chat(chat).kind === "group") {
        // A group's bodies are ciphertext: read them decrypted, as the node shows them.
        const messages = await node.call("read", {
          chat,
          markRead: false,
          ...(opts.last !== undefined ? { last: opts.last } : {}),
        });
        if (opts.json) io.out(jsonLine(messages) + "\n");
        else if (messages.length === 0) io.out("(no messages yet)\n");
        else for (const m of messages) io.out(messageLine(m) + "\n");
        return;
      }
      entries = await node.read(chat, opts.last !== undefined ? { last: opts.last } : {});
    } catch (err) {
      if (!isRojError(err, "not_found") || chat === "notes") throw err;
      // Without a node only the chats kept in this folder can be read.
      throw new RojError(
        "not_found",
        `${err.message} in ${dir} (no node is running; start it with \`roj run --data ${dir}\` to reach your chats)`,
        { cause: err },
      );
    }
    if (opts.json) {
      io.out(
        jsonLine(entries.map((e) => {
          const j = entryToJson(e);
          return {
            seq: j.seq,
            author: j.author,
            lamport: j.lamport,
            ts: j.ts,
            type: j.type,
            body: j.body,
            hash: j.hash,
          };
        })) + "\n",
      );
      return;
    }
    if (entries.length === 0) io.out("(no messages yet)\n");
    const own = node.publicKey;
    const authorName = (author: Uint8Array) =>
      author.length === own.length && author.every((b, i) => b === own[i])
        ? node.name
        : node.contacts.get(author)?.name ?? fingerprint(author);
    for (const e of entries) io.out(entryLine(e, authorName(e.author)) + "\n");
  });
}

/** Builds the command tree; `io` receives everything printed. */
export function buildCli(io: CliIo = stdio): Command {
  const program = new Command("roj")
    .description("Roj: a peer-to-peer messenger over SSH. Every command has --help.")
    .version("0.1.0")
    .addHelpText("after", FAILURE_HELP)
    // Usage errors are reported by runCli in the one failure form, not by commander.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .exitOverride();

  program.command("init")
    .description("create an identity (OpenSSH ed25519 key) and the store in the data folder")
    .addOption(dataOption())
    .option("--name <name>", 'the name your contacts see (default: the key\'s comment, or "me")')
    .option(
      "--key <file>",
      "adopt an existing OpenSSH ed25519 key instead of making one; it stays where it is",
    )
    .option("--passphrase", "protect the new key with a passphrase (asked for; or $ROJ_PASSPHRASE)")
    .option(
      "--agent",
      "use a key held in ssh-agent ($SSH_AUTH_SOCK): its only ed25519 key, or the one --key names " +
        "(its .pub will do); no private key is written. Without --agent, a --key the agent holds " +
        "is used from the agent",
    )
    .option("--join <code>", "link this new folder as a device of yours, from `roj device link`")
    .option(
      "--events <file>",
      "with --join: append each step of linking to FILE, one JSON line each",
    )
    .option("--json", "print the result as JSON")
    .action(
      async (
        opts: {
          data?: string;
          name?: string;
          key?: string;
          passphrase?: boolean;
          agent?: boolean;
          json?: boolean;
          join?: string;
          events?: string;
        },
      ) => {
        if (opts.join !== undefined) return await joinDevice(io, { ...opts, join: opts.join });
        const dir = resolveDataDir(opts.data);
        if (opts.name !== undefined) checkName(opts.name);
        const socket = agentOptions().agentSocket;
        if (opts.agent && socket === undefined) {
          throw new RojError(
            "agent_unavailable",
            "--agent needs a running ssh-agent, and SSH_AUTH_SOCK is not set",
          );
        }
        if (opts.agent && opts.passphrase) {
          throw new RojError(
            "usage",
            "--passphrase protects a new key file; with --agent there is none",
          );
        }
        const profile = await initProfile(dir, {
          ...(socket !== undefined ? { agent: { socket, required: opts.agent === true } } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.key !== undefined ? { adoptKey: opts.key } : {}),
          ...(opts.passphrase ? { passphrase: await askPassphrase("new passphrase") } : {}),
          ask: askPassphrase,
        });
        profile.store.close();
        sayTightened(io, profile.tightened);
        const line = fingerprintLine(profile.keyPair.publicKey, profile.name);
        const inAgent = profile.keyInAgent;
        if (opts.json) {
          io.out(
            JSON.stringify({
              dataDir: dir,
              name: profile.name,
              fingerprint: line.split(" ")[1],
              ...(inAgent ? { keyInAgent: true } : {}),
            }) + "\n",
          );
        } else {
          io.out(
            `created identity ${profile.name} in ${dir}${
              inAgent ? " (the key stays in ssh-agent)" : ""
            }\n${line}\n`,
          );
        }
      },
    );

  program.command("id")
    .description("print this node's public key and fingerprint (as ssh-keygen -lf does)")
    .addOption(dataOption())
    .option("--json", "print as JSON")
    .action((opts: { data?: string; json?: boolean }) =>
      withNode(opts, io, (node) => {
        const fp = fingerprintLine(node.publicKey, node.name);
        if (opts.json) {
          io.out(
            JSON.stringify({
              name: node.name,
              publicKey: node.keyLine,
              fingerprint: node.fingerprint,
              dataDir: node.profile.paths.dir,
            }) + "\n",
          );
        } else io.out(`${node.keyLine}\n${fp}\n`);
        return Promise.resolve();
      })
    );

  program.command("note")
    .description("add a note to your note-to-self chat (through the node when one runs)")
    .argument("<text>", "the note")
    .addOption(dataOption())
    .option("--json", "print the stored note as JSON")
    .action((text: string, opts: { data?: string; json?: boolean }) =>
      nodeOrDirect(
        opts,
        (client) => noteViaNode(client, text, opts, io),
        () =>
          withNode(opts, io, async (node) => {
            const e = await node.note(text);
            if (opts.json) io.out(jsonLine(entryToJson(e)) + "\n");
            else io.out(`stored note ${e.seq}\n`);
          }),
      )
    );

  program.command("read")
    .summary('print a chat ("notes" is your note-to-self chat); --follow for new messages')
    .description(
      'print a chat in order ("notes" is your note-to-self chat); own messages are marked' +
        " ✓ delivered, → at an anchor for them (1:1 mail, not yet delivered) or · stored",
    )
    .argument("<chat>", "chat name")
    .addOption(dataOption())
    .option("--last <n>", "only the newest n messages", (v: string) => parsePositive(v, 100_000))
    .option("-f, --follow", "keep printing new messages until Ctrl-C (needs a running node)")
    .option("--json", "print as a JSON array; with --follow, then one JSON object per new message")
    .action((
      chat: string,
      opts: { data?: string; json?: boolean; last?: number; follow?: boolean },
    ) =>
      nodeOrDirect(opts, (client) => readViaNode(client, chat, opts, io), (dir) => {
        if (opts.follow) throw noNodeError(dir);
        return readDirect(chat, opts, dir, io);
      })
    );

  addNodeCommands(program, io);
  addGroupCommands(program, io);
  addIdentityCommands(program, io);
  addVerifyCommands(program, io);
  addBackupCommands(program, io);
  addIntroCommands(program, io);
  addDeviceCommands(program, io);
  addKeyCommands(program, io);
  addSearchCommands(program, io);
  addMessageCommands(program, io);
  addFileCommands(program, io);
  addAdminCommands(program, io);

  program.command("export")
    .description(
      "print a chat as signed entries, one JSON object per line (verifiable with ssh-keygen -Y verify)",
    )
    .argument("<chat>", "chat name")
    .addOption(dataOption())
    .action((chat: string, opts: { data?: string }) =>
      withNode(opts, io, async (node) => {
        for (const e of await node.read(chat)) io.out(jsonLine(entryToJson(e)) + "\n");
      })
    );

  program.command("run")
    .description(
      "run the node in the foreground: SSH server, control socket, dialling contacts (creates an identity on first start)",
    )
    .addOption(dataOption())
    .option(
      "--listen <host:port>",
      "where the SSH server (TCP) and QUIC (UDP) listen; [::] takes IPv6 and IPv4 alike (0.0.0.0 where the machine has no IPv6), and its global IPv6 addresses are published too",
      "[::]:7022",
    )
    .option(
      "--advertise <host:port>",
      "publish this address instead of the listening one (port forward, VPS name); repeatable",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--passive",
      "run as a hive anchor: hold sealed address records and group mail for members, run no chats",
    )
    .option(
      "--mail-quota <n>",
      "with --passive: group mail boxes held per member at most (default 50000)",
    )
    .option(
      "--mail-expiry <duration>",
      "with --passive: how long group mail is held, e.g. 7d (default 30d)",
    )
    .option(
      "--no-relay",
      "do not relay for others: contacts behind NAT cannot reach each other through this node",
    )
    .option(
      "--relay-rate <size>",
      "bytes per second each contact may push through this node as a relay, over all its relayed sessions, e.g. 20M (default 4M, at most 1G)",
    )
    .option(
      "--no-carry",
      "hold no 1:1 mail for others: contacts of yours who are never online together cannot leave it with you",
    )
    .option(
      "--no-upnp",
      "ask the home router for no port mapping (UPnP-IGD / NAT-PMP); by default the listen port is mapped where the router offers it",
    )
    .option(
      "--no-punch",
      "no UDP: serve no QUIC on the listen port, punch through no NAT, coordinate no punch for others",
    )
    .option(
      "--no-lan",
      "do not announce to or look for contacts on the local network (UDP multicast 239.255.82.74 and ff02::726f:6a4c, port 7024)",
    )
    .option(
      "--web <host:port>",
      "where the web admin listens (port 0: any free port)",
      "127.0.0.1:7080",
    )
    .option("--no-web", "do not serve the web admin")
    .option(
      "--web-allow-remote",
      "allow --web on an address other machines can reach (plain HTTP: trusted networks only)",
    )
    .option("--max-file-size <size>", "largest file sent or fetched, e.g. 500M (default 2G)")
    .option("--file-quota <size>", "bytes of files each contact may store here (default 8G)")
    .option(
      "--min-free-disk <size>",
      "refuse a file transfer that would leave less free (default 64M)",
    )
    .option(
      "--events <file>",
      "for scripts: append every event of the node (sessions, reachability, punches, port mapping, …) to this file as it happens, one JSON object a line",
    )
    .action(
      async (
        opts: {
          data?: string;
          listen: string;
          advertise?: string[];
          passive?: boolean;
          relay: boolean;
          relayRate?: string;
          carry: boolean;
          punch: boolean;
          upnp: boolean;
          lan: boolean;
          mailQuota?: string;
          mailExpiry?: string;
          web: string | false;
          webAllowRemote?: boolean;
          events?: string;
          maxFileSize?: string;
          fileQuota?: string;
          minFreeDisk?: string;
        },
        cmd: Command,
      ) => {
        const webGiven = cmd.getOptionValueSource("web") === "cli";
        if ((opts.mailQuota || opts.mailExpiry) && !opts.passive) {
          throw new RojError("bad_input", "--mail-quota and --mail-expiry need --passive");
        }
        if (opts.relayRate && opts.relay === false) {
          throw new RojError("bad_input", "--relay-rate has no use with --no-relay");
        }
        const relayRate = opts.relayRate ? parseSize(opts.relayRate) : undefined;
        if (relayRate !== undefined && relayRate > MAX_RELAY_RATE) {
          throw new RojError("bad_input", `--relay-rate is at most 1G, got ${opts.relayRate}`);
        }
        const mailbox = {
          ...(opts.mailQuota
            ? { perUploaderBoxes: parsePositive(opts.mailQuota, 10_000_000) }
            : {}),
          ...(opts.mailExpiry
            ? { ttlMs: parseDuration(opts.mailExpiry, { min: 3600, max: 365 * 86400 }) * 1000 }
            : {}),
        };
        const dir = resolveDataDir(opts.data);
        const listen = parseEndpoint(opts.listen, 7022);
        const advertise = (opts.advertise ?? []).map((a) => formatEndpoint(parseEndpoint(a, 7022)));
        // Port 0 (any free port) is fine for the admin, though not for peers.
        const web = opts.web === false ? null : {
          ...parseEndpoint(opts.web.replace(/:0$/, ":1"), 7080),
          ...(/:0$/.test(opts.web) ? { port: 0 } : {}),
        };
        if (web && !opts.webAllowRemote && !isLoopback(web.host)) {
          throw new RojError(
            "bad_input",
            `--web ${opts.web} would let other machines reach the admin; use a 127.0.0.1 address, or add --web-allow-remote`,
          );
        }
        let tightened: readonly ModeChange[] = [];
        try {
          // First start: the login name is a better default than "me".
          const user = Deno.env.get("USER");
          const created = await initProfile(dir, {
            ask: askPassphrase,
            ...(user && /^[\w.-]{1,40}$/.test(user) ? { name: user } : {}),
          });
          created.store.close();
          tightened = created.tightened;
          io.err(`created identity in ${dir}\n`);
        } catch (err) {
          if (!isRojError(err, "exists")) throw err;
        }
        const stamp = () => new Date().toISOString().slice(11, 19);
        // The node's bus escapes its lines already; the admin's and the control
        // socket's carry request text too. Escaped here once more, whatever the
        // source: no line of `roj run` holds a terminal escape or a forged line.
        const logOut = (line: string) => io.out(`${stamp()} ${escapeControl(line)}\n`);
        const logErr = (line: string) => io.err(`${escapeControl(line)}\n`);
        const node = await RojNode.open({
          dataDir: dir,
          ask: askPassphrase,
          ...agentOptions(),
          log: logOut,
          listen,
          advertise,
          passive: opts.passive ?? false,
          mailbox,
          relay: {
            enabled: opts.relay !== false,
            ...(relayRate ? { bytesPerSecondPerMember: relayRate } : {}),
          },
          carry: opts.carry !== false,
          quic: opts.punch !== false,
          portMap: opts.upnp !== false,
          ...testPortMapLease(),
          ...testLinkHold(),
          lan: opts.lan !== false,
          ...(opts.maxFileSize ? { maxFileSize: parseSize(opts.maxFileSize) } : {}),
          ...(opts.fileQuota ? { fileQuota: parseSize(opts.fileQuota) } : {}),
          ...(opts.minFreeDisk ? { minFreeDisk: parseSize(opts.minFreeDisk) } : {}),
          fileBytesMoved: scavengeEvery(), // chunk buffers freed as they go (heap_trim.ts)
        });
        // Said once, in the log, before anything else the node says.
        const notice = tightenedNotice([...tightened, ...node.profile.tightened]);
        if (notice) logOut(notice);
        let closeEvents = () => {};
        try {
          // From before the node starts until after it stopped: nothing it tells is missed.
          if (opts.events) closeEvents = appendEvents(node, opts.events);
        } catch (err) {
          await node.close();
          throw err;
        }
        const stopTrim = trimHeap(node); // the garbage of the start, given back (heap_trim.ts)
        const closeNode = async () => {
          stopTrim();
          await node.close();
          closeEvents();
        };
        let control: ControlServer;
        try {
          // Before listening for peers: a second `roj run` on this folder stops here.
          control = await serveControl(controlSocketPath(dir), node, {
            log: logErr,
          });
        } catch (err) {
          await closeNode();
          throw err;
        }
        let admin: AdminServer | null = null;
        if (!web) await writeAdminOrigin(dir, null); // a crashed run's says nothing now
        // Before the node dials anyone: a taken admin port stops here.
        if (web) {
          const serveAdmin = (port: number) =>
            startAdmin({
              api: node,
              host: web.host,
              port,
              dataDir: dir,
              allowRemote: opts.webAllowRemote ?? false,
              log: logErr,
            });
          try {
            admin = await serveAdmin(web.port).catch((err) => {
              // Another node on this machine has the default port: take any free one.
              if (!isRojError(err, "exists") || webGiven) throw err;
              io.err(`port ${web.port} is taken (another node?); the admin uses a free port\n`);
              return serveAdmin(0);
            });
          } catch (err) {
            await control.close();
            await closeNode();
            throw err;
          }
        }
        try {
          await node.start();
        } catch (err) {
          await admin?.close();
          await control.close();
          await closeNode();
          throw err;
        }
        io.out(
          `${stamp()} data folder ${dir}; control socket ${control.path}; press Ctrl-C to stop\n`,
        );
        if (admin) io.out(`admin: ${admin.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            Deno.removeSignalListener("SIGINT", stop);
            Deno.removeSignalListener("SIGTERM", stop);
            resolve();
          };
          Deno.addSignalListener("SIGINT", stop);
          Deno.addSignalListener("SIGTERM", stop);
        });
        await admin?.close();
        await control.close();
        await closeNode();
        io.out(`${stamp()} stopped\n`);
      },
    );

  return program;
}

/** The end of `roj --help`: how failures look, for scripts. */
const FAILURE_HELP = `
Failures print one line on stderr, "roj: <code>: <message>"; with --json they
print {"error":{"code":"<code>","message":"<message>"}} on stdout instead.
Exit status: 0 done, 1 failed, 2 usage or a bad argument, 3 no node running,
4 unreachable, timed out or busy (try again later), 5 refused, 70 internal error.
ROJ_DEBUG=1 adds the stack trace and what caused it.`;

/** Runs the CLI and returns the exit code. */
export async function runCli(args: string[], io: CliIo = stdio): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    // --help and --version end in a CommanderError too, with status 0.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT.ok;
    // A command with subcommands and none given: commander printed its help on stderr.
    if (err instanceof CommanderError && err.code === "commander.help") return EXIT.usage;
    // The reader went away (`roj export notes | head`): stop quietly, as Unix tools do.
    if (err instanceof Deno.errors.BrokenPipe) return EXIT.ok;
    const failure = asRojError(err);
    try {
      if (wantsJson(args)) io.out(failureJson(failure));
      else io.err(failureLine(failure));
      if (debugWanted()) io.err(debugText(err));
    } catch { /* stdout or stderr is gone: the exit status still tells */ }
    return exitCodeOf(failure.code);
  }
}

function debugWanted(): boolean {
  try {
    return Boolean(Deno.env.get("ROJ_DEBUG"));
  } catch {
    return false; // not allowed to read it: no debug output
  }
}

/**
 * Tests stop linking after a step's commit to kill the node there
 * ($ROJ_TEST_LINK_HOLD: pending or linked); unset outside tests (--ignore-env).
 */
function testLinkHold(): { linkHold?: "pending" | "linked" } {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("ROJ_TEST_LINK_HOLD");
  } catch {
    return {};
  }
  return raw === "pending" || raw === "linked" ? { linkHold: raw } : {};
}

/**
 * Tests shorten the router lease to see it renewed ($ROJ_TEST_PORTMAP_LEASE_MS).
 * Not a user setting: the deno.json tasks and the compiled binary do not let
 * the node read that variable (--ignore-env), so it is unset there.
 */
function testPortMapLease(): { portMapLeaseMs?: number } {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("ROJ_TEST_PORTMAP_LEASE_MS");
  } catch {
    return {};
  }
  const ms = Number(raw);
  return raw && Number.isInteger(ms) && ms >= 1000 && ms <= 86_400_000
    ? { portMapLeaseMs: ms }
    : {};
}
