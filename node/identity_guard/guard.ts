/**
 * The identity guard's decisions, pure: (state, event, now) → state and actions.
 *
 * Only this node writes entries under its key, so its own chain in a chat is
 * whatever it wrote. When a contact holds a different entry of ours at a
 * place of that chain (a copied data folder, or an adopted `~/.ssh` key, run
 * on a second node), the key is speaking from elsewhere and the chain has
 * forked. Who holds what is learnt three ways:
 *
 *  - "own-head": a contact tells which entry of ours heads its copy of the
 *    chain (seq and hash, feature `own-chain`). If we hold a different one at
 *    that seq, the contact accepted the other node's chain: this node is the
 *    *second*, and must not write on the identity until the person resolves
 *    it (its entries after the fork point would be refused there for ever).
 *  - "own-twin": a contact has a fork of our chain on record (two entries of
 *    ours for one seq). If the twin is ours, we are the second; otherwise
 *    another node signed it, and this one is the *first* (told, still writes).
 *  - "own-fork": a peer pushed us a twin of one of our own entries.
 *  - "own-push": a contact pushed us entries of ours that do not fit our
 *    chain: what it pushes it took, so this node is the second.
 *  - "own-elsewhere": a contact holds a live session of our key from another
 *    node (twin_sessions.ts). Told, not refused: nothing has forked yet, and
 *    if it has, the chains tell.
 *
 * Resolving (`roj identity resolve`) forgets the conflicts, remembers their
 * twins as settled (the contacts keep the evidence for ever), and for each
 * chat where this node was the second re-bases: its entries there are set
 * aside, the contact's chain is taken in, and once a contact's head of our
 * chain is one we hold, the set-aside messages are written again on top.
 */

/** Which side of a fork this node is on, in one chat. */
export type Role = "first" | "second";

/** How the fork was learnt. */
export type ConflictSource = "own-head" | "own-twin" | "own-fork" | "own-push" | "own-session";

/** A fork of this node's own chain in one chat. */
export interface ChatConflict {
  /** The chat's id; "" for the identity as a whole (a session, not a chain). */
  readonly chat: string;
  /** Who told (a contact's name here), for the person. */
  readonly peer: string;
  /** The place (seq) in our chain where the contact holds another entry. */
  readonly seq: number;
  readonly role: Role;
  readonly source: ConflictSource;
  /** When first seen, ms since the epoch. */
  readonly since: number;
  /** The other node's entry there (hex), when known. */
  readonly theirs?: string;
}

export interface GuardState {
  /** At most one conflict per chat (the strongest: a second beats a first). */
  readonly conflicts: readonly ChatConflict[];
  /** Chats whose set-aside entries wait to be written again (after a resolve). */
  readonly rebasing: readonly string[];
  /** Entry hashes (hex) whose forks the person resolved: no longer a conflict. */
  readonly settled: readonly string[];
  /**
   * Twins of our entries (hex) contacts have on record, as reported while a
   * conflict was open: settled with it at a resolve, since the contacts keep
   * that evidence for ever. @default []
   */
  readonly twins?: readonly string[];
}

export const EMPTY_GUARD: GuardState = { conflicts: [], rebasing: [], settled: [] };

/** Settled hashes kept, newest last; older ones are forgotten. */
export const MAX_SETTLED = 256;
/** Chats with a conflict on record at once (more are folded into the first ones' notice). */
export const MAX_CONFLICTS = 64;

export type GuardEvent =
  /** A contact's head of our chain: `seq`, `theirs` (hex); `mine`: our entry there (hex), null if we lack it. */
  | {
    readonly type: "own-head";
    readonly chat: string;
    readonly peer: string;
    readonly seq: number;
    readonly theirs: string;
    readonly mine: string | null;
  }
  /** A contact's fork record of our chain: the twin at `seq` (hex); `mine` as above. */
  | {
    readonly type: "own-twin";
    readonly chat: string;
    readonly peer: string;
    readonly seq: number;
    readonly twin: string;
    readonly mine: string | null;
  }
  /** Our log recorded a fork of our own chain: a peer pushed `twin` for our entry `seq`. */
  | {
    readonly type: "own-fork";
    readonly chat: string;
    readonly peer: string;
    readonly seq: number;
    readonly twin: string;
  }
  /**
   * A contact pushed us entries of ours that do not fit our chain at `seq`
   * (another entry there, or one that does not follow ours): it holds, and
   * took, another node's chain of ours.
   */
  | {
    readonly type: "own-push";
    readonly chat: string;
    readonly peer: string;
    readonly seq: number;
  }
  /**
   * A contact holds a live session of our key from another node (twin_sessions.ts);
   * `kept`: ours stays there. Told, not refused: a fork, if any, is found from the chains.
   */
  | { readonly type: "own-elsewhere"; readonly peer: string; readonly kept: boolean }
  /** The person resolved; `setAside`: hashes (hex) of our entries set aside to re-base. */
  | { readonly type: "resolved"; readonly setAside?: readonly string[] }
  /**
   * The set-aside entries of `chat` were written again; `settle`: hashes (hex)
   * of those the contact did not hold, whose twins there are old news now.
   */
  | { readonly type: "rebased"; readonly chat: string; readonly settle?: readonly string[] };

export type GuardAction =
  /** A new (or stronger) conflict: keep it, tell the person and followers. */
  | { readonly type: "conflict"; readonly conflict: ChatConflict }
  /** Set our entries of `chat` aside and take the contact's chain in. */
  | { readonly type: "set-aside"; readonly chat: string }
  /** A contact's head of our chain in `chat` is ours now: write the set-aside entries again. */
  | { readonly type: "rebase"; readonly chat: string }
  /** Every conflict is resolved (the person is told; writes go again where not re-basing). */
  | { readonly type: "clear" };

export interface GuardStep {
  readonly state: GuardState;
  readonly actions: readonly GuardAction[];
}

/** Whether local writes to `chat` must be refused, and why. */
export function writeBlock(
  state: GuardState,
  chat: string,
): { readonly reason: "conflict" | "rebasing"; readonly conflict?: ChatConflict } | null {
  const second = state.conflicts.find((c) => c.role === "second");
  if (second) return { reason: "conflict", conflict: second };
  if (state.rebasing.includes(chat)) return { reason: "rebasing" };
  return null;
}

/** Decides what one event means for the identity. */
export function stepGuard(state: GuardState, event: GuardEvent, now: number): GuardStep {
  switch (event.type) {
    case "own-head": {
      if (event.mine === null) return { state, actions: [] }; // they hold more of ours: it comes to us
      if (event.mine === event.theirs) {
        // Our chain holds their head: a re-base waiting on it may go.
        return state.rebasing.includes(event.chat)
          ? { state, actions: [{ type: "rebase", chat: event.chat }] }
          : { state, actions: [] };
      }
      if (state.rebasing.includes(event.chat) || state.settled.includes(event.theirs)) {
        return { state, actions: [] };
      }
      return found(state, {
        chat: event.chat,
        peer: event.peer,
        seq: event.seq,
        role: "second",
        source: "own-head",
        since: now,
        theirs: event.theirs,
      });
    }
    case "own-twin": {
      if (state.settled.includes(event.twin)) return { state, actions: [] };
      const twins = state.twins ?? [];
      if (!twins.includes(event.twin)) {
        state = { ...state, twins: [...twins, event.twin].slice(-MAX_SETTLED) };
      }
      // Told while re-basing: evidence of the fork just resolved (settled once the re-base is done).
      if (state.rebasing.includes(event.chat)) return { state, actions: [] };
      if (event.mine !== null && event.mine === event.twin) {
        // They keep the other entry and hold ours as the twin: their chain is not ours.
        return found(state, {
          chat: event.chat,
          peer: event.peer,
          seq: event.seq,
          role: "second",
          source: "own-twin",
          since: now,
        });
      }
      return found(state, {
        chat: event.chat,
        peer: event.peer,
        seq: event.seq,
        role: "first",
        source: "own-twin",
        since: now,
        theirs: event.twin,
      });
    }
    case "own-fork": {
      if (state.settled.includes(event.twin) || state.rebasing.includes(event.chat)) {
        return { state, actions: [] };
      }
      return found(state, {
        chat: event.chat,
        peer: event.peer,
        seq: event.seq,
        role: "first",
        source: "own-fork",
        since: now,
        theirs: event.twin,
      });
    }
    case "own-push":
      if (state.rebasing.includes(event.chat)) return { state, actions: [] };
      return found(state, {
        chat: event.chat,
        peer: event.peer,
        seq: event.seq,
        role: "second",
        source: "own-push",
        since: now,
      });
    case "own-elsewhere":
      // Any conflict on record says more than this one.
      if (state.conflicts.length > 0) return { state, actions: [] };
      return found(state, {
        chat: "",
        peer: event.peer,
        seq: 0,
        role: "first",
        source: "own-session",
        since: now,
      });
    case "resolved": {
      const settled = [
        ...state.settled,
        // A first's `theirs` is the other node's twin; a second's is the chain it takes in.
        ...state.conflicts.flatMap((c) => (c.role === "first" && c.theirs ? [c.theirs] : [])),
        ...(event.setAside ?? []),
        ...(state.twins ?? []),
      ];
      const uniq = [...new Set(settled)].slice(-MAX_SETTLED);
      const seconds = state.conflicts.filter((c) => c.role === "second").map((c) => c.chat);
      const rebasing = [...new Set([...state.rebasing, ...seconds])];
      return {
        state: { conflicts: [], rebasing, settled: uniq, twins: [] },
        actions: [
          ...seconds.map((chat) => ({ type: "set-aside", chat }) as const),
          { type: "clear" },
        ],
      };
    }
    case "rebased":
      return {
        state: {
          ...state,
          rebasing: state.rebasing.filter((c) => c !== event.chat),
          settled: [
            ...new Set([...state.settled, ...(state.twins ?? []), ...(event.settle ?? [])]),
          ].slice(-MAX_SETTLED),
          twins: [],
        },
        actions: [],
      };
  }
}

function found(state: GuardState, c: ChatConflict): GuardStep {
  const held = state.conflicts.find((x) => x.chat === c.chat);
  if (held && (held.role === "second" || c.role === "first")) return { state, actions: [] };
  if (!held && state.conflicts.length >= MAX_CONFLICTS) return { state, actions: [] };
  const next = held ? { ...c, since: held.since } : c;
  const conflicts = [...state.conflicts.filter((x) => x.chat !== c.chat), next];
  return { state: { ...state, conflicts }, actions: [{ type: "conflict", conflict: next }] };
}
