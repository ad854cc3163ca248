// Crops an 8-bit RGBA/RGB, non-interlaced PNG (what Chromium's --screenshot writes) to its top-left W x H.
// Used by render-icons.sh: headless Chromium's viewport is shorter than --window-size for small windows,
// so icons are rendered into a taller window and cropped here. Usage: node scripts/png-crop.mjs <in> <out> <W> <H>
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateSync, deflateSync, crc32 } from 'node:zlib';

const [input, output, W, H] = process.argv.slice(2);
const w = Number(W),
  h = Number(H);
const buf = readFileSync(input);
let pos = 8,
  width = 0,
  height = 0,
  colorType = 0,
  bitDepth = 0,
  interlace = 0;
const idat = [];
while (pos < buf.length) {
  const len = buf.readUInt32BE(pos),
    type = buf.toString('latin1', pos + 4, pos + 8),
    data = buf.subarray(pos + 8, pos + 8 + len);
  if (type === 'IHDR') {
    width = data.readUInt32BE(0);
    height = data.readUInt32BE(4);
    bitDepth = data[8];
    colorType = data[9];
    interlace = data[12];
  }
  if (type === 'IDAT') idat.push(data);
  pos += 12 + len;
}
if (bitDepth !== 8 || (colorType !== 6 && colorType !== 2) || interlace !== 0)
  throw new Error(`${input}: unsupported PNG (depth ${bitDepth}, colour ${colorType}, interlace ${interlace})`);
if (w > width || h > height) throw new Error(`${input}: ${width}x${height} is smaller than ${w}x${h}`);
const bpp = colorType === 6 ? 4 : 3,
  stride = width * bpp,
  raw = inflateSync(Buffer.concat(idat));
const px = Buffer.alloc(height * stride);
for (let y = 0; y < height; y++) {
  // undo PNG row filters
  const f = raw[y * (stride + 1)],
    src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)),
    row = px.subarray(y * stride, (y + 1) * stride);
  const up = y ? px.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
  for (let x = 0; x < stride; x++) {
    const a = x >= bpp ? row[x - bpp] : 0,
      b = up[x],
      c = x >= bpp ? up[x - bpp] : 0;
    let v = src[x];
    if (f === 1) v += a;
    else if (f === 2) v += b;
    else if (f === 3) v += (a + b) >> 1;
    else if (f === 4) {
      const p = a + b - c,
        pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c);
      v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    row[x] = v & 255;
  }
}
const out = Buffer.alloc(h * (w * 4 + 1));
for (let y = 0; y < h; y++)
  for (let x = 0; x < w; x++) {
    const s = y * stride + x * bpp,
      d = y * (w * 4 + 1) + 1 + x * 4;
    out[d] = px[s];
    out[d + 1] = px[s + 1];
    out[d + 2] = px[s + 2];
    out[d + 3] = bpp === 4 ? px[s + 3] : 255;
  }
const chunk = (type, data) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(w, 0);
ihdr.writeUInt32BE(h, 4);
ihdr[8] = 8;
ihdr[9] = 6;
writeFileSync(
  output,
  Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(out, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]),
);
