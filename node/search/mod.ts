/**
 * Full-text search over this node's chats. The only import surface of `node/search/`.
 *
 * - query.ts: the pure query: words, MiniSearch options, ranking, snippets with context
 * - search_index.ts: the bounded in-memory index (npm MiniSearch) and its documents
 * - search_service.ts: fed by message events, rebuilt from the log at start
 *
 * @module
 */
export {
  indexTerm,
  queryTerms,
  runQuery,
  type SearchDoc,
  type SearchHit,
  type SearchQuery,
  snippet,
  SNIPPET_CHARS,
  type SnippetPart,
  STOP_WORDS,
} from "./query.ts";
export { MAX_INDEXED, MAX_INDEXED_CHARS, MAX_INDEXED_TEXT, SearchIndex } from "./search_index.ts";
export { searchDoc, SearchService, type SearchServiceDeps } from "./search_service.ts";
