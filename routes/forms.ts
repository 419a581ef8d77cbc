/**
 * The admin's HTML forms: each one's fields checked by a schema with messages
 * a person can act on, before anything reaches parseCall and the node.
 */
import { z } from "zod";
import type { Context } from "hono";
import { MAX_INVITE, MAX_TEXT } from "../node/mod.ts";

const name = (what: string) =>
  z.string({ error: `${what} is missing.` }).trim()
    .min(1, `Type ${what.toLowerCase()}.`)
    .max(40, `${what} has at most 40 characters.`);

const invite = z.string({ error: "The invite is missing." }).trim()
  .min(1, "Paste an invite first.")
  .max(MAX_INVITE, `An invite has at most ${MAX_INVITE} characters; this is not one.`);

/** One schema per form. */
export const forms = {
  send: z.object({
    text: z.string({ error: "The message is missing." })
      .max(MAX_TEXT, `A message has at most ${MAX_TEXT} characters.`)
      .refine((t) => t.trim() !== "", "Type a message first."),
  }).strict(),
  rename: z.object({ name: name("The contact's name"), to: name("The new name") }).strict(),
  contact: z.object({ name: name("The contact's name") }).strict(),
  verify: z.object({
    name: name("The contact's name"),
    verified: z.enum(["yes", "no"], { error: "Say whether to mark or unmark." })
      .transform((v) => v === "yes"),
  }).strict(),
  invite: z.object({
    expiresIn: z.enum(["3600", "86400", "604800"], {
      error: "Pick how long the invite stays valid.",
    }).transform(Number),
    uses: z.string({ error: "Say how many people may use it." }).trim()
      .regex(/^\d{1,3}$/, "How many people may use it: a whole number from 1 to 100.")
      .transform(Number)
      .refine((n) => n >= 1 && n <= 100, "How many people may use it: from 1 to 100."),
  }).strict(),
  preview: z.object({ invite }).strict(),
  add: z.object({
    invite,
    name: z.string().trim().max(40, "A name has at most 40 characters.").optional()
      .transform((n) => (n === "" ? undefined : n)),
  }).strict(),
  groupNew: z.object({
    name: z.string({ error: "The group's name is missing." }).trim()
      .min(1, "Type a name for the group.")
      .max(64, "A group's name has at most 64 characters."),
  }).strict(),
  member: z.object({ member: name("The member") }).strict(),
  connect: z.object({
    address: z.string({ error: "The address is missing." }).trim()
      .min(1, "Type your friend's address, like 203.0.113.7:7420.")
      .max(300, "An address has at most 300 characters."),
  }).strict(),
  leave: z.object({}).strict(),
  chatSetting: z.object({
    set: z.enum(["mute", "unmute", "pin", "unpin", "archive", "unarchive"], {
      error: "Say which setting to change.",
    }),
  }).strict(),
  notifications: z.object({
    notifyPreview: z.enum(["full", "hidden"], { error: "Say what a notification shows." }),
  }).strict(),
  login: z.object({ token: z.string().max(2048, "That is far too long for a token.") }).strict(),
  deviceLink: z.object({}).strict(),
  deviceRemove: z.object({
    name: z.string({ error: "Say which device to remove." }).trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, "That is not the name of a device."),
    confirm: z.literal("yes", { error: "Confirm the removal on the page that asks." }),
  }).strict(),
} as const;

export type FormResult<T> =
  | { ok: true; data: T; values: Record<string, string> }
  | { ok: false; error: string; values: Record<string, string> };

/**
 * Reads an `application/x-www-form-urlencoded` body (the body limit has run)
 * and checks it with `schema`; the first problem becomes the message.
 */
export async function readForm<T>(c: Context, schema: z.ZodType<T>): Promise<FormResult<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    return { ok: false, error: "This form must be sent as a web form.", values: {} };
  }
  const values: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(await c.req.text())) {
    if (!Object.hasOwn(values, k)) values[k] = v;
  }
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  // A field no form of ours has says more about the request than a short name does.
  const issue = parsed.error.issues.find((i) => i.code === "unrecognized_keys") ??
    parsed.error.issues[0];
  const error = issue?.code === "unrecognized_keys"
    ? `Unexpected field ${JSON.stringify(issue.keys[0] ?? "")} in the form.`
    : issue?.message ?? "The form is not valid.";
  return { ok: false, error, values };
}
