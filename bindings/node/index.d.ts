// Types for libthumb's Node addon: sharp's chain for what libthumb does.
/// <reference types="node" />

declare namespace thumb {
  export type Input = Buffer | Uint8Array | Uint8ClampedArray | ArrayBuffer | ArrayBufferView | string;

  export interface InputOptions {
    /** Accepted: 'warning' (default), 'error', 'truncated'; libthumb always rejects truncated or
     * corrupt data. 'none' throws (a partial decode is unsupported). */
    failOn?: 'warning' | 'error' | 'truncated';
    /** Pixels (width x height) allowed in; default 268402689; false or 0 = no limit; true = default. */
    limitInputPixels?: number | boolean;
    /** Apply the EXIF orientation (default false, as sharp; `.rotate()` does the same). */
    autoOrient?: boolean;
    /** Treat an embedded ICC profile as sRGB (no conversion). */
    ignoreIcc?: boolean;
    /** libthumb always reads sequentially; accepted for compatibility. */
    sequentialRead?: boolean;
    /** Only false: libthumb keeps its decoder limits. */
    unlimited?: false;
  }

  export type FitName = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';
  export type GravityName = 'centre' | 'center' | 'north' | 'northeast' | 'east' | 'southeast' | 'south' |
    'southwest' | 'west' | 'northwest';
  export type PositionName = 'top' | 'right top' | 'right' | 'right bottom' | 'bottom' | 'left bottom' | 'left' | 'left top';
  export type KernelName = 'lanczos3' | 'cubic' | 'linear' | 'nearest';

  export interface RGBA {
    r: number;
    g: number;
    b: number;
    /** 0..1, default 1 */
    alpha?: number;
  }
  /** '#rgb', '#rrggbb', '#rrggbbaa', 'rgb(r, g, b)', 'rgba(r, g, b, a)', a basic CSS colour name, or {r, g, b, alpha}. */
  export type Colour = string | RGBA;

  export interface ResizeOptions {
    width?: number;
    height?: number;
    /** default 'cover' */
    fit?: FitName;
    /** default 'centre'; a gravity, a position or sharp's gravity number 0..8 */
    position?: GravityName | PositionName | number;
    /** for 'contain' padding and for flattening alpha into JPEG; default opaque black (as sharp) */
    background?: Colour;
    /** default 'lanczos3' */
    kernel?: KernelName;
    withoutEnlargement?: boolean;
    /** only false */
    withoutReduction?: false;
    /** default true: JPEGs are DCT-scaled on load as far as the output allows */
    fastShrinkOnLoad?: boolean;
  }

  export interface JpegOptions {
    /** 1..100, default 80 */
    quality?: number;
    progressive?: boolean;
    /** default '4:2:0' */
    chromaSubsampling?: '4:2:0' | '4:4:4';
    /** optimised Huffman tables, default true */
    optimiseCoding?: boolean;
    optimizeCoding?: boolean;
    /** only false (mozjpeg-style encoding is unsupported) */
    mozjpeg?: false;
    trellisQuantisation?: false;
    trellisQuantization?: false;
    overshootDeringing?: false;
    optimiseScans?: false;
    optimizeScans?: false;
    /** only 0 */
    quantisationTable?: 0;
    quantizationTable?: 0;
    /** false: only set the options, keep the output format as it is */
    force?: boolean;
  }

  export interface PngOptions {
    /** Adam7 interlacing */
    progressive?: boolean;
    /** zlib level 0..9, default 6 */
    compressionLevel?: number;
    adaptiveFiltering?: false;
    palette?: false;
    force?: boolean;
  }

  export interface OutputInfo {
    format: 'jpeg' | 'png';
    width: number;
    height: number;
    channels: 1 | 2 | 3 | 4;
    premultiplied: false;
    size: number;
  }

  export interface Metadata {
    format: 'jpeg' | 'png';
    mediaType: string;
    /** bytes of a memory input (absent for a path, as sharp) */
    size?: number;
    /** as stored (before EXIF orientation) */
    width: number;
    height: number;
    space: 'srgb' | 'b-w' | 'cmyk' | 'grey16' | 'rgb16';
    channels: 1 | 2 | 3 | 4;
    depth: 'uchar' | 'ushort';
    isProgressive: boolean;
    isPalette?: boolean;
    bitsPerSample?: number;
    hasProfile: boolean;
    hasAlpha: boolean;
    hasExif: boolean;
    /** EXIF orientation 2..8; absent when upright */
    orientation?: number;
    iccSize?: number;
    /** width and height after EXIF orientation */
    autoOrient: { width: number; height: number };
  }

  /** A failed job: .code is the C library's code name. */
  export interface ThumbError extends Error {
    code:
      | 'THUMB_EINVAL' | 'THUMB_ENOMEM' | 'THUMB_EIO' | 'THUMB_EUNSUPPORTED' | 'THUMB_ECORRUPT'
      | 'THUMB_ETRUNCATED' | 'THUMB_ELIMIT_PIXELS' | 'THUMB_ELIMIT_BYTES' | 'THUMB_ELIMIT_SCANS'
      | 'THUMB_ELIMIT_CHUNK' | 'THUMB_ELIMIT_OUTPUT' | 'THUMB_ELIMIT_MEMORY' | 'THUMB_ECALLBACK';
    errno: number;
    detail?: string;
  }

  export type BufferCallback = (err: ThumbError | TypeError | null, data?: Buffer, info?: OutputInfo) => void;

  export class Thumb {
    resize(width?: number | null, height?: number | null, options?: ResizeOptions): this;
    resize(options: ResizeOptions): this;
    /** Without arguments: apply the EXIF orientation. An angle throws (unsupported). */
    rotate(): this;
    autoOrient(): this;
    jpeg(options?: JpegOptions): this;
    png(options?: PngOptions): this;
    toFormat(format: 'jpeg' | 'jpg' | 'jpe' | 'png' | { id: string }, options?: JpegOptions | PngOptions): this;
    clone(): Thumb;
    toBuffer(options?: { resolveWithObject?: false }): Promise<Buffer>;
    toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: OutputInfo }>;
    toBuffer(callback: BufferCallback): this;
    toBuffer(options: { resolveWithObject?: boolean }, callback: BufferCallback): this;
    toUint8Array(): Promise<{ data: Uint8Array; info: OutputInfo }>;
    /** Atomic: the file appears whole or not at all. Format: the chosen one, else the extension, else the input's. */
    toFile(path: string): Promise<OutputInfo>;
    toFile(path: string, callback: (err: ThumbError | TypeError | null, info?: OutputInfo) => void): this;
    metadata(): Promise<Metadata>;
    metadata(callback: (err: ThumbError | TypeError | null, metadata?: Metadata) => void): this;
  }

  export const version: string;
  export const versions: { readonly libthumb: string; readonly simd: string };
  export const gravity: Readonly<Record<GravityName, number>>;
  export const position: Readonly<Record<PositionName, number>>;
  export const strategy: Readonly<{ entropy: 16; attention: 17 }>;
  export const kernel: Readonly<Record<KernelName | 'mitchell' | 'lanczos2' | 'mks2013' | 'mks2021', string>>;
  export const fit: Readonly<Record<FitName, FitName>>;
  export const format: Readonly<Record<'jpeg' | 'png', unknown>>;
  export const errorCodes: Readonly<Record<string, number>>;
  /** libthumb keeps no cache: always zeros. */
  export function cache(options?: boolean | object): { memory: object; files: object; items: object };
  /** Always 1: each job runs on one libuv pool thread (UV_THREADPOOL_SIZE sets how many at once). */
  export function concurrency(n?: 0 | 1): number;
  export function simd(): boolean;
  export { thumb as default };
}

declare function thumb(input: thumb.Input, options?: thumb.InputOptions): thumb.Thumb;
export = thumb;
