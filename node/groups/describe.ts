/** Membership changes as sentences a person reads (group_book.ts lines). */
import type { Change } from "./membership.ts";

/** A membership change as a sentence. */
export function describe(c: Change, name: (hex: string) => string): string {
  switch (c.op) {
    case "create":
      return `${name(c.author)} created the group "${c.name}"`;
    case "add":
      return `${name(c.author)} added ${name(c.member)}`;
    case "remove":
      return `${name(c.author)} removed ${name(c.member)}`;
    case "leave":
      return `${name(c.author)} left${c.promoted ? `; ${name(c.promoted)} is now an admin` : ""}`;
    case "promote":
      return `${name(c.author)} made ${name(c.member)} an admin`;
    case "rekey":
      return `${name(c.author)} renewed the group key`;
    case "hello":
      return `${name(c.author)} is here (calls themself "${c.name}")`;
  }
}
