/**
 * The file services of a node (node/files), built for wiring.ts: the chunk
 * store, 1:1 files, group files, and on an anchor the sealed group chunks it
 * holds for members.
 */
import type { ChatDirectory, ChatService, GroupService } from "./chats/mod.ts";
import type { Clock } from "./clock/mod.ts";
import type { ContactBook } from "./contacts/mod.ts";
import type { EventBus } from "./events.ts";
import { AnchorFiles, ChunkStore, FileService, GroupFiles } from "./files/mod.ts";
import type { GroupBook } from "./groups/mod.ts";
import { fingerprint, type Signer } from "./identity/mod.ts";
import type { ChatLog } from "./log/mod.ts";
import type { ResolvedOptions } from "./options.ts";
import type { SessionManager } from "./sessions/mod.ts";
import type { SftpFile } from "./transport/mod.ts";

export interface FilePartsDeps {
  readonly o: ResolvedOptions;
  readonly dataDir: string;
  readonly me: Uint8Array;
  readonly signer: Signer;
  readonly log: ChatLog;
  readonly kv: Deno.Kv;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly groups: GroupBook;
  readonly contacts: ContactBook;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly groupService: GroupService;
  readonly sessions: SessionManager;
  readonly pushDirect: (chat: string, peer: Uint8Array) => void;
}

export interface FileParts {
  readonly files: FileService;
  readonly groupFiles: GroupFiles;
  readonly anchorFiles: AnchorFiles | undefined;
  /** A contact's SFTP view of files: our chat's, and those of the groups we share. */
  sftpFiles(peer: Uint8Array, chatName: string): Promise<SftpFile[]>;
}

export async function wireFiles(d: FilePartsDeps): Promise<FileParts> {
  const moved = d.o.fileBytesMoved;
  const chunks = await ChunkStore.open(d.dataDir, moved ? { moved } : {});
  const limits = d.o.files;
  const common = {
    me: d.me,
    signer: d.signer,
    log: d.log,
    kv: d.kv,
    chunks,
    bus: d.bus,
    clock: d.clock,
    limits,
    chat: (name: string) => d.directory.chat(name),
    byId: (id: string) => d.directory.byId(id),
  };
  const groupFiles = new GroupFiles({
    ...common,
    book: d.groups,
    sessions: () => d.sessions.all(),
    isAnchor: (peer) => d.contacts.get(peer)?.anchor ?? false,
    written: async (chat, entries) => {
      d.groupService.reconcile(chat.id);
      for (const v of await d.chats.views(chat, entries)) {
        d.bus.emit({ type: "message", message: v });
      }
    },
    memberName: (chat, hex) => {
      const g = d.groups.get(chat);
      return g ? d.chats.memberName(g)(hex) : hex.slice(0, 12);
    },
    peerName: (peer) => d.contacts.get(peer)?.name ?? fingerprint(peer),
  });
  const files = new FileService({
    ...common,
    session: (peer) => d.sessions.get(peer)?.rpc,
    pushDirect: d.pushDirect,
    show: (chat, e) => d.bus.emit({ type: "message", message: d.chats.view(chat, e, 0) }),
    groups: groupFiles,
  });
  const anchorFiles = d.o.passive
    ? await AnchorFiles.open(d.kv, chunks, {
      limits: {
        ...d.o.anchorFiles,
        ...(limits.minFree !== undefined ? { minFree: limits.minFree } : {}),
      },
      now: () => d.clock.now(),
      log: (line) => d.bus.say(line),
    })
    : undefined;
  const sftpFiles = async (peer: Uint8Array, chatName: string) => [
    ...await files.sftpFiles(peer, chatName),
    ...await groupFiles.sftpFiles(peer),
  ];
  return { files, groupFiles, anchorFiles, sftpFiles };
}
