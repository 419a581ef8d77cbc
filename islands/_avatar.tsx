/**
 * A person's or a group's picture: an identicon drawn from their key's
 * fingerprint (a group's from its id) by minidenticons, inline SVG rendered on
 * the server and the same in the browser. Its colour and shape depend on the
 * fingerprint only, so a look-alike name still gets another picture.
 */
import { minidenticon } from "minidenticons";

/** The SVG markup for `seed`: a 5×5 mirrored pattern in one of 9 colours. */
export function identiconSvg(seed: string): string {
  return minidenticon(seed, 70, 45);
}

export function Avatar(props: { seed: string; online?: boolean; size?: "small" | "large" }) {
  return (
    <span class={`avatar${props.size ? ` ${props.size}` : ""}`} aria-hidden="true">
      <span class="pic" dangerouslySetInnerHTML={{ __html: identiconSvg(props.seed) }} />
      {props.online && <span class="dot" data-online="true" />}
    </span>
  );
}
