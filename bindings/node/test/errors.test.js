'use strict';
// Every error path: bad files reject with an Error carrying .code (the C code's name); sharp
// options and methods libthumb lacks throw a TypeError naming them; bad arguments throw TypeErrors.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { read, file, AVATAR, thumb } = require('./helpers');

async function rejectsWith(promise, code, re) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.equal(e.code, code, `code of "${e.message}"`);
    if (re) assert.match(e.message, re);
    assert.ok(e.message.length > 10, 'a message that says something');
    return true;
  });
}

test('corrupt, truncated and non-image inputs reject with THUMB_* codes', async () => {
  await rejectsWith(thumb(read('edge/corrupt-header.jpg')).resize(64).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(read('edge/invalid-zlib.png')).resize(64).toBuffer(), 'THUMB_ECORRUPT');
  await rejectsWith(thumb(read('edge/truncated.jpg')).resize(64).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(read('edge/truncated.png')).resize(64).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(read('edge/invalid-crc32.png')).resize(64).toBuffer(), 'THUMB_ECORRUPT');
  const avatar = read(AVATAR);
  await rejectsWith(thumb(avatar.subarray(0, 1000)).resize(64).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(avatar.subarray(0, 100000)).resize(64).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;')).toBuffer(), 'THUMB_EUNSUPPORTED', /gif/i);
  await rejectsWith(thumb(Buffer.from('this is not an image at all, just some text')).toBuffer(), 'THUMB_EUNSUPPORTED');
  await rejectsWith(thumb(Buffer.from([1, 2, 3])).toBuffer(), 'THUMB_ETRUNCATED');
  await rejectsWith(thumb(read('edge/corrupt-header.jpg')).metadata(), 'THUMB_ETRUNCATED');
  const zeroWidth = Buffer.from(read('photos/concert.jpg'));
  const sof = zeroWidth.indexOf(Buffer.from([0xff, 0xc0]));
  zeroWidth.fill(0, sof + 7, sof + 9); // SOF0 width 0
  await rejectsWith(thumb(zeroWidth).metadata(), 'THUMB_ECORRUPT');
  await rejectsWith(thumb(zeroWidth).resize(10).toBuffer(), 'THUMB_ECORRUPT');
  // the error carries the numeric code and the library's detail too
  const e = await thumb(read('edge/truncated.jpg')).toBuffer().catch((x) => x);
  assert.equal(e.errno, thumb.errorCodes.THUMB_ETRUNCATED);
  assert.equal(typeof e.detail, 'string');
  assert.match(e.stack, /errors\.test\.js/, 'the stack points at the caller');
});

test('the callback form gets the same errors', async () => {
  const err = await new Promise((resolve) => thumb(read('edge/truncated.jpg')).toBuffer((e, data, info) => {
    assert.equal(data, undefined);
    assert.equal(info, undefined);
    resolve(e);
  }));
  assert.equal(err.code, 'THUMB_ETRUNCATED');
  const err2 = await new Promise((resolve) => thumb(read('edge/invalid-zlib.png')).resize(9).toBuffer((e) => resolve(e)));
  assert.equal(err2.code, 'THUMB_ECORRUPT');
  const err3 = await new Promise((resolve) => thumb(read('edge/corrupt-header.jpg')).metadata((e) => resolve(e)));
  assert.equal(err3.code, 'THUMB_ETRUNCATED');
});

test('file errors: a missing input, an unwritable output, the same file in and out', async () => {
  await rejectsWith(thumb('/nonexistent/dir/x.jpg').toBuffer(), 'THUMB_EIO', /nonexistent/);
  await rejectsWith(thumb('/nonexistent/dir/x.jpg').metadata(), 'THUMB_EIO');
  await rejectsWith(thumb(read(AVATAR)).resize(8).toFile('/nonexistent/dir/out.jpg'), 'THUMB_EIO');
  await rejectsWith(thumb(file(AVATAR)).resize(8).toFile('/nonexistent/dir/out.jpg'), 'THUMB_EIO');
  await rejectsWith(thumb(file(AVATAR)).toFile(file(AVATAR)), 'ERR_INVALID_ARG_VALUE', /same file/);
  await rejectsWith(thumb(os.tmpdir()).toBuffer(), 'THUMB_EIO', /not a regular file/);
});

test('an output over the limit rejects with THUMB_ELIMIT_OUTPUT (sizes saturate, never wrap)', async () => {
  const buf = read('photos/concert.jpg');
  await rejectsWith(thumb(buf).resize(20000, 20000).toBuffer(), 'THUMB_ELIMIT_OUTPUT');
  await rejectsWith(thumb(buf).resize(3e9, 10).toBuffer(), 'THUMB_ELIMIT_OUTPUT', /2147483647/);
  await rejectsWith(thumb(buf).resize(2 ** 32 + 10).toBuffer(), 'THUMB_ELIMIT_OUTPUT');
});

test('a failed toFile leaves nothing behind', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libthumb-err-'));
  try {
    await rejectsWith(thumb(read('edge/truncated.jpg')).resize(32).toFile(path.join(dir, 'a.jpg')), 'THUMB_ETRUNCATED');
    await rejectsWith(thumb(file('edge/truncated.jpg')).resize(32).toFile(path.join(dir, 'b.jpg')), 'THUMB_ETRUNCATED');
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('limitInputPixels: a limit under the image rejects, false/0 lifts it, true is the default', async () => {
  const buf = read(AVATAR); // 2725 x 2225 = 6,063,125 pixels
  await rejectsWith(thumb(buf, { limitInputPixels: 6063124 }).resize(64).toBuffer(), 'THUMB_ELIMIT_PIXELS');
  await rejectsWith(thumb(buf, { limitInputPixels: 1000 }).metadata(), 'THUMB_ELIMIT_PIXELS');
  for (const limitInputPixels of [6063125, false, 0, true, undefined]) {
    const { info } = await thumb(buf, { limitInputPixels }).resize(64, 64).toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 64, `limitInputPixels ${limitInputPixels}`);
  }
  assert.throws(() => thumb(buf, { limitInputPixels: -1 }), { name: 'TypeError', message: /limitInputPixels/ });
  assert.throws(() => thumb(buf, { limitInputPixels: 1.5 }), { name: 'TypeError', message: /limitInputPixels/ });
});

function unsupported(fn, name) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof TypeError, `TypeError, got ${e}`);
    assert.equal(e.code, 'ERR_THUMB_UNSUPPORTED');
    assert.ok(e.message.includes(name), `"${e.message}" names ${name}`);
    assert.match(e.message, /unsupported/);
    return true;
  });
}

test('sharp methods libthumb lacks throw a TypeError naming them', () => {
  const t = () => thumb(read('photos/concert.jpg'));
  for (const m of ['webp', 'gif', 'avif', 'heif', 'tiff', 'jxl', 'jp2', 'raw', 'tile', 'blur', 'sharpen', 'flip',
    'flop', 'extract', 'extend', 'trim', 'composite', 'flatten', 'negate', 'greyscale', 'modulate', 'withMetadata',
    'keepExif', 'keepIccProfile', 'stats', 'median', 'tint', 'removeAlpha', 'toColourspace', 'timeout', 'pipe']) {
    unsupported(() => t()[m](), `.${m}()`);
  }
  unsupported(() => t().rotate(90), 'rotate(90)');
  unsupported(() => t().rotate(0), 'rotate(0)');
  unsupported(() => t().toFormat('webp'), "toFormat('webp')");
  unsupported(() => t().toFormat('avif', { quality: 50 }), "toFormat('avif')");
  unsupported(() => thumb.concurrency(4), 'concurrency(4)');
  unsupported(() => thumb(), 'stream input');
  unsupported(() => thumb([read('photos/concert.jpg'), read('photos/concert.jpg')]), 'joining');
  unsupported(() => thumb({ create: { width: 1, height: 1, channels: 3, background: '#000' } }), 'input object');
});

test('sharp options libthumb lacks throw a TypeError naming them (never silently ignored)', () => {
  const t = () => thumb(read('photos/concert.jpg'));
  unsupported(() => t().resize(10, 10, { kernel: 'mitchell' }), 'mitchell');
  unsupported(() => t().resize(10, 10, { kernel: 'lanczos2' }), 'lanczos2');
  unsupported(() => t().resize(10, 10, { kernel: 'mks2021' }), 'mks2021');
  unsupported(() => t().resize(10, 10, { position: 'entropy' }), 'entropy');
  unsupported(() => t().resize(10, 10, { position: 17 }), 'attention');
  unsupported(() => t().resize(10, 10, { withoutReduction: true }), 'withoutReduction');
  unsupported(() => t().resize({ width: 10, gravityish: 1 }), 'gravityish');
  unsupported(() => t().jpeg({ mozjpeg: true }), 'mozjpeg');
  unsupported(() => t().jpeg({ trellisQuantisation: true }), 'trellisQuantisation');
  unsupported(() => t().jpeg({ overshootDeringing: true }), 'overshootDeringing');
  unsupported(() => t().jpeg({ optimiseScans: true }), 'optimiseScans');
  unsupported(() => t().jpeg({ quantisationTable: 3 }), 'quantisationTable');
  unsupported(() => t().jpeg({ qualty: 50 }), 'qualty');
  unsupported(() => t().png({ palette: true }), 'palette');
  unsupported(() => t().png({ colours: 16 }), 'colours');
  unsupported(() => t().png({ quality: 50 }), 'quality');
  unsupported(() => t().png({ adaptiveFiltering: true }), 'adaptiveFiltering');
  unsupported(() => t().png({ effort: 3 }), 'effort');
  unsupported(() => thumb(read('photos/concert.jpg'), { failOn: 'none' }), 'failOn');
  unsupported(() => thumb(read('photos/concert.jpg'), { density: 300 }), 'density');
  unsupported(() => thumb(read('photos/concert.jpg'), { animated: true }), 'animated');
  unsupported(() => thumb(read('photos/concert.jpg'), { unlimited: true }), 'unlimited');
  unsupported(() => t().toBuffer({ resolveWithObject: true, depth: 8 }), 'depth');
  // their defaults are what libthumb does, so they are accepted
  t().jpeg({ mozjpeg: false, trellisQuantisation: false, optimiseScans: false, quantisationTable: 0 });
  t().png({ palette: false, adaptiveFiltering: false });
  t().resize(10, 10, { withoutReduction: false });
});

test('contain + withoutEnlargement on an image smaller than the box rejects with a TypeError', async () => {
  await assert.rejects(thumb(read('photos/concert.jpg')).resize(800, 800, { fit: 'contain', withoutEnlargement: true }).toBuffer(),
    (e) => e instanceof TypeError && e.code === 'ERR_THUMB_UNSUPPORTED' && /withoutEnlargement/.test(e.message));
  // bigger than the box: it is an ordinary contain
  const { info } = await thumb(read('photos/concert.jpg')).resize(100, 100, { fit: 'contain', withoutEnlargement: true })
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [100, 100]);
});

function invalid(fn, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof TypeError, `TypeError, got ${e}`);
    assert.match(e.code, /^ERR_INVALID_ARG_(VALUE|TYPE)$/);
    assert.match(e.message, re);
    return true;
  });
}

test('bad argument types and values throw TypeErrors with sharp\'s wording', async () => {
  const t = () => thumb(read('photos/concert.jpg'));
  invalid(() => thumb(42), /Unsupported input/);
  invalid(() => thumb(true), /Unsupported input/);
  invalid(() => thumb(''), /input/);
  invalid(() => thumb(Buffer.alloc(0)), /non-empty Buffer/);
  invalid(() => thumb(new Uint8Array(0)), /non-empty/);
  invalid(() => thumb(read('photos/concert.jpg'), 'fast'), /options/);
  invalid(() => thumb(read('photos/concert.jpg'), { failOn: 'sometimes' }), /failOn/);
  invalid(() => thumb(read('photos/concert.jpg'), { autoOrient: 'yes' }), /autoOrient/);
  invalid(() => t().resize(-1), /Expected positive integer for width but received -1 of type number/);
  invalid(() => t().resize(0), /width/);
  invalid(() => t().resize(10.5), /width/);
  invalid(() => t().resize('100'), /width/);
  invalid(() => t().resize(10, -3), /height/);
  invalid(() => t().resize({ width: 'x' }), /width/);
  invalid(() => t().resize({ height: 0 }), /height/);
  invalid(() => t().resize(10, 10, { fit: 'stretch' }), /fit/);
  invalid(() => t().resize(10, 10, { position: 'middle' }), /position/);
  invalid(() => t().resize(10, 10, { position: 9 }), /position/);
  invalid(() => t().resize(10, 10, { kernel: 'bicubic' }), /kernel/);
  invalid(() => t().resize(10, 10, { background: 'not-a-colour' }), /background/);
  invalid(() => t().resize(10, 10, { background: { r: 300, g: 0, b: 0 } }), /background/);
  invalid(() => t().resize(10, 10, { background: 42 }), /background/);
  invalid(() => t().resize(10, 10, { withoutEnlargement: 1 }), /withoutEnlargement/);
  invalid(() => t().resize(10, 10, { fastShrinkOnLoad: 'no' }), /fastShrinkOnLoad/);
  invalid(() => t().jpeg({ quality: 0 }), /quality/);
  invalid(() => t().jpeg({ quality: 101 }), /quality/);
  invalid(() => t().jpeg({ quality: 50.5 }), /quality/);
  invalid(() => t().jpeg({ progressive: 'yes' }), /progressive/);
  invalid(() => t().jpeg({ chromaSubsampling: '4:2:2' }), /chromaSubsampling/);
  invalid(() => t().png({ compressionLevel: 10 }), /compressionLevel/);
  invalid(() => t().toFormat('bmp'), /format/);
  invalid(() => t().toFormat(7), /format/);
  invalid(() => t().toBuffer({ resolveWithObject: 'yes' }), /resolveWithObject/);
  invalid(() => t().toBuffer(5), /options/);
  await assert.rejects(t().toFile(), (e) => e instanceof TypeError && /fileOut/.test(e.message));
  await assert.rejects(t().toFile(42), (e) => e instanceof TypeError);
  await assert.rejects(t().toFile('/tmp/x.webp'), (e) => e instanceof TypeError && e.code === 'ERR_THUMB_UNSUPPORTED' && /\.webp/.test(e.message));
  // callback form of toFile gets argument errors through the callback
  const e = await new Promise((resolve) => t().toFile(undefined, resolve));
  assert.ok(e instanceof TypeError);
});

test('the native entry point checks its own arguments too', () => {
  const native = require('../build/Release/libthumb.node');
  const noop = () => {};
  assert.throws(() => native.run(0, 42, {}, null, noop), TypeError);
  assert.throws(() => native.run(0, { length: 4 }, {}, null, noop), TypeError);
  assert.throws(() => native.run(0, 'a\0b', {}, null, noop), TypeError);
  assert.throws(() => native.run(0, Buffer.from('x'), {}, null, 'nope'), TypeError);
  assert.throws(() => native.run(0, Buffer.from('x'), { width: 'wide' }, null, noop), TypeError);
  assert.throws(() => native.run(1, Buffer.from('x'), {}, 42, noop), TypeError);
  assert.throws(() => native.run(7, Buffer.from('x'), {}, null, noop), TypeError);
  assert.throws(() => native.run(), TypeError);
});
