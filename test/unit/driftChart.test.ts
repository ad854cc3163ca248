// src/tasks/drift/chart.ts: the drift summary's PNG, decoded here independently (node:zlib's inflate and crc32, the
// PNG specification's chunk layout) and its bars measured in pixels against shares computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, inflateSync } from 'node:zlib';
import { histogramPng, DEFAULT_GEOMETRY } from '../../src/tasks/drift/chart';

interface Decoded {
  width: number;
  height: number;
  palette: number[][];
  pixels: number[][]; // palette index per [y][x]
}

function decodePng(png: Buffer): Decoded {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let off = 8;
  const chunks: { type: string; data: Buffer }[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(png.readUInt32BE(off + 8 + len), crc32(png.subarray(off + 4, off + 8 + len)) >>> 0, `CRC of ${type}`);
    chunks.push({ type, data });
    off += 12 + len;
  }
  assert.deepEqual(
    chunks.map((c) => c.type),
    ['IHDR', 'PLTE', 'IDAT', 'IEND'],
  );
  const ihdr = chunks[0]!.data;
  const width = ihdr.readUInt32BE(0),
    height = ihdr.readUInt32BE(4);
  assert.deepEqual([ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]], [8, 3, 0, 0, 0], '8-bit palette, no interlace');
  const plte = chunks[1]!.data;
  const palette = [];
  for (let i = 0; i < plte.length; i += 3) palette.push([plte[i]!, plte[i + 1]!, plte[i + 2]!]);
  const raw = inflateSync(chunks[2]!.data);
  assert.equal(raw.length, height * (width + 1));
  const pixels: number[][] = [];
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width + 1)], 0, 'filter None');
    pixels.push([...raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1))]);
  }
  return { width, height, palette, pixels };
}

/** the height in pixels of the run of `colour` standing on the row above the axis, in column x */
const columnHeight = (d: Decoded, x: number, colour: number) => {
  let h = 0;
  for (let y = d.height - 2; y >= 0 && d.pixels[y]![x] === colour; y--) h++;
  return h;
};

test('bars: each side its share of the bin, the tallest share fills the plot, reference beside production', () => {
  // reference shares 0.1 0.3 0 0.6, production 0 0.5 0.5 0 → tallest 0.6 = 96 px:
  // reference 16, 48, 0, 96 px; production 0, 80, 80, 0 px (0.5 / 0.6 × 96 = 80)
  const png = histogramPng([10, 30, 0, 60], [0, 5, 5, 0]);
  const d = decodePng(png);
  const { bar, gap, height } = DEFAULT_GEOMETRY;
  assert.equal(d.width, 4 * (2 * bar + gap) + gap);
  assert.deepEqual(d.palette[1], [0x00, 0x78, 0xd4], 'reference blue');
  assert.deepEqual(d.palette[2], [0xd8, 0x3b, 0x01], 'production orange');
  assert.ok(
    d.pixels[d.height - 1]!.every((p) => p === 3),
    'grey axis row',
  );
  const expected = { ref: [16, 48, 0, 96], prod: [0, 80, 80, 0] };
  for (let k = 0; k < 4; k++) {
    const x0 = gap + k * (2 * bar + gap);
    for (let x = x0; x < x0 + bar; x++)
      assert.equal(columnHeight(d, x, 1), expected.ref[k], `reference bin ${k} x=${x}`);
    for (let x = x0 + bar; x < x0 + 2 * bar; x++)
      assert.equal(columnHeight(d, x, 2), expected.prod[k], `production bin ${k} x=${x}`);
    for (let x = x0 - gap; x < x0; x++) assert.equal(columnHeight(d, x, 0), height + 4, `gap before bin ${k}`);
  }
});

test('a tiny non-zero share is still one pixel; empty sides draw nothing; mismatched bins are refused', () => {
  const d = decodePng(histogramPng([1, 999], [0, 0]));
  const { bar, gap } = DEFAULT_GEOMETRY;
  assert.equal(columnHeight(d, gap, 1), 1, '0.1 % of the rows is still visible');
  assert.equal(columnHeight(d, gap + bar, 2), 0);
  const empty = decodePng(histogramPng([0, 0], [0, 0]));
  assert.ok(empty.pixels.slice(0, -1).every((row) => row.every((p) => p === 0)));
  assert.throws(() => histogramPng([1], [1, 2]), /same bins/);
});
