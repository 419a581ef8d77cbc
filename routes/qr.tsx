/** A QR code as inline SVG, drawn on the server (npm:uqr), black on white in every theme. */
import { encode } from "uqr";

export function QrCode(props: { text: string; label: string }) {
  let qr: ReturnType<typeof encode>;
  try {
    qr = encode(props.text, { ecc: "M", border: 2 });
  } catch {
    // Longer than a QR code holds (a v2 card with several devices' certificates): the text still is.
    return <p class="qr-none">Too long for a QR code: copy the text instead.</p>;
  }
  let d = "";
  qr.data.forEach((row, y) =>
    row.forEach((on, x) => {
      if (on) d += `M${x} ${y}h1v1h-1z`;
    })
  );
  return (
    <div class="qr">
      <svg
        viewBox={`0 0 ${qr.size} ${qr.size}`}
        role="img"
        aria-label={props.label}
        shape-rendering="crispEdges"
      >
        <path class="on" d={d} />
      </svg>
    </div>
  );
}
