/** The local API's introduction methods (node/introductions), for the handlers table. */
import type { ChatDirectory } from "../chats/mod.ts";
import type { IntroService } from "../introductions/mod.ts";
import { RojError } from "../errors.ts";
import type { Handlers } from "./handlers.ts";

type IntroMethods = "introduce" | "introductions" | "accept" | "decline" | "card" | "card.import";

export function introHandlers(
  intros: IntroService | undefined,
  directory: ChatDirectory,
): Pick<Handlers, IntroMethods> {
  const on = (): IntroService => {
    if (!intros) {
      throw new RojError("refused", "this node is a passive anchor: it makes no introductions");
    }
    return intros;
  };
  return {
    introduce: (p) => on().introduce(directory.contact(p.a), directory.contact(p.b), p.expiresIn),
    introductions: () => on().list(),
    accept: (p) => on().accept(p.id),
    decline: (p) => on().decline(p.id),
    card: (p) =>
      on().card(p.name === undefined ? undefined : directory.contact(p.name), p.expiresIn),
    "card.import": (p) => on().importCard(p.card),
  };
}
