'use strict';
// The seed's three steps (get the upload, resize it, put the avatar), on libthumb instead of sharp,
// plus the avatar-version design: the avatar's metadata carries the first 16 hex digits of the sha256 of
// its bytes, and an optional SNS message announces it.

const crypto = require('node:crypto');
const { GetObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');
const { PublishCommand } = require('@aws-sdk/client-sns');
const sharp = require('libthumb');

const CACHE_CONTROL = 'public, max-age=31536000, immutable';

// libthumb codes that mean "this upload is not an image we can read": the record is skipped (retrying
// cannot help). Anything else from libthumb (THUMB_ENOMEM, THUMB_EINVAL, ...) fails the record.
const BAD_UPLOAD_CODES = new Set([
  'THUMB_EUNSUPPORTED',
  'THUMB_ECORRUPT',
  'THUMB_ETRUNCATED',
  'THUMB_ELIMIT_PIXELS',
  'THUMB_ELIMIT_BYTES',
  'THUMB_ELIMIT_SCANS',
  'THUMB_ELIMIT_CHUNK',
  'THUMB_ELIMIT_MEMORY',
  'THUMB_EICC',
]);

// A record we decided not to process: logged as skipped, does not fail the invocation.
class SkipRecord extends Error {
  constructor(reason, detail, code) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'SkipRecord';
    this.reason = reason;
    this.detail = detail;
    if (code) this.code = code;
  }
}

// Download the upload into a Buffer, refusing more than maxBytes (a 128 MB Lambda must not be taken
// down by one huge file). With the event's eTag, only that upload is read: when the user has uploaded
// again since, S3 answers 412 and the record is skipped - the newer upload has its own event, and an
// older photo processed late must not overwrite the newer avatar.
async function getOriginalImage(s3, bucket, key, maxBytes, eTag) {
  let res;
  try {
    res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(eTag ? { IfMatch: `"${eTag}"` } : {}) }));
  } catch (err) {
    if (err && err.name === 'NoSuchKey') { // a missing bucket (NoSuchBucket, also 404) is a failure
      throw new SkipRecord('object not found', 'deleted before it was processed', 'NoSuchKey');
    }
    if (eTag && (err?.name === 'PreconditionFailed' || err?.$metadata?.httpStatusCode === 412)) {
      throw new SkipRecord('superseded', `the object is no longer the upload of this event (eTag ${eTag})`, 'PreconditionFailed');
    }
    throw err;
  }
  const body = res.Body;
  if (typeof res.ContentLength === 'number' && res.ContentLength > maxBytes) {
    body?.destroy?.();
    throw new SkipRecord('too large', `${res.ContentLength} bytes, MAX_INPUT_BYTES is ${maxBytes}`, 'TOO_LARGE');
  }
  const chunks = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy?.();
      throw new SkipRecord('too large', `over MAX_INPUT_BYTES (${maxBytes})`, 'TOO_LARGE');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

// The seed's call, sharp's defaults: cover, centre crop, Lanczos3, JPEG q80 4:2:0, no metadata; plus
// .rotate(), which the seed lacked: sharp (and so the drop-in) applies the EXIF orientation only when
// asked, and without it a phone photo held upright became a sideways avatar (the metadata that
// said how to turn it is stripped from the output).
async function processImage(image, width, height) {
  if (image.length === 0) throw new SkipRecord('not an image', 'empty object', 'EMPTY');
  try {
    return await sharp(image).rotate().resize(width, height).jpeg().toBuffer();
  } catch (err) {
    if (err && BAD_UPLOAD_CODES.has(err.code)) throw new SkipRecord('not an image', err.message, err.code);
    throw err;
  }
}

// Width and height from a JPEG's SOF marker; null when the bytes are not a JPEG with one.
function jpegDimensions(buf) {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1];
    if (marker === 0xff) { i += 1; continue; }            // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
    const len = buf.readUInt16BE(i + 2);
    if (len < 2) return null;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > buf.length) return null;
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    if (marker === 0xda || marker === 0xd9) return null;   // scan or end before any frame header
    i += 2 + len;
  }
  return null;
}

function avatarVersion(jpeg) {
  return crypto.createHash('sha256').update(jpeg).digest('hex').slice(0, 16);
}

async function uploadProcessedImage(s3, bucket, key, jpeg, meta) {
  await s3.send(new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    Body: jpeg,
    ContentType: 'image/jpeg',
    CacheControl: CACHE_CONTROL,
    Metadata: { version: meta.version, width: String(meta.width), height: String(meta.height) },
  }));
}

async function publishAvatar(sns, topicArn, message) {
  await sns.send(new PublishCommand({
    TopicArn: topicArn,
    Subject: 'avatar processed',
    Message: JSON.stringify(message),
  }));
}

module.exports = {
  CACHE_CONTROL,
  BAD_UPLOAD_CODES,
  SkipRecord,
  getOriginalImage,
  processImage,
  jpegDimensions,
  avatarVersion,
  uploadProcessedImage,
  publishAvatar,
};
