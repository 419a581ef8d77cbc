/**
 * Messages that refer to other messages: replies, edits, retractions
 * ("delete for everyone") and reactions. The only import surface of
 * `node/messages/`.
 *
 * - message_body.ts: the entry types and their bodies, schema-checked
 * - fold.ts: the pure fold of a chat's entries into what each message shows
 *
 * @module
 */
export * from "./message_body.ts";
export * from "./fold.ts";
