'use strict';
// The chain itself: inputs, resize forms, output formats and options, toBuffer / toFile /
// metadata results, the module's exports.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp'); // to decode what libthumb wrote
const { read, file, AVATAR, thumb } = require('./helpers');

const isJpeg = (b) => b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
const isPng = (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

test('the module is a function like sharp, also as .default, with version and constants', () => {
  assert.equal(typeof thumb, 'function');
  assert.equal(thumb.default, thumb);
  assert.match(thumb.version, /^\d+\.\d+\.\d+$/);
  assert.equal(thumb.versions.libthumb, thumb.version);
  assert.ok(['avx2', 'scalar'].includes(thumb.versions.simd));
  assert.equal(thumb.gravity.northeast, 5);
  assert.equal(thumb.position['right top'], 5);
  assert.equal(thumb.fit.cover, 'cover');
  assert.equal(thumb.kernel.lanczos3, 'lanczos3');
  assert.equal(thumb.strategy.entropy, 16);
  assert.equal(thumb.errorCodes.THUMB_OK, 0);
  assert.equal(thumb.errorCodes.THUMB_ECORRUPT, 5);
  assert.equal(thumb.concurrency(), 1);
  assert.equal(thumb.cache(false).memory.current, 0);
  assert.equal(typeof thumb.simd(), 'boolean');
  assert.ok(thumb(read('photos/concert.jpg')) instanceof thumb.Thumb);
  const pkg = require('../package.json');
  assert.equal(pkg.version, thumb.version, 'package and library versions agree');
});

test('the avatar job: resize(512, 512).jpeg().toBuffer()', async () => {
  const out = await thumb(read(AVATAR)).resize(512, 512).jpeg().toBuffer();
  assert.ok(Buffer.isBuffer(out));
  assert.ok(isJpeg(out));
  const md = await sharp(out).metadata();
  assert.deepEqual([md.format, md.width, md.height, md.channels, md.isProgressive], ['jpeg', 512, 512, 3, false]);
  assert.equal(md.chromaSubsampling, '4:2:0');
  assert.equal(md.exif, undefined, 'no metadata written');
});

test('inputs: Buffer, Uint8Array, a subarray view, ArrayBuffer and a path give the same bytes', async () => {
  const buf = read('photos/concert.jpg');
  const chain = (input) => thumb(input).resize(64, 64).jpeg().toBuffer();
  const ref = await chain(buf);
  const padded = new Uint8Array(buf.length + 20);
  padded.set(buf, 10);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  for (const [name, input] of [['Uint8Array', new Uint8Array(buf)], ['view', padded.subarray(10, 10 + buf.length)],
    ['ArrayBuffer', ab], ['path', file('photos/concert.jpg')], ['Uint8ClampedArray', new Uint8ClampedArray(buf)]]) {
    assert.ok((await chain(input)).equals(ref), name);
  }
});

test('resize: positional and object forms agree; a later resize replaces an earlier one', async () => {
  const buf = read('photos/flowers.jpeg');
  const a = await thumb(buf).resize(200, 100, { fit: 'contain', position: 'left top', background: '#ff0000' }).toBuffer();
  const b = await thumb(buf).resize({ width: 200, height: 100, fit: 'contain', position: 'northwest', background: 'rgb(255, 0, 0)' }).toBuffer();
  const c = await thumb(buf).resize({ width: 200, height: 100, fit: thumb.fit.contain, position: thumb.gravity.northwest, background: { r: 255, g: 0, b: 0 } }).toBuffer();
  assert.ok(a.equals(b));
  assert.ok(a.equals(c));
  const { info } = await thumb(buf).resize(10, 10).resize(30).toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [30, 17]);
  const none = await thumb(buf).resize().toBuffer({ resolveWithObject: true });
  assert.deepEqual([none.info.width, none.info.height], [1920, 1080], 'resize() with nothing keeps the size');
});

async function pixel(buf, x, y) {
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

test('contain pads with the background (default opaque black, as sharp), at the position', async () => {
  const buf = read('photos/flowers.jpeg'); // 1920 x 1080: padded above and below in a square
  const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 12);
  const red = await thumb(buf).resize(100, 100, { fit: 'contain', background: '#f00' }).png().toBuffer();
  assert.ok(near(await pixel(red, 50, 2), [255, 0, 0]), 'red band at the top');
  assert.ok(near(await pixel(red, 50, 97), [255, 0, 0]), 'red band at the bottom');
  const black = await thumb(buf).resize(100, 100, { fit: 'contain' }).png().toBuffer();
  assert.ok(near(await pixel(black, 50, 2), [0, 0, 0]), 'black by default');
  const top = await thumb(buf).resize(100, 100, { fit: 'contain', position: 'top', background: 'white' }).png().toBuffer();
  assert.ok(near(await pixel(top, 50, 97), [255, 255, 255]), 'image at the top, padding below');
  assert.ok(!near(await pixel(top, 50, 2), [255, 255, 255]), 'no padding above');
  const alpha = await thumb(buf).resize(100, 100, { fit: 'contain', background: { r: 0, g: 0, b: 255, alpha: 0 } }).png().toBuffer();
  assert.equal((await pixel(alpha, 50, 2))[3], 0, 'transparent padding in PNG');
  const rgba = await thumb(buf).resize(100, 100, { fit: 'contain', background: 'rgba(0, 255, 0, 0.5)' }).png().toBuffer();
  const p = await pixel(rgba, 50, 2);
  assert.ok(Math.abs(p[3] - 128) <= 1 && p[1] > 200, `half-transparent green: ${p}`);
});

test('output options reach the encoder: quality, progressive, chroma, PNG compression', async () => {
  const buf = read('photos/flowers.jpeg');
  const q20 = await thumb(buf).resize(300).jpeg({ quality: 20 }).toBuffer();
  const q95 = await thumb(buf).resize(300).jpeg({ quality: 95 }).toBuffer();
  assert.ok(q20.length < q95.length / 2, `${q20.length} vs ${q95.length}`);
  const prog = await sharp(await thumb(buf).resize(300).jpeg({ progressive: true }).toBuffer()).metadata();
  assert.equal(prog.isProgressive, true);
  const c444 = await sharp(await thumb(buf).resize(300).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()).metadata();
  assert.equal(c444.chromaSubsampling, '4:4:4');
  const p0 = await thumb(buf).resize(300).png({ compressionLevel: 0 }).toBuffer();
  const p9 = await thumb(buf).resize(300).png({ compressionLevel: 9 }).toBuffer();
  assert.ok(isPng(p0) && isPng(p9) && p9.length < p0.length);
  const adam7 = await sharp(await thumb(buf).resize(50).png({ progressive: true }).toBuffer()).metadata();
  assert.equal(adam7.isProgressive, true);
  assert.ok(isPng(await thumb(buf).resize(30).toFormat('png').toBuffer()));
  assert.ok(isJpeg(await thumb(read('photos/logo.png')).resize(30).toFormat({ id: 'jpg' }).toBuffer()));
  assert.ok(isPng(await thumb(read('photos/logo.png')).resize(30).toBuffer()), 'PNG in, PNG out by default');
  assert.ok(isJpeg(await thumb(buf).resize(30).toBuffer()), 'JPEG in, JPEG out by default');
});

test('toBuffer: resolveWithObject gives {data, info}; the callback gets (err, data, info); toUint8Array', async () => {
  const buf = read('photos/logo.png');
  const { data, info } = await thumb(buf).resize(100, 50).toBuffer({ resolveWithObject: true });
  assert.deepEqual(info, { format: 'png', width: 100, height: 50, channels: 4, premultiplied: false, size: data.length });
  const [d2, i2] = await new Promise((resolve, reject) => {
    const ret = thumb(buf).resize(100, 50).toBuffer((err, d, i) => (err ? reject(err) : resolve([d, i])));
    assert.ok(ret instanceof thumb.Thumb, 'the callback form returns the instance');
  });
  assert.ok(d2.equals(data));
  assert.deepEqual(i2, info);
  const u = await thumb(buf).resize(100, 50).toUint8Array();
  assert.ok(u.data instanceof Uint8Array);
  assert.deepEqual(Buffer.from(u.data), data);
  const j = await thumb(read(AVATAR)).resize(64).jpeg().toBuffer({ resolveWithObject: true });
  assert.deepEqual([j.info.format, j.info.channels], ['jpeg', 3]);
  const g = await thumb(read('photos/concert.jpg')).resize(64).toBuffer({ resolveWithObject: true });
  assert.equal(g.info.channels, 1, 'grey stays grey');
});

test('toFile: writes atomically (no temporary left), resolves to info, format from the extension', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libthumb-api-'));
  try {
    const a = path.join(dir, 'a.jpg');
    const info = await thumb(read(AVATAR)).resize(128, 128).toFile(a);
    assert.deepEqual(info, { format: 'jpeg', width: 128, height: 128, channels: 3, premultiplied: false, size: fs.statSync(a).size });
    assert.ok(isJpeg(fs.readFileSync(a)));
    const b = path.join(dir, 'b.png');
    const ib = await thumb(file(AVATAR)).resize(64).toFile(b);
    assert.equal(ib.format, 'png');
    assert.ok(isPng(fs.readFileSync(b)));
    const c = path.join(dir, 'c.out');
    assert.equal((await thumb(read('photos/logo.png')).resize(20).toFile(c)).format, 'png', 'no known extension: the input format');
    const d = path.join(dir, 'd.png');
    assert.equal((await thumb(file(AVATAR)).resize(20).jpeg().toFile(d)).format, 'jpeg', 'an explicit format wins');
    assert.ok(isJpeg(fs.readFileSync(d)));
    // overwrite in place
    await thumb(read(AVATAR)).resize(32, 32).toFile(a);
    assert.equal((await sharp(a).metadata()).width, 32);
    const viaCb = await new Promise((resolve, reject) => thumb(read(AVATAR)).resize(16).toFile(path.join(dir, 'e.jpg'), (e, i) => (e ? reject(e) : resolve(i))));
    assert.equal(viaCb.width, 16);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.jpg', 'b.png', 'c.out', 'd.png', 'e.jpg']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('metadata(): format, sizes, orientation, channels, alpha, progressive, profile', async () => {
  const m = await thumb(read(AVATAR)).metadata();
  assert.deepEqual([m.format, m.width, m.height, m.channels, m.hasAlpha, m.isProgressive, m.space, m.size],
    ['jpeg', 2725, 2225, 3, false, false, 'srgb', 829183]);
  const e = await thumb(file('exif/Landscape_6.jpg')).metadata();
  assert.equal(e.orientation, 6);
  assert.deepEqual(e.autoOrient, { width: e.height, height: e.width });
  assert.equal(e.size, undefined, 'size only for memory input, as sharp');
  const p = await thumb(read('edge/with-alpha.png')).metadata();
  assert.deepEqual([p.format, p.hasAlpha, p.channels], ['png', true, 4]);
  assert.equal((await thumb(read('jpeg-variants/video-001.progressive.jpeg')).metadata()).isProgressive, true);
  assert.equal((await thumb(read('photos/Channel_digital_image_CMYK_color.jpg')).metadata()).hasProfile, true);
  assert.equal((await thumb(read('photos/concert.jpg')).metadata()).space, 'b-w');
  const viaCb = await new Promise((resolve, reject) => thumb(read(AVATAR)).metadata((err, md) => (err ? reject(err) : resolve(md))));
  assert.equal(viaCb.width, 2725);
});

test('orientation: rotate() and autoOrient apply EXIF, the default (as sharp) does not', async () => {
  const buf = read('exif/Landscape_6.jpg'); // stored 450x600, displayed 600x450
  const dims = async (p) => { const { info } = await p.toBuffer({ resolveWithObject: true }); return [info.width, info.height]; };
  assert.deepEqual(await dims(thumb(buf).resize(60)), [60, 80]);
  assert.deepEqual(await dims(thumb(buf).rotate().resize(60)), [60, 45]);
  assert.deepEqual(await dims(thumb(buf).autoOrient().resize(60)), [60, 45]);
  assert.deepEqual(await dims(thumb(buf, { autoOrient: true }).resize(60)), [60, 45]);
  assert.deepEqual(await dims(thumb(buf, { autoOrient: false }).resize(60)), [60, 80]);
});

test('ignoreIcc keeps the pixels of a profiled image as stored', async () => {
  const buf = read('photos/Channel_digital_image_CMYK_color.jpg');
  const a = await thumb(buf).resize(50).toBuffer();
  const b = await thumb(buf, { ignoreIcc: true }).resize(50).toBuffer();
  assert.ok(!a.equals(b), 'the profile changes the output unless ignored');
});

test('clone(): a copy of the chain that can change on its own', async () => {
  const base = thumb(read(AVATAR)).resize(40, 40);
  const png = base.clone().png();
  const [a, b] = await Promise.all([base.toBuffer(), png.toBuffer()]);
  assert.ok(isJpeg(a));
  assert.ok(isPng(b));
});

test('kernels: nearest, linear, cubic and lanczos3 all work and differ', async () => {
  const buf = read('photos/flowers.jpeg');
  const outs = [];
  for (const k of ['nearest', 'linear', 'cubic', 'lanczos3']) outs.push(await thumb(buf).resize(97, null, { kernel: k }).png().toBuffer());
  for (let i = 1; i < outs.length; i++) assert.ok(!outs[i].equals(outs[0]));
});
