/// <reference lib="dom" />
/**
 * The admin's keyboard: Ctrl+K (⌘K) focuses the search box on every page;
 * in a conversation, Esc closes an open menu or else goes back to the chat
 * list, and ↑ in an empty composer opens the edit box of your last message
 * (Enter saves it there, Esc closes it).
 */
import { type RefObject } from "preact";
import { useEffect } from "preact/hooks";
import type { MessageView } from "../node/api/mod.ts";

/** Ctrl+K / ⌘K: the header's search box. Installed once by the bundle's entry. */
export function installGlobalKeys(doc: Document = document): void {
  doc.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
      const box = doc.getElementById("search-q") as HTMLInputElement | null;
      if (!box || box.offsetParent === null) return;
      e.preventDefault();
      box.focus();
      box.select();
    }
  });
}

/** Your newest message that may still be edited. */
export function lastEditable(messages: readonly MessageView[]): MessageView | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.mine && !m.deleted && (m.type === "msg" || m.type === "reply")) return m;
  }
  return undefined;
}

export function useConversationKeys(parts: {
  box: RefObject<HTMLTextAreaElement | null>;
  messages: readonly MessageView[];
}): void {
  const { box, messages } = parts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      if (e.key === "Escape") {
        const open = [...document.querySelectorAll<HTMLDetailsElement>("main details[open]")];
        const menu = open[open.length - 1];
        if (menu) {
          e.preventDefault();
          menu.open = false;
          // Back where the person was typing, or on the menu's own button.
          if (menu.closest(".msg")) box.current?.focus();
          else menu.querySelector("summary")?.focus();
          return;
        }
        if (box.current && box.current.value !== "" && e.target === box.current) return;
        const field = e.target as HTMLElement | null;
        if (field !== box.current && field?.matches?.("input, textarea, select")) {
          field.blur(); // leaving the search box is not leaving the chat
          return;
        }
        e.preventDefault();
        location.assign("/chats");
      } else if (
        e.key === "ArrowUp" && box.current && e.target === box.current &&
        box.current.value === "" &&
        !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey
      ) {
        const m = lastEditable(messages);
        const li = m && document.querySelector<HTMLElement>(`.msg[data-id="${m.id}"]`);
        const menu = li?.querySelector<HTMLDetailsElement>("details.actions");
        const edit = menu?.querySelector<HTMLTextAreaElement>("form.edit textarea");
        if (!menu || !edit) return;
        e.preventDefault();
        menu.open = true;
        edit.focus();
        edit.setSelectionRange(edit.value.length, edit.value.length);
        li!.scrollIntoView({ block: "nearest" });
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [messages]);
}
