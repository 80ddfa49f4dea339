'use strict';
// The same calls on libthumb and on sharp give the same format and dimensions (and, where it is
// checked, a close picture): fits, positions, one-sided sizes, withoutEnlargement, fastShrinkOnLoad,
// EXIF orientations with and without rotate(), PNG with alpha, output formats.
const test = require('node:test');
const assert = require('node:assert/strict');
const sharp = require('sharp');
const { read, AVATAR, psnr, thumb } = require('./helpers');

sharp.cache(false);

const fs = require('fs');
const { file } = require('./helpers');
const EXIF = fs.readdirSync(file('exif')).filter((f) => f.endsWith('.jpg')).sort().map((f) => `exif/${f}`);
const FILES = [
  AVATAR, 'photos/flowers.jpeg', 'photos/concert.jpg', 'photos/Channel_digital_image_CMYK_color.jpg',
  'photos/logo.png', 'edge/with-alpha.png', 'edge/grey-8bit-alpha.png',
  'jpeg-variants/video-001.progressive.jpeg', 'jpeg-variants/video-001.q50.422.jpeg', 'pngsuite/basn2c08.png',
  ...EXIF
];
const SIZES = [[512, 512], [100, 300], [300, 100], [200, undefined], [undefined, 150], [77, 33], [1500, 1000]];
const FITS = ['cover', 'contain', 'fill', 'inside', 'outside'];

async function shape(lib, buf, chain) {
  try {
    const { info } = await chain(lib(buf)).toBuffer({ resolveWithObject: true });
    return `${info.format} ${info.width}x${info.height}`;
  } catch (e) {
    return `error ${e.message}`;
  }
}

async function compare(t, name, buf, chains) {
  const diffs = [];
  for (const [label, chain] of chains) {
    const [a, b] = await Promise.all([shape(thumb, buf, chain), shape(sharp, buf, chain)]);
    if (a !== b) diffs.push(`${name} ${label}: libthumb ${a}, sharp ${b}`);
  }
  assert.deepEqual(diffs, [], diffs.join('\n'));
}

for (const f of FILES) {
  test(`parity: ${f}: fits x sizes, with and without rotate()`, async (t) => {
    const buf = read(f);
    const chains = [];
    for (const rot of [false, true]) {
      for (const fit of FITS) {
        for (const [w, h] of SIZES) {
          chains.push([`${rot ? 'rotate().' : ''}resize(${w}, ${h}, {fit: ${fit}})`,
            (p) => (rot ? p.rotate() : p).resize(w, h, { fit })]);
        }
      }
    }
    await compare(t, f, buf, chains);
  });
}

test('parity: positions, gravities and withoutEnlargement', async (t) => {
  const chains = [];
  const positions = ['centre', 'center', 'top', 'right top', 'right', 'right bottom', 'bottom', 'left bottom',
    'left', 'left top', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest', 5];
  for (const position of positions) {
    for (const fit of ['cover', 'contain']) chains.push([`${fit} ${position}`, (p) => p.resize(120, 90, { fit, position })]);
  }
  for (const fit of FITS.filter((f) => f !== 'contain')) { // contain: see errors.test.js
    for (const [w, h] of [[5000, 5000], [4000, 100], [100, 4000], [8000, undefined], [undefined, 3000], [300, 300]]) {
      chains.push([`withoutEnlargement ${fit} ${w}x${h}`, (p) => p.resize({ width: w, height: h, fit, withoutEnlargement: true })]);
    }
  }
  for (const fastShrinkOnLoad of [true, false]) {
    for (const [w, h] of [[200, undefined], [undefined, 150], [333, 333], [171, 97]]) {
      for (const fit of ['inside', 'outside', 'cover']) {
        chains.push([`fastShrinkOnLoad ${fastShrinkOnLoad} ${fit} ${w}x${h}`, (p) => p.resize(w, h, { fit, fastShrinkOnLoad })]);
      }
    }
  }
  await compare(t, AVATAR, read(AVATAR), chains);
  await compare(t, 'photos/logo.png', read('photos/logo.png'), chains.slice(0, 40));
});

test('parity: output formats follow sharp (input format by default, jpeg/png/toFormat)', async (t) => {
  const chains = [
    ['no resize', (p) => p],
    ['resize only', (p) => p.resize(64)],
    ['jpeg()', (p) => p.resize(64).jpeg()],
    ['png()', (p) => p.resize(64).png()],
    ["toFormat('jpg')", (p) => p.resize(64).toFormat('jpg')],
    ["toFormat('png', {compressionLevel: 9})", (p) => p.resize(64).toFormat('png', { compressionLevel: 9 })],
    ['png({force: false})', (p) => p.resize(64).png({ force: false })],
    ['jpeg({quality: 50, progressive, 4:4:4})', (p) => p.resize(64).jpeg({ quality: 50, progressive: true, chromaSubsampling: '4:4:4' })]
  ];
  await compare(t, 'photos/concert.jpg', read('photos/concert.jpg'), chains);
  await compare(t, 'edge/with-alpha.png', read('edge/with-alpha.png'), chains);
});

async function raw(buf) {
  return sharp(buf).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
}

test('parity: the avatar looks like sharp\'s (PSNR >= 30 dB)', async () => {
  const buf = read(AVATAR);
  const a = await raw(await thumb(buf).resize(512, 512).jpeg().toBuffer());
  const b = await raw(await sharp(buf).resize(512, 512).jpeg().toBuffer());
  assert.equal(a.info.width, 512);
  assert.equal(a.info.height, 512);
  const db = psnr(a.data, b.data);
  assert.ok(db >= 30, `PSNR ${db.toFixed(2)} dB`);
});

test('parity: rotate() turns every EXIF orientation upright like sharp (exif/ dir)', async () => {
  const ref = await raw(await sharp(read('exif/Landscape_1.jpg')).rotate().resize(200, 150).png().toBuffer());
  for (let n = 1; n <= 8; n++) {
    const buf = read(`exif/Landscape_${n}.jpg`);
    const a = await raw(await thumb(buf).rotate().resize(200, 150).png().toBuffer());
    const b = await raw(await sharp(buf).rotate().resize(200, 150).png().toBuffer());
    assert.equal(a.info.width, 200);
    assert.equal(a.info.height, 150);
    assert.ok(psnr(a.data, ref.data) >= 25, `Landscape_${n} upright: ${psnr(a.data, ref.data).toFixed(1)} dB`);
    assert.ok(psnr(a.data, b.data) >= 28, `Landscape_${n} vs sharp: ${psnr(a.data, b.data).toFixed(1)} dB`);
    // without rotate() neither turns it (sharp's autoOrient default is false)
    const s = await thumb(buf).resize(100).toBuffer({ resolveWithObject: true });
    const r = await sharp(buf).resize(100).toBuffer({ resolveWithObject: true });
    assert.deepEqual([s.info.width, s.info.height], [r.info.width, r.info.height]);
  }
});

test('parity: PNG with alpha keeps it in PNG output, and is flattened like sharp in JPEG output', async () => {
  const buf = read('edge/with-alpha.png');
  const a = await thumb(buf).resize(100, 100).png().toBuffer({ resolveWithObject: true });
  const b = await sharp(buf).resize(100, 100).png().toBuffer({ resolveWithObject: true });
  assert.equal(a.info.channels, 4);
  assert.equal(a.info.channels, b.info.channels);
  const ma = await sharp(a.data).metadata();
  assert.equal(ma.hasAlpha, true);
  const ja = await raw(await thumb(buf).resize(100, 100).jpeg().toBuffer());
  const jb = await raw(await sharp(buf).resize(100, 100).jpeg().toBuffer());
  assert.ok(psnr(ja.data, jb.data) >= 25, `flattened: ${psnr(ja.data, jb.data).toFixed(1)} dB`);
});

test('parity: metadata() agrees with sharp on the fields both have', async () => {
  for (const f of [AVATAR, 'photos/logo.png', 'exif/Landscape_6.jpg', 'photos/concert.jpg', 'edge/grey-8bit-alpha.png',
    'jpeg-variants/video-001.progressive.jpeg', 'photos/Channel_digital_image_CMYK_color.jpg']) {
    const buf = read(f);
    const a = await thumb(buf).metadata();
    const b = await sharp(buf).metadata();
    for (const k of ['format', 'width', 'height', 'isProgressive', 'hasAlpha', 'hasProfile', 'size', 'channels']) {
      assert.deepEqual(a[k], b[k], `${f}: ${k}`);
    }
    // libthumb leaves out orientation 1 (upright), present or not
    assert.equal(a.orientation ?? 1, b.orientation ?? 1, `${f}: orientation`);
    assert.deepEqual(a.autoOrient, b.autoOrient, `${f}: autoOrient`);
  }
});

test('parity: each position crops and pads the same part of the picture as sharp', async () => {
  const buf = read('photos/flowers.jpeg'); // 1920x1080: cover crops the sides of a square, contain pads above/below
  const tall = read('exif/Landscape_6.jpg'); // stored 450x600: cover crops top/bottom of a wide box
  const names = Object.keys(thumb.gravity).concat(Object.keys(thumb.position));
  for (const [input, w, h] of [[buf, 90, 90], [tall, 120, 40]]) {
    for (const fit of ['cover', 'contain']) {
      const refs = {};
      for (const position of names) {
        const a = await raw(await thumb(input).resize(w, h, { fit, position, background: '#808080' }).png().toBuffer());
        const b = await raw(await sharp(input).resize(w, h, { fit, position, background: '#808080' }).png().toBuffer());
        const db = psnr(a.data, b.data);
        assert.ok(db >= 27, `${fit} ${position} ${w}x${h}: ${db.toFixed(1)} dB against sharp`);
        refs[position] = b.data;
      }
      // and the test can tell positions apart: the opposite corner is far from it
      const t = await raw(await thumb(input).resize(w, h, { fit, position: 'northwest', background: '#808080' }).png().toBuffer());
      assert.ok(psnr(t.data, refs.southeast) < 22, `${fit}: northwest vs southeast are distinct`);
    }
  }
});
