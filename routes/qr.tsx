/** A QR code as inline SVG, drawn on the server (npm:uqr), black on white in every theme. */
import { encode } from "uqr";

export function QrCode(props: { text: string; label: string }) {
  const qr = encode(props.text, { ecc: "M", border: 2 });
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
