/**
 * A small in-memory NodeApi for testing the control socket and the CLI before
 * (and apart from) the real node. It keeps messages per chat and emits events.
 */
import { RojError } from "../node/errors.ts";
import type {
  ChatView,
  ContactView,
  MessageView,
  NodeApi,
  NodeEvent,
  Params,
  Results,
} from "../node/api/mod.ts";
import type { CallMethod } from "../node/control/protocol.ts";

export interface FakeNodeOptions {
  /** @default "alice" */
  name?: string;
  /** Clock in ms. @default a fixed 2024-05-01T12:00:00Z that advances 1 s per message */
  now?: () => number;
}

const FP_ALICE = "SHA256:aliceAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const FP_BOB = "SHA256:bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

export class FakeNode implements NodeApi {
  readonly name: string;
  readonly calls: { method: string; params: unknown }[] = [];
  readonly #listeners = new Set<(event: NodeEvent) => void>();
  readonly #messages = new Map<string, MessageView[]>([["notes", []], ["bob", []]]);
  readonly #contacts: ContactView[];
  readonly #now: () => number;
  /** When set, the next call fails with it. */
  failNext: Error | null = null;
  /** When set, calls wait for it before answering. */
  gate: Promise<void> | null = null;

  constructor(options: FakeNodeOptions = {}) {
    this.name = options.name ?? "alice";
    let t = Date.UTC(2024, 4, 1, 12, 0, 0);
    this.#now = options.now ?? (() => (t += 1000));
    this.#contacts = [{
      name: "bob",
      publicKey: "ssh-ed25519 AAAAbob bob",
      fingerprint: FP_BOB,
      online: false,
      lastSeen: null,
      addresses: ["192.0.2.7:7022"],
      verified: false,
    }];
  }

  /** How many followers are subscribed now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: NodeEvent): void {
    for (const l of [...this.#listeners]) l(event);
  }

  /** Adds a message from `author` (another person) to `chat` and emits it. */
  receive(chat: string, author: string, body: string): MessageView {
    return this.#append(chat, author, FP_BOB, false, body, "received");
  }

  async call<M extends CallMethod>(method: M, params: Params<M>): Promise<Results[M]> {
    this.calls.push({ method, params });
    if (this.gate) await this.gate;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    return this.#answer(method, params as Params<CallMethod>) as Results[M];
  }

  #answer(method: CallMethod, params: Params<CallMethod>): Results[CallMethod] {
    switch (method) {
      case "status":
        return {
          name: this.name,
          publicKey: "ssh-ed25519 AAAAalice alice",
          fingerprint: FP_ALICE,
          dataDir: "/tmp/fake",
          listen: ["0.0.0.0:7022"],
          contacts: this.#contacts.length,
          online: this.#contacts.filter((c) => c.online).length,
          version: "0.1.0",
        };
      case "send": {
        const p = params as Params<"send">;
        this.#chat(p.chat);
        return this.#append(p.chat, this.name, FP_ALICE, true, p.text, "stored");
      }
      case "note": {
        const p = params as Params<"note">;
        return this.#append("notes", this.name, FP_ALICE, true, p.text, "stored");
      }
      case "read": {
        const p = params as Params<"read">;
        const all = this.#chat(p.chat);
        return p.last === undefined ? [...all] : all.slice(-p.last);
      }
      case "chats":
        return [...this.#messages].map(([name, list]): ChatView => ({
          name,
          id: `chat-${name}`,
          kind: name === "notes" ? "notes" : "direct",
          unread: list.filter((m) => !m.mine).length,
          last: list.at(-1) ?? null,
        }));
      case "contacts":
        return [...this.#contacts];
      case "invite": {
        const p = params as Params<"invite">;
        return {
          text: `roj1-invite-${p.uses ?? 1}-${p.expiresIn ?? 86400}`,
          expires: Date.UTC(2024, 4, 1, 12, 0, 0) + (p.expiresIn ?? 86400) * 1000,
          addresses: ["192.0.2.1:7022"],
        };
      }
      case "invite.withdraw": {
        const p = params as Params<"invite.withdraw">;
        return { withdrawn: p.invite === "roj1-invite-1-86400" };
      }
      case "add": {
        const p = params as Params<"add">;
        if (!p.invite.startsWith("roj1")) throw new RojError("bad_input", "not a Roj invite");
        const contact: ContactView = {
          name: p.name ?? "carol",
          publicKey: "ssh-ed25519 AAAAcarol carol",
          fingerprint: "SHA256:carolCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
          online: true,
          lastSeen: Date.UTC(2024, 4, 1, 12, 0, 0),
          addresses: [],
          verified: false,
        };
        this.#contacts.push(contact);
        this.emit({ type: "contact", contact });
        return contact;
      }
      case "forks":
        return [];
      default:
        throw new RojError("bad_input", `the fake node does not serve ${method}`);
    }
  }

  #chat(name: string): MessageView[] {
    const list = this.#messages.get(name);
    if (!list) throw new RojError("not_found", `no chat called ${JSON.stringify(name)}`);
    return list;
  }

  #append(
    chat: string,
    author: string,
    fp: string,
    mine: boolean,
    body: string,
    state: MessageView["state"],
  ): MessageView {
    const list = this.#chat(chat);
    const m: MessageView = {
      chat,
      seq: list.filter((x) => x.mine === mine).length + 1,
      author,
      authorFingerprint: fp,
      mine,
      ts: this.#now(),
      lamport: list.length + 1,
      type: "msg",
      body,
      state,
      hash: `hash-${chat}-${list.length + 1}`,
      id: (list.length + 1).toString(16).padStart(12, "0"),
    };
    list.push(m);
    this.emit({ type: "message", message: m });
    return m;
  }
}
