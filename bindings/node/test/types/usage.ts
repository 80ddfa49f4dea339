// Compiled by types.test.js (tsc --noEmit --strict): the chain as code uses it.
import sharp = require('../..');
import thumbDefault from '../..';

async function avatar(buf: Buffer): Promise<Buffer> {
  return sharp(buf).resize(512, 512).jpeg().toBuffer();
}

async function all(buf: Uint8Array, path: string): Promise<number> {
  const { data, info } = await sharp(buf, { failOn: 'error', limitInputPixels: false })
    .rotate()
    .resize({ width: 100, fit: 'inside', position: 'right top', background: { r: 1, g: 2, b: 3, alpha: 0.5 }, kernel: 'cubic' })
    .png({ compressionLevel: 9 })
    .toBuffer({ resolveWithObject: true });
  const fileInfo: sharp.OutputInfo = await thumbDefault(path).resize(64, 64, { fit: sharp.fit.cover }).toFormat('jpg', { quality: 70 }).toFile('/tmp/x.jpg');
  const md: sharp.Metadata = await sharp(path).metadata();
  sharp(buf).toBuffer((err, d, i) => { if (err) console.log(err.message); else console.log(d?.length, i?.width); });
  const v: string = sharp.versions.libthumb + sharp.version;
  return data.length + info.width + fileInfo.size + md.autoOrient.width + v.length + sharp.gravity.north;
}

// @ts-expect-error rotate takes no angle
sharp(Buffer.alloc(1)).rotate(90);
// @ts-expect-error no webp output
sharp(Buffer.alloc(1)).webp();
// @ts-expect-error kernel names libthumb lacks
sharp(Buffer.alloc(1)).resize(1, 1, { kernel: 'mitchell' });

export { avatar, all };
