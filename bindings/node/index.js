// libthumb for Node: sharp's chain for what libthumb does (JPEG/PNG in, JPEG/PNG out, resize with
// sharp's fits, positions and kernels), so `require('libthumb')` drops in for `require('sharp')` in
// code such as `await sharp(buf).resize(512, 512).jpeg().toBuffer()`.
//
// Everything sharp has that libthumb does not do throws a TypeError naming it (code
// 'ERR_THUMB_UNSUPPORTED'), at the call that asks for it: nothing is silently ignored. A bad
// argument throws a TypeError with sharp's message (code 'ERR_INVALID_ARG_VALUE'). Work that fails
// rejects with an Error whose .code is the C library's code name, e.g. 'THUMB_ECORRUPT'.
'use strict';

const path = require('path');
const native = require('./build/Release/libthumb.node');

const KIND_BUFFER = 0;
const KIND_FILE = 1;
const KIND_METADATA = 2;

// ------------------------------------------------------------------ sharp's constants

const gravity = {
  center: 0, centre: 0, north: 1, east: 2, south: 3, west: 4,
  northeast: 5, southeast: 6, southwest: 7, northwest: 8
};
const position = {
  top: 1, right: 2, bottom: 3, left: 4,
  'right top': 5, 'right bottom': 6, 'left bottom': 7, 'left top': 8
};
const strategy = { entropy: 16, attention: 17 };
const kernel = {
  nearest: 'nearest', linear: 'linear', cubic: 'cubic', mitchell: 'mitchell',
  lanczos2: 'lanczos2', lanczos3: 'lanczos3', mks2013: 'mks2013', mks2021: 'mks2021'
};
const fit = { contain: 'contain', cover: 'cover', fill: 'fill', inside: 'inside', outside: 'outside' };

// libthumb's enums (include/thumb.h)
const THUMB_FIT = { cover: 0, contain: 1, fill: 2, inside: 3, outside: 4 };
// sharp's gravity number -> enum thumb_position (CENTRE, NORTH, NORTHEAST, EAST, ... NORTHWEST)
const THUMB_POSITION = [0, 1, 3, 5, 7, 2, 4, 6, 8];
const THUMB_KERNEL = { lanczos3: 0, nearest: 1, linear: 2, cubic: 3 };
const THUMB_FORMAT = { input: 0, jpeg: 1, png: 2 };

// sharp's output format names (toFormat, file extensions) -> what they are
const FORMATS = new Map([
  ['heic', 'heif'], ['heif', 'heif'], ['avif', 'avif'], ['jpeg', 'jpeg'], ['jpg', 'jpeg'], ['jpe', 'jpeg'],
  ['tile', 'tile'], ['dz', 'tile'], ['png', 'png'], ['raw', 'raw'], ['tiff', 'tiff'], ['tif', 'tiff'],
  ['webp', 'webp'], ['gif', 'gif'], ['jp2', 'jp2'], ['jpx', 'jp2'], ['j2k', 'jp2'], ['j2c', 'jp2'], ['jxl', 'jxl']
]);

// ------------------------------------------------------------------ errors and checks

function invalidParameter(name, expected, actual) {
  const e = new TypeError(`Expected ${expected} for ${name} but received ${actual} of type ${typeof actual}`);
  e.code = 'ERR_INVALID_ARG_VALUE';
  return e;
}

function unsupported(what, why) {
  const e = new TypeError(`${what} is unsupported by libthumb${why ? ` (${why})` : ''}`);
  e.code = 'ERR_THUMB_UNSUPPORTED';
  return e;
}

const defined = (v) => v !== undefined && v !== null;
const isObject = (v) => typeof v === 'object' && v !== null;
const isPlainObject = (v) => Object.prototype.toString.call(v) === '[object Object]';
const isInteger = (v) => Number.isInteger(v);
const inRange = (v, lo, hi) => v >= lo && v <= hi;

function bool(name, v) {
  if (typeof v !== 'boolean') throw invalidParameter(name, 'boolean', v);
  return v;
}

// Keys of an options object that this method does not know: sharp's own options libthumb lacks,
// or typos. Either way they are refused by name rather than dropped.
function refuseUnknown(where, obj, known) {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k) && defined(obj[k])) throw unsupported(`${where} option '${k}'`);
  }
}

// A sharp option whose default libthumb matches: the default is accepted, anything else refused.
function onlyDefault(where, obj, name, dflt, why) {
  const v = obj[name];
  if (!defined(v)) return;
  if (v !== dflt) throw unsupported(`${where} option '${name}: ${JSON.stringify(v)}'`, why);
}

// ------------------------------------------------------------------ colours

const NAMED = {
  black: [0, 0, 0], white: [255, 255, 255], red: [255, 0, 0], lime: [0, 255, 0], green: [0, 128, 0],
  blue: [0, 0, 255], yellow: [255, 255, 0], cyan: [0, 255, 255], aqua: [0, 255, 255],
  magenta: [255, 0, 255], fuchsia: [255, 0, 255], grey: [128, 128, 128], gray: [128, 128, 128],
  silver: [192, 192, 192], maroon: [128, 0, 0], olive: [128, 128, 0], navy: [0, 0, 128],
  purple: [128, 0, 128], teal: [0, 128, 128], orange: [255, 165, 0]
};

// '#rgb', '#rgba', '#rrggbb', '#rrggbbaa', 'rgb(r, g, b)', 'rgba(r, g, b, a)', a CSS basic colour
// name, 'transparent', or { r, g, b, alpha } -> [r, g, b, a] in 0..255.
function parseColour(name, v) {
  const fromRgba = (r, g, b, a) => {
    const ok = [r, g, b].every((c) => Number.isFinite(c) && inRange(c, 0, 255)) && Number.isFinite(a) && inRange(a, 0, 1);
    if (!ok) throw invalidParameter(name, 'valid colour (r, g, b in 0..255, alpha in 0..1)', v);
    return [Math.round(r), Math.round(g), Math.round(b), Math.round(a * 255)];
  };
  if (isPlainObject(v)) {
    refuseUnknown(`${name} colour`, v, ['r', 'g', 'b', 'alpha']);
    return fromRgba(v.r, v.g, v.b, defined(v.alpha) ? v.alpha : 1);
  }
  if (typeof v !== 'string') throw invalidParameter(name, 'object or string', v);
  const s = v.trim().toLowerCase();
  let m;
  if ((m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(s))) {
    let h = m[1];
    if (h.length <= 4) h = [...h].map((c) => c + c).join('');
    const n = (i) => parseInt(h.slice(i, i + 2), 16);
    return fromRgba(n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1);
  }
  if ((m = /^rgba?\(\s*([^)]*)\)$/.exec(s))) {
    const parts = m[1].split(/\s*[,/]\s*|\s+/).filter((p) => p.length);
    if (parts.length === 3 || parts.length === 4) {
      const c = parts.slice(0, 3).map((p) => (p.endsWith('%') ? (parseFloat(p) * 255) / 100 : Number(p)));
      const a = parts.length === 4 ? (parts[3].endsWith('%') ? parseFloat(parts[3]) / 100 : Number(parts[3])) : 1;
      return fromRgba(c[0], c[1], c[2], a);
    }
  }
  if (s === 'transparent') return [0, 0, 0, 0];
  if (NAMED[s]) return [...NAMED[s], 255];
  throw invalidParameter(name, "colour ('#rrggbb', 'rgba(r, g, b, a)', a basic colour name or {r, g, b, alpha})", v);
}

// ------------------------------------------------------------------ input

const INPUT_OPTIONS = ['failOn', 'limitInputPixels', 'autoOrient', 'sequentialRead', 'ignoreIcc', 'unlimited'];

function inputDescriptor(input, options) {
  const d = { buffer: null, file: null, failOn: 'warning', limitInputPixels: 0x3fff ** 2, autoOrient: false, ignoreIcc: false };
  if (typeof input === 'string') {
    if (input.length === 0) throw invalidParameter('input', 'non-empty path string', input);
    d.file = input;
  } else if (Buffer.isBuffer(input)) {
    if (input.length === 0) throw invalidParameter('input', 'non-empty Buffer', input);
    d.buffer = input;
  } else if (input instanceof ArrayBuffer) {
    if (input.byteLength === 0) throw invalidParameter('input', 'non-empty ArrayBuffer', input);
    d.buffer = Buffer.from(input, 0, input.byteLength);
  } else if (ArrayBuffer.isView(input)) {
    if (input.byteLength === 0) throw invalidParameter('input', 'non-empty typed array', input);
    d.buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  } else if (!defined(input)) {
    throw unsupported('stream input (calling without an input)', 'pass a Buffer, a Uint8Array or a path');
  } else if (Array.isArray(input)) {
    throw unsupported('joining several inputs');
  } else if (isPlainObject(input)) {
    throw unsupported('an input object (create, text, raw pixels)');
  } else {
    const e = new TypeError(`Unsupported input '${input}' of type ${typeof input}: expected a Buffer, a Uint8Array or a path`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (defined(options)) {
    if (!isPlainObject(options)) throw invalidParameter('options', 'object', options);
    refuseUnknown('input', options, INPUT_OPTIONS);
    const o = options;
    if (defined(o.failOn)) {
      if (!['none', 'truncated', 'error', 'warning'].includes(o.failOn)) {
        throw invalidParameter('failOn', 'one of: none, truncated, error, warning', o.failOn);
      }
      if (o.failOn === 'none') {
        throw unsupported("failOn: 'none'", 'a truncated or corrupt image is always rejected, never decoded in part');
      }
      d.failOn = o.failOn;
    }
    if (defined(o.limitInputPixels)) {
      const v = o.limitInputPixels;
      if (typeof v === 'boolean') d.limitInputPixels = v ? 0x3fff ** 2 : 0;
      else if (isInteger(v) && inRange(v, 0, Number.MAX_SAFE_INTEGER)) d.limitInputPixels = v;
      else throw invalidParameter('limitInputPixels', 'positive integer', v);
    }
    if (defined(o.autoOrient)) d.autoOrient = bool('autoOrient', o.autoOrient);
    if (defined(o.sequentialRead)) bool('sequentialRead', o.sequentialRead); // libthumb always reads sequentially
    if (defined(o.ignoreIcc)) d.ignoreIcc = bool('ignoreIcc', o.ignoreIcc);
    if (defined(o.unlimited) && bool('unlimited', o.unlimited)) {
      throw unsupported("input option 'unlimited: true'", 'libthumb keeps its decoder limits');
    }
  }
  return d;
}

// ------------------------------------------------------------------ the chain

const UNSUPPORTED_METHODS = {
  // output formats
  webp: 'WebP output', gif: 'GIF output', tiff: 'TIFF output', avif: 'AVIF output', heif: 'HEIF output',
  jxl: 'JPEG XL output', jp2: 'JPEG 2000 output', raw: 'raw pixel output', tile: 'tiled output',
  // operations
  extend: '', extract: '', trim: '', flip: '', flop: '', affine: '', sharpen: '', median: '', blur: '',
  dilate: '', erode: '', flatten: '', unflatten: '', gamma: '', negate: '', normalise: '', normalize: '',
  clahe: '', convolve: '', threshold: '', boolean: '', linear: '', recomb: '', modulate: '', composite: '',
  tint: '', greyscale: '', grayscale: '', pipelineColourspace: '', pipelineColorspace: '',
  toColourspace: '', toColorspace: '', removeAlpha: '', ensureAlpha: '', extractChannel: '',
  joinChannel: '', bandbool: '', stats: '',
  // metadata: libthumb writes pixels only
  keepExif: 'metadata is never written', withExif: 'metadata is never written', withExifMerge: 'metadata is never written',
  keepIccProfile: 'metadata is never written', withIccProfile: 'metadata is never written',
  keepXmp: 'metadata is never written', withXmp: 'metadata is never written',
  keepMetadata: 'metadata is never written', withMetadata: 'metadata is never written',
  withDensity: 'metadata is never written', keepGainMap: '', withGainMap: '',
  timeout: '',
  // streams
  pipe: 'streams: use toBuffer() or toFile()', on: 'streams and events', once: 'streams and events',
  write: 'streams: pass a Buffer', end: 'streams: pass a Buffer'
};

class Thumb {
  constructor(input, options) {
    this._input = inputDescriptor(input, options);
    this._width = 0;
    this._height = 0;
    this._fit = 'cover';
    this._position = 0; // sharp's gravity number
    this._kernel = 'lanczos3';
    this._background = [0, 0, 0, 255];
    this._withoutEnlargement = false;
    this._fastShrinkOnLoad = true;
    this._format = 'input';
    this._jpeg = { quality: 80, progressive: false, chroma: 0, optimizeCoding: true };
    this._png = { compressionLevel: 6, progressive: false };
  }

  clone() {
    const c = Object.create(Thumb.prototype);
    Object.assign(c, this);
    c._input = { ...this._input };
    c._background = [...this._background];
    c._jpeg = { ...this._jpeg };
    c._png = { ...this._png };
    return c;
  }

  resize(widthOrOptions, height, options) {
    this._width = 0;
    this._height = 0;
    if (defined(widthOrOptions)) {
      if (isObject(widthOrOptions) && !defined(options)) options = widthOrOptions;
      else if (isInteger(widthOrOptions) && widthOrOptions > 0) this._width = widthOrOptions;
      else throw invalidParameter('width', 'positive integer', widthOrOptions);
    }
    if (defined(height)) {
      if (isInteger(height) && height > 0) this._height = height;
      else throw invalidParameter('height', 'positive integer', height);
    }
    if (isObject(options)) {
      const o = options;
      refuseUnknown('resize', o, ['width', 'height', 'fit', 'position', 'background', 'kernel',
        'withoutEnlargement', 'withoutReduction', 'fastShrinkOnLoad']);
      if (defined(o.width)) {
        if (isInteger(o.width) && o.width > 0) this._width = o.width;
        else throw invalidParameter('width', 'positive integer', o.width);
      }
      if (defined(o.height)) {
        if (isInteger(o.height) && o.height > 0) this._height = o.height;
        else throw invalidParameter('height', 'positive integer', o.height);
      }
      if (defined(o.fit)) {
        if (typeof o.fit === 'string' && Object.prototype.hasOwnProperty.call(THUMB_FIT, o.fit)) this._fit = o.fit;
        else throw invalidParameter('fit', 'valid fit', o.fit);
      }
      if (defined(o.position)) {
        const p = o.position;
        const own = (t) => Object.prototype.hasOwnProperty.call(t, p);
        const n = isInteger(p) ? p : own(strategy) ? strategy[p] : own(position) ? position[p] : own(gravity) ? gravity[p] : undefined;
        if (!(isInteger(n) && (inRange(n, 0, 8) || inRange(n, 16, 17)))) {
          throw invalidParameter('position', 'valid position/gravity/strategy', p);
        }
        if (n >= 16) throw unsupported(`resize position '${n === 16 ? 'entropy' : 'attention'}' (sharp.strategy)`, 'use a gravity or position');
        this._position = n;
      }
      if (defined(o.background)) this._background = parseColour('background', o.background);
      if (defined(o.kernel)) {
        if (typeof o.kernel !== 'string' || !Object.prototype.hasOwnProperty.call(kernel, o.kernel)) {
          throw invalidParameter('kernel', 'valid kernel name', o.kernel);
        }
        if (!Object.prototype.hasOwnProperty.call(THUMB_KERNEL, o.kernel)) {
          throw unsupported(`resize kernel '${o.kernel}'`, 'libthumb has lanczos3, cubic, linear and nearest');
        }
        this._kernel = o.kernel;
      }
      if (defined(o.withoutEnlargement)) this._withoutEnlargement = bool('withoutEnlargement', o.withoutEnlargement);
      if (defined(o.withoutReduction) && bool('withoutReduction', o.withoutReduction)) {
        throw unsupported("resize option 'withoutReduction: true'");
      }
      if (defined(o.fastShrinkOnLoad)) this._fastShrinkOnLoad = bool('fastShrinkOnLoad', o.fastShrinkOnLoad);
    }
    return this;
  }

  rotate(angle, options) {
    if (!defined(angle) && !defined(options)) return this.autoOrient();
    throw unsupported(`rotate(${defined(angle) ? angle : ''})`, 'only rotate() without an angle, which applies the EXIF orientation');
  }

  autoOrient() {
    this._input.autoOrient = true;
    return this;
  }

  jpeg(options) {
    if (isObject(options)) {
      const o = options;
      refuseUnknown('jpeg', o, ['quality', 'progressive', 'chromaSubsampling', 'optimiseCoding', 'optimizeCoding',
        'mozjpeg', 'trellisQuantisation', 'trellisQuantization', 'overshootDeringing', 'optimiseScans',
        'optimizeScans', 'quantisationTable', 'quantizationTable', 'force']);
      if (defined(o.quality)) {
        if (isInteger(o.quality) && inRange(o.quality, 1, 100)) this._jpeg.quality = o.quality;
        else throw invalidParameter('quality', 'integer between 1 and 100', o.quality);
      }
      if (defined(o.progressive)) this._jpeg.progressive = bool('progressive', o.progressive);
      if (defined(o.chromaSubsampling)) {
        if (o.chromaSubsampling === '4:2:0') this._jpeg.chroma = 0;
        else if (o.chromaSubsampling === '4:4:4') this._jpeg.chroma = 1;
        else throw invalidParameter('chromaSubsampling', 'one of: 4:2:0, 4:4:4', o.chromaSubsampling);
      }
      const oc = typeof o.optimizeCoding === 'boolean' ? o.optimizeCoding : o.optimiseCoding;
      if (defined(oc)) this._jpeg.optimizeCoding = bool('optimiseCoding', oc);
      for (const [name, dflt] of [['mozjpeg', false], ['trellisQuantisation', false], ['trellisQuantization', false],
        ['overshootDeringing', false], ['optimiseScans', false], ['optimizeScans', false],
        ['quantisationTable', 0], ['quantizationTable', 0]]) {
        onlyDefault('jpeg', o, name, dflt, 'libthumb encodes with libjpeg-turbo\'s standard tables');
      }
      if (defined(o.force) && !bool('force', o.force)) return this;
    }
    this._format = 'jpeg';
    return this;
  }

  png(options) {
    if (isObject(options)) {
      const o = options;
      refuseUnknown('png', o, ['progressive', 'compressionLevel', 'adaptiveFiltering', 'palette', 'quality',
        'effort', 'colours', 'colors', 'dither', 'force']);
      if (defined(o.progressive)) this._png.progressive = bool('progressive', o.progressive);
      if (defined(o.compressionLevel)) {
        if (isInteger(o.compressionLevel) && inRange(o.compressionLevel, 0, 9)) this._png.compressionLevel = o.compressionLevel;
        else throw invalidParameter('compressionLevel', 'integer between 0 and 9', o.compressionLevel);
      }
      onlyDefault('png', o, 'adaptiveFiltering', false);
      onlyDefault('png', o, 'palette', false, 'libthumb writes truecolour or grey PNGs');
      for (const k of ['quality', 'effort', 'colours', 'colors', 'dither']) {
        if (defined(o[k])) throw unsupported(`png option '${k}'`, 'palette PNG output');
      }
      if (defined(o.force) && !bool('force', o.force)) return this;
    }
    this._format = 'png';
    return this;
  }

  toFormat(format, options) {
    const name = isObject(format) && typeof format.id === 'string' ? format.id : format;
    const actual = typeof name === 'string' ? FORMATS.get(name.toLowerCase()) : undefined;
    if (!actual) throw invalidParameter('format', `one of: ${[...FORMATS.keys()].join(', ')}`, format);
    if (actual !== 'jpeg' && actual !== 'png') throw unsupported(`toFormat('${name}')`, 'libthumb writes JPEG and PNG');
    return this[actual](options);
  }

  // The flat options object the native side reads (include/thumb.h's fields).
  _nativeOptions(format) {
    const f = format || this._format;
    return {
      width: this._width,
      height: this._height,
      fit: THUMB_FIT[this._fit],
      position: THUMB_POSITION[this._position],
      kernel: THUMB_KERNEL[this._kernel],
      withoutEnlargement: this._withoutEnlargement,
      autoOrient: this._input.autoOrient,
      format: THUMB_FORMAT[f],
      quality: this._jpeg.quality,
      progressive: f === 'png' ? this._png.progressive : this._jpeg.progressive,
      chroma: this._jpeg.chroma,
      optimizeCoding: this._jpeg.optimizeCoding,
      pngCompression: this._png.compressionLevel,
      fastShrinkOnLoad: this._fastShrinkOnLoad,
      maxInputPixels: this._input.limitInputPixels,
      colour: this._input.ignoreIcc ? 1 : 0,
      background: this._background
    };
  }

  _source() {
    return this._input.file !== null ? this._input.file : this._input.buffer;
  }

  // Runs one job on the libuv pool; done(err, data, info) on the main thread.
  _run(kind, opts, outPath, done) {
    const stack = new Error();
    native.run(kind, this._source(), opts, outPath, (err, data, info) => {
      if (err) {
        err.stack = `${err.name}: ${err.message}\n${stack.stack.split('\n').slice(2).join('\n')}`;
      }
      done(err, data, info);
    });
  }

  toBuffer(options, callback) {
    let resolveWithObject = false;
    if (typeof options === 'function') {
      callback = options;
    } else if (isObject(options)) {
      refuseUnknown('toBuffer', options, ['resolveWithObject']);
      if (defined(options.resolveWithObject)) resolveWithObject = bool('resolveWithObject', options.resolveWithObject);
    } else if (defined(options)) {
      throw invalidParameter('options', 'object or function', options);
    }
    const opts = this._nativeOptions();
    if (typeof callback === 'function') {
      this._run(KIND_BUFFER, opts, null, callback);
      return this;
    }
    return new Promise((resolve, reject) => {
      this._run(KIND_BUFFER, opts, null, (err, data, info) => {
        if (err) reject(err);
        else resolve(resolveWithObject ? { data, info } : data);
      });
    });
  }

  toUint8Array() {
    const opts = this._nativeOptions();
    return new Promise((resolve, reject) => {
      this._run(KIND_BUFFER, opts, null, (err, data, info) => {
        if (err) reject(err);
        else resolve({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), info });
      });
    });
  }

  toFile(fileOut, callback) {
    let err = null;
    let format = this._format;
    if (typeof fileOut !== 'string' || fileOut.length === 0) {
      err = invalidParameter('fileOut', 'output file path', fileOut);
    } else if (this._input.file !== null && path.resolve(this._input.file) === path.resolve(fileOut)) {
      err = new Error('Cannot use same file for input and output');
      err.code = 'ERR_INVALID_ARG_VALUE';
    } else if (format === 'input') {
      const ext = path.extname(fileOut).slice(1).toLowerCase();
      const byExt = FORMATS.get(ext);
      if (byExt === 'jpeg' || byExt === 'png') format = byExt;
      else if (byExt) err = unsupported(`writing '.${ext}' files`, 'libthumb writes JPEG and PNG');
    }
    if (err) {
      if (typeof callback === 'function') {
        callback(err);
        return this;
      }
      return Promise.reject(err);
    }
    const opts = this._nativeOptions(format);
    if (typeof callback === 'function') {
      this._run(KIND_FILE, opts, fileOut, (e, _data, info) => (e ? callback(e) : callback(null, info)));
      return this;
    }
    return new Promise((resolve, reject) => {
      this._run(KIND_FILE, opts, fileOut, (e, _data, info) => (e ? reject(e) : resolve(info)));
    });
  }

  metadata(callback) {
    const opts = this._nativeOptions();
    if (typeof callback === 'function') {
      this._run(KIND_METADATA, opts, null, (e, md) => (e ? callback(e) : callback(null, md)));
      return this;
    }
    return new Promise((resolve, reject) => {
      this._run(KIND_METADATA, opts, null, (e, md) => (e ? reject(e) : resolve(md)));
    });
  }
}

for (const [name, why] of Object.entries(UNSUPPORTED_METHODS)) {
  Object.defineProperty(Thumb.prototype, name, {
    value: function () { throw unsupported(`.${name}()`, why || undefined); },
    writable: true,
    configurable: true
  });
}

// ------------------------------------------------------------------ the module: a function, like sharp

function thumb(input, options) {
  return new Thumb(input, options);
}

const versions = Object.freeze({ libthumb: native.version, simd: native.simd });
const formatInfo = (id) => ({
  id,
  input: { file: true, buffer: true, stream: false, fileSuffix: id === 'jpeg' ? ['.jpg', '.jpeg', '.jpe'] : ['.png'] },
  output: { file: true, buffer: true, stream: false, alias: id === 'jpeg' ? ['jpe', 'jpg'] : [] }
});

Object.assign(thumb, {
  Thumb,
  default: thumb,
  thumb,
  version: native.version,
  versions,
  gravity: Object.freeze({ ...gravity }),
  position: Object.freeze({ ...position }),
  strategy: Object.freeze({ ...strategy }),
  kernel: Object.freeze({ ...kernel }),
  fit: Object.freeze({ ...fit }),
  format: Object.freeze({ jpeg: formatInfo('jpeg'), png: formatInfo('png') }),
  errorCodes: Object.freeze(native.errorCodes()),
  // libthumb keeps no operation cache: there is nothing to configure, and nothing is held.
  cache(options) {
    if (defined(options) && typeof options !== 'boolean' && !isPlainObject(options)) {
      throw invalidParameter('cache', 'boolean or object', options);
    }
    const zero = { current: 0, high: 0, max: 0 };
    return { memory: { ...zero }, files: { ...zero }, items: { ...zero } };
  },
  // Each job runs on one libuv pool thread (UV_THREADPOOL_SIZE threads, default 4).
  concurrency(n) {
    if (defined(n) && !(isInteger(n) && inRange(n, 0, 1))) {
      throw unsupported(`concurrency(${n})`, 'each job uses one thread of the libuv pool: set UV_THREADPOOL_SIZE for more jobs at once');
    }
    return 1;
  },
  simd() {
    return native.simd !== 'scalar';
  }
});

module.exports = thumb;
