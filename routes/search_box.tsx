/** The search box every signed-in page shows in its header: a plain GET form to /search. */
import { MAX_QUERY } from "../node/mod.ts";

export function SearchBox(props: { query?: string; id?: string; label?: string }) {
  const id = props.id ?? "search-q";
  return (
    <form class="search" role="search" method="get" action="/search">
      <label class={props.label ? "" : "sr-only"} for={id}>
        {props.label ?? "Search messages"}
      </label>
      <input
        id={id}
        type="search"
        name="q"
        placeholder="Search"
        maxLength={MAX_QUERY}
        value={props.query ?? ""}
        required
      />
      <button type="submit">Search</button>
    </form>
  );
}
