// The drift summary's chart: one small PNG per drifted feature, the reference's share of each bin (or category) beside
// production's, as grouped bars. Text cannot be drawn without a font, so the image holds only the bars and the
// markdown around it names the feature, the colours and the bins (the table under it has the numbers).
// The PNG is written by hand (an 8-bit palette image: signature, IHDR, PLTE, IDAT deflated by node:zlib, IEND; PNG
// specification, W3C REC 2003, §5 and §11): four colours and a few hundred pixels do not justify a dependency.
import { deflateSync } from 'node:zlib';

/** Palette: 0 background, 1 reference (Azure blue #0078D4), 2 production (orange #D83B01), 3 axis (grey #8A8886). */
const PALETTE = [0xff, 0xff, 0xff, 0x00, 0x78, 0xd4, 0xd8, 0x3b, 0x01, 0x8a, 0x88, 0x86];
export const CHART_COLOURS = { reference: '#0078D4 (blue)', production: '#D83B01 (orange)' };

export interface ChartGeometry {
  /** bar width in pixels */
  bar: number;
  /** gap between two bins */
  gap: number;
  /** plot height in pixels (the tallest share fills it) */
  height: number;
}
export const DEFAULT_GEOMETRY: ChartGeometry = { bar: 8, gap: 6, height: 96 };

/**
 * The bar heights in pixels: the shares of each side (count / total), scaled so the largest share of either side
 * fills the plot; a non-zero share is at least one pixel high.
 */
export function barHeights(
  reference: number[],
  production: number[],
  height: number,
): { ref: number[]; prod: number[] } {
  const share = (xs: number[]) => {
    const t = xs.reduce((s, v) => s + v, 0);
    return xs.map((v) => (t ? v / t : 0));
  };
  const r = share(reference),
    p = share(production);
  const top = Math.max(...r, ...p, 0);
  const px = (s: number) => (s > 0 && top > 0 ? Math.max(1, Math.round((s / top) * height)) : 0);
  return { ref: r.map(px), prod: p.map(px) };
}

/** The PNG of a grouped bar chart: per bin, reference then production, then a gap; a grey axis under the bars. */
export function histogramPng(reference: number[], production: number[], g: ChartGeometry = DEFAULT_GEOMETRY): Buffer {
  if (reference.length !== production.length) throw new RangeError('both sides need the same bins');
  const { ref, prod } = barHeights(reference, production, g.height);
  const width = Math.max(1, ref.length * (2 * g.bar + g.gap) + g.gap);
  const plotTop = 4; // a margin above the tallest bar
  const heightPx = plotTop + g.height + 1; // + the axis row
  const raw = Buffer.alloc(heightPx * (width + 1)); // each row: filter byte 0 (None), then one palette index per pixel
  for (let y = 0; y < heightPx; y++) {
    const row = y * (width + 1);
    if (y === heightPx - 1) {
      raw.fill(3, row + 1, row + 1 + width);
      continue;
    }
    const fromBottom = plotTop + g.height - y; // 1 … height for the plot rows
    ref.forEach((h, k) => {
      const x0 = g.gap + k * (2 * g.bar + g.gap);
      if (fromBottom <= h) raw.fill(1, row + 1 + x0, row + 1 + x0 + g.bar);
      if (fromBottom <= prod[k]!) raw.fill(2, row + 1 + x0 + g.bar, row + 1 + x0 + 2 * g.bar);
    });
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(heightPx, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // colour type: palette
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(PALETTE)),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// CRC-32 (ISO-HDLC, polynomial 0xEDB88320) as PNG §5.5 defines it; zlib.crc32 only exists from Node 20.15.
let TABLE: Uint32Array | undefined;
function crc32(buf: Buffer): number {
  if (!TABLE) {
    TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of buf) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The markdown image of a chart, inline as a data URI (the summary is one file; see the ASSUMPTION in driftSummary). */
export function chartImage(alt: string, png: Buffer): string {
  return `![${alt.replace(/[[\]\\]/g, (c) => `\\${c}`)}](data:image/png;base64,${png.toString('base64')})`;
}
