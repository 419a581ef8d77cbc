/**
 * The pure half of search: a query against an index's MiniSearch and its
 * documents, answered as hits with context. No I/O, no clock: the same
 * index and query give the same hits (ties broken by time, then id).
 */
import type MiniSearch from "minisearch";

/** One message as the index keeps it (text already decrypted for groups). */
export interface SearchDoc {
  /** The entry's hash (hex), which names the message. */
  readonly id: string;
  /** The chat's id (names change; ids do not). */
  readonly chat: string;
  readonly author: string;
  readonly authorFingerprint: string;
  readonly mine: boolean;
  readonly seq: number;
  readonly lamport: number;
  readonly ts: number;
  /** At most MAX_INDEXED_TEXT characters of the message. */
  readonly text: string;
}

/** A piece of a snippet: `hit` marks a word the query matched. */
export interface SnippetPart {
  readonly text: string;
  readonly hit: boolean;
}

export interface SearchQuery {
  readonly text: string;
  /** Only this chat (its id). */
  readonly chat?: string;
  /** @default 20 */
  readonly limit?: number;
}

export interface SearchHit {
  readonly doc: SearchDoc;
  readonly score: number;
  /** The message around its first match, at most about SNIPPET_CHARS characters. */
  readonly snippet: SnippetPart[];
}

/** Characters of context a snippet shows around the first match. */
export const SNIPPET_CHARS = 160;

/**
 * English words too common to index: a query for one would rank a third of
 * all messages (most of the time a search takes, and much of the index's
 * memory), and says nothing. A query of only such words finds nothing.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  ("a an and are as at be but by for from had has have he her his i if in is it its me my no " +
    "not of on or our she so that the their them they this to was we were what with you your")
    .split(" "),
);

/** How the index turns a word into a term: lower case; null for a stop word. */
export function indexTerm(word: string): string | null {
  const t = word.toLowerCase();
  return STOP_WORDS.has(t) ? null : t;
}

/** Words of a query (what MiniSearch's tokenizer would split), lower case, stop words apart. */
export function queryTerms(text: string): { terms: string[]; ignored: string[] } {
  const words = text.toLowerCase().split(/[\n\r\p{Z}\p{P}]+/u).filter((t) => t.length > 0);
  return {
    terms: words.filter((w) => !STOP_WORDS.has(w)),
    ignored: [...new Set(words.filter((w) => STOP_WORDS.has(w)))],
  };
}

/** MiniSearch options for a query: every word must match, the last (and any ≥ 3 letters) as a prefix. */
export function searchOptions(chat?: string, docs?: ReadonlyMap<string, SearchDoc>) {
  return {
    combineWith: "AND" as const,
    prefix: (term: string) => term.length >= 3,
    fuzzy: false as const,
    ...(chat !== undefined && docs
      ? { filter: (r: { id: string }) => docs.get(r.id)?.chat === chat }
      : {}),
  };
}

/**
 * Answers `q` from `index` (whose ids are the keys of `docs`): the best
 * `limit` hits, by score, then newest first.
 */
export function runQuery(
  index: MiniSearch<SearchDoc>,
  docs: ReadonlyMap<string, SearchDoc>,
  q: SearchQuery,
): { hits: SearchHit[]; total: number; ignored: string[] } {
  const { terms, ignored } = queryTerms(q.text);
  if (terms.length === 0) return { hits: [], total: 0, ignored };
  const found = index.search(terms.join(" "), searchOptions(q.chat, docs));
  const limit = q.limit ?? 20;
  const ranked = found
    .map((r) => ({ r, doc: docs.get(r.id as string) }))
    .filter((x): x is { r: typeof x.r; doc: SearchDoc } => x.doc !== undefined)
    .sort((a, b) => b.r.score - a.r.score || b.doc.ts - a.doc.ts || (a.doc.id < b.doc.id ? -1 : 1));
  return {
    ignored,
    total: ranked.length,
    hits: ranked.slice(0, limit).map(({ r, doc }) => ({
      doc,
      score: r.score,
      snippet: snippet(doc.text, Object.keys(r.match)),
    })),
  };
}

/**
 * The text around the first word that starts with one of `matched` (index
 * terms, lower case), cut at word boundaries, with every matching word marked.
 */
export function snippet(text: string, matched: readonly string[], width = SNIPPET_CHARS) {
  const words = [...text.matchAll(/[^\n\r\p{Z}\p{P}]+/gu)];
  const isHit = (w: string) => {
    const l = w.toLowerCase();
    return matched.some((m) => l === m || l.startsWith(m));
  };
  const first = words.find((w) => isHit(w[0]));
  let start = 0;
  let end = text.length;
  if (text.length > width) {
    const at = first?.index ?? 0;
    start = Math.max(0, at - Math.floor(width / 3));
    end = Math.min(text.length, start + width);
    start = Math.max(0, end - width);
    // Cut at whitespace where there is some near the edge.
    if (start > 0) {
      const sp = text.indexOf(" ", start);
      if (sp !== -1 && sp < at && sp - start < 20) start = sp + 1;
    }
    if (end < text.length) {
      const sp = text.lastIndexOf(" ", end);
      if (sp > start && end - sp < 20) end = sp;
    }
  }
  const parts: SnippetPart[] = [];
  const push = (t: string, hit: boolean) => {
    if (t === "") return;
    const last = parts.at(-1);
    if (last && last.hit === hit) parts[parts.length - 1] = { text: last.text + t, hit };
    else parts.push({ text: t, hit });
  };
  if (start > 0) push("…", false);
  let pos = start;
  for (const w of words) {
    const ws = w.index;
    const we = ws + w[0].length;
    if (we <= start || ws >= end) continue;
    if (!isHit(w[0])) continue;
    const s = Math.max(ws, start);
    const e = Math.min(we, end);
    push(text.slice(pos, s), false);
    push(text.slice(s, e), true);
    pos = e;
  }
  push(text.slice(pos, end), false);
  if (end < text.length) push("…", false);
  return parts;
}
