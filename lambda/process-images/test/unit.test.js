'use strict';
// Unit tests: configuration, key rules, the JPEG SOF parser, the record policy (with an in-memory S3
// client whose failures we choose). The real S3 is in e2e.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Readable } = require('node:stream');
const sharp = require('libthumb');

const cfg = require('../config');
const img = require('../s3-image-processing');
const { createHandler, mapLimit } = require('../handler');
const { corpusFile, s3Record, s3Event, memoryLogger, s3EventKey } = require('./helpers');

const ENV = {
  DEST_BUCKET_NAME: 'assets.example.com',
  FOLDER_INPUT: 'avatars/original',
  FOLDER_OUTPUT: 'avatars',
  PROCESS_WIDTH: '512',
  PROCESS_HEIGHT: '512',
  AWS_REGION: 'us-east-1',
};

test('config: the seed settings load; folders lose leading and trailing slashes', () => {
  const c = cfg.loadConfig({ ...ENV, FOLDER_INPUT: '/avatars/original/', FOLDER_OUTPUT: 'avatars/' });
  assert.equal(c.destBucket, 'assets.example.com');
  assert.equal(c.folderInput, 'avatars/original');
  assert.equal(c.folderOutput, 'avatars');
  assert.equal(c.width, 512);
  assert.equal(c.height, 512);
  assert.equal(c.concurrency, 4);
  assert.equal(cfg.loadConfig({ ...ENV, FOLDER_INPUT: '/' }).folderInput, '');
  assert.equal(cfg.loadConfig({ ...ENV, FOLDER_INPUT: undefined }).folderInput, '');
});

test('config: bad values are one ConfigError naming every variable', () => {
  const bad = [
    [{ PROCESS_WIDTH: 'abc' }, /PROCESS_WIDTH must be an integer 1\.\.4096, got "abc"/],
    [{ PROCESS_WIDTH: '512px' }, /PROCESS_WIDTH must be an integer/],
    [{ PROCESS_HEIGHT: undefined }, /PROCESS_HEIGHT is not set/],
    [{ PROCESS_HEIGHT: '0' }, /PROCESS_HEIGHT must be 1\.\.4096, got 0/],
    [{ PROCESS_WIDTH: '5000' }, /PROCESS_WIDTH must be 1\.\.4096, got 5000/],
    [{ PROCESS_WIDTH: '-5' }, /PROCESS_WIDTH must be an integer/],
    [{ DEST_BUCKET_NAME: '' }, /DEST_BUCKET_NAME is not set/],
    [{ DEST_BUCKET_NAME: 'Assets_Bucket' }, /DEST_BUCKET_NAME is not a valid bucket name/],
    [{ MAX_CONCURRENCY: '0' }, /MAX_CONCURRENCY must be 1\.\.64/],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, /S3_FORCE_PATH_STYLE must be true or false/],
    [{ AVATAR_TOPIC_ARN: 'my-topic' }, /AVATAR_TOPIC_ARN is not an SNS topic ARN/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => cfg.loadConfig({ ...ENV, ...change }), (err) => {
      assert.equal(err.name, 'ConfigError');
      assert.equal(err.code, 'CONFIG');
      assert.match(err.message, message);
      return true;
    }, JSON.stringify(change));
  }
  assert.throws(() => cfg.loadConfig({}), (err) =>
    /DEST_BUCKET_NAME is not set.*PROCESS_WIDTH is not set.*PROCESS_HEIGHT is not set/.test(err.message));
});

test('keys: "+" is a space, then %XX; a literal plus survives as %2B; bad escapes are null', () => {
  assert.equal(cfg.decodeKey('avatars/original/My+Photo+%281%29.jpg'), 'avatars/original/My Photo (1).jpg');
  assert.equal(cfg.decodeKey('a/b%2Bc.jpg'), 'a/b+c.jpg');
  assert.equal(cfg.decodeKey('a/%E2%82%AC.png'), 'a/\u20ac.png');
  assert.equal(cfg.decodeKey('a/%E2%82.png'), null);
  assert.equal(cfg.decodeKey(s3EventKey('x/ü ä+ö%.jpg')), 'x/ü ä+ö%.jpg');
});

test('keys: basename, output key, what is skipped', () => {
  const c = cfg.loadConfig(ENV);
  assert.equal(cfg.baseName('avatars/original/8f1c-uuid.jpeg'), '8f1c-uuid');
  assert.equal(cfg.baseName('avatars/original/archive.tar.gz'), 'archive.tar');
  assert.equal(cfg.baseName('noext'), 'noext');
  assert.equal(cfg.outputKey(c, 'u1'), 'avatars/u1.jpg');
  assert.equal(cfg.outputKey(cfg.loadConfig({ ...ENV, FOLDER_OUTPUT: '' }), 'u1'), 'u1.jpg');
  const up = 'uploads';
  assert.equal(cfg.skipReason(c, up, 'avatars/original/u1.jpg'), null);
  assert.equal(cfg.skipReason(c, up, 'avatars/original/deeper/u1.jpg'), null);
  assert.equal(cfg.skipReason(c, up, 'avatars/originals/u1.jpg'), 'outside FOLDER_INPUT');
  assert.equal(cfg.skipReason(c, up, 'banners/u1.jpg'), 'outside FOLDER_INPUT');
  assert.equal(cfg.skipReason(c, up, 'avatars/original/'), 'folder placeholder');
  // same bucket: our own output is skipped, the input folder below it is not
  assert.equal(cfg.skipReason(c, c.destBucket, 'avatars/u1.jpg'), 'own output');
  assert.equal(cfg.skipReason(c, c.destBucket, 'avatars/original/u1.jpg'), null);
  // whole bucket as input, output in the same bucket
  const whole = cfg.loadConfig({ ...ENV, FOLDER_INPUT: '' });
  assert.equal(cfg.skipReason(whole, up, 'anything/u1.png'), null);
  assert.equal(cfg.skipReason(whole, whole.destBucket, 'avatars/u1.jpg'), 'own output');
  assert.equal(cfg.skipReason(whole, whole.destBucket, 'avatars/u1.png'), null);
  // the seed's earlier layout: output folder inside the input folder
  const nested = cfg.loadConfig({ ...ENV, FOLDER_INPUT: 'avatars', FOLDER_OUTPUT: 'avatars/processed' });
  assert.equal(cfg.skipReason(nested, nested.destBucket, 'avatars/processed/u1.jpg'), 'own output');
  assert.equal(cfg.skipReason(nested, nested.destBucket, 'avatars/u1.jpg'), null);
});

test('jpegDimensions reads the SOF of libthumb output and rejects non-JPEG bytes', async () => {
  const photo = fs.readFileSync(corpusFile('photos/2569067123_aca715a2ee_o.jpg'));
  assert.deepEqual(img.jpegDimensions(photo), { width: 2725, height: 2225 });
  const out = await sharp(photo).resize(300, 200).jpeg().toBuffer();
  assert.deepEqual(img.jpegDimensions(out), { width: 300, height: 200 });
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 300);
  assert.equal(meta.height, 200);
  assert.equal(img.jpegDimensions(Buffer.from('GIF89a')), null);
  assert.equal(img.jpegDimensions(out.subarray(0, 20)), null);
  assert.equal(img.jpegDimensions(Buffer.alloc(0)), null);
});

test('avatarVersion is the first 16 hex digits of sha256', () => {
  // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  assert.equal(img.avatarVersion(Buffer.from('abc')), 'ba7816bf8f01cfea');
});

test('processImage: corrupt, truncated and non-image bytes are SkipRecord with the libthumb code', async () => {
  const cases = [
    [Buffer.from('this is not an image'), 'THUMB_EUNSUPPORTED'],
    [fs.readFileSync(corpusFile('edge/corrupt-header.jpg')), null],
    [fs.readFileSync(corpusFile('edge/truncated.jpg')), 'THUMB_ETRUNCATED'],
    [Buffer.alloc(0), 'EMPTY'],
  ];
  for (const [bytes, code] of cases) {
    await assert.rejects(img.processImage(bytes, 64, 64), (err) => {
      assert.ok(err instanceof img.SkipRecord, `${err}`);
      assert.equal(err.reason, 'not an image');
      if (code) assert.equal(err.code, code);
      else assert.ok(img.BAD_UPLOAD_CODES.has(err.code), err.code);
      return true;
    });
  }
});

test('mapLimit keeps to its limit and the input order', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (x) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, x * 3));
    running--;
    return x * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
  assert.equal(peak, 3);
});

// An in-memory S3: objects in a Map; failures chosen per key.
function memoryS3(objects, { failGet = new Set(), failPut = new Set() } = {}) {
  const puts = new Map();
  let inFlight = 0;
  let peak = 0;
  return {
    puts,
    get peak() { return peak; },
    async send(cmd) {
      const { Bucket, Key } = cmd.input;
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        if (cmd.constructor.name === 'GetObjectCommand') {
          if (failGet.has(Key)) {
            const e = new Error('We encountered an internal error. Please try again.');
            e.name = 'InternalError';
            e.$metadata = { httpStatusCode: 500 };
            throw e;
          }
          const body = objects.get(`${Bucket}/${Key}`);
          if (!body) {
            const e = new Error('The specified key does not exist.');
            e.name = 'NoSuchKey';
            e.$metadata = { httpStatusCode: 404 };
            throw e;
          }
          return { Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length };
        }
        if (cmd.constructor.name === 'PutObjectCommand') {
          if (failPut.has(Key)) {
            const e = new Error('Access Denied');
            e.name = 'AccessDenied';
            e.$metadata = { httpStatusCode: 403 };
            throw e;
          }
          puts.set(`${Bucket}/${Key}`, cmd.input);
          return {};
        }
        throw new Error(`unexpected command ${cmd.constructor.name}`);
      } finally {
        inFlight--;
      }
    },
  };
}

test('handler: every record, bounded concurrency, skips counted, summary returned', async () => {
  const photo = fs.readFileSync(corpusFile('photos/flowers.jpeg'));
  const objects = new Map();
  const keys = [];
  for (let i = 0; i < 7; i++) {
    keys.push(`avatars/original/user ${i}.jpeg`);
    objects.set(`uploads/avatars/original/user ${i}.jpeg`, photo);
  }
  const s3 = memoryS3(objects);
  const logger = memoryLogger();
  const handler = createHandler({ ...ENV, MAX_CONCURRENCY: '2' }, { s3, logger });
  const records = keys.map((k) => s3Record('uploads', k));
  records.push(s3Record('uploads', keys[0]));                          // duplicate
  records.push(s3Record('uploads', 'banners/b.jpg'));                  // outside FOLDER_INPUT
  records.push(s3Record('uploads', 'avatars/original/x.jpg', { eventName: 'ObjectRemoved:Delete' }));
  records.push({ eventSource: 'aws:sqs' });                             // not S3
  records.push(s3Record('uploads', 'avatars/original/gone.jpg'));      // NoSuchKey
  const summary = await handler(s3Event(records));
  assert.deepEqual(summary, { processed: 7, skipped: 5, failed: 0 });
  assert.equal(s3.peak, 2);
  for (let i = 0; i < 7; i++) {
    const put = s3.puts.get(`assets.example.com/avatars/user ${i}.jpg`);
    assert.ok(put, `user ${i}`);
    assert.equal(put.ContentType, 'image/jpeg');
    assert.equal(put.CacheControl, 'public, max-age=31536000, immutable');
    assert.equal(put.Metadata.version, img.avatarVersion(put.Body));
    assert.equal(put.Metadata.width, '512');
    assert.equal(put.Metadata.height, '512');
  }
  const reasons = logger.lines.filter((l) => l.msg === 'skipped').map((l) => l.reason).sort();
  assert.deepEqual(reasons, ['duplicate in batch', 'event ObjectRemoved:Delete', 'not an S3 record',
    'object not found', 'outside FOLDER_INPUT']);
  const done = logger.lines.filter((l) => l.msg === 'processed');
  assert.equal(done.length, 7);
  assert.ok(done.every((l) => l.ms.total >= l.ms.resize && l.ms.resize > 0), JSON.stringify(done[0]));
});

test('handler: a failed record fails the invocation, after the rest of the batch was done', async () => {
  const photo = fs.readFileSync(corpusFile('photos/flowers.jpeg'));
  const objects = new Map([
    ['uploads/avatars/original/a.jpg', photo],
    ['uploads/avatars/original/b.jpg', photo],
    ['uploads/avatars/original/c.jpg', photo],
    ['uploads/avatars/original/d.jpg', Buffer.from('<html>not a picture</html>')],
  ]);
  const s3 = memoryS3(objects, { failGet: new Set(['avatars/original/b.jpg']) });
  const logger = memoryLogger();
  const handler = createHandler(ENV, { s3, logger });
  const event = s3Event(['a', 'b', 'c', 'd'].map((n) => s3Record('uploads', `avatars/original/${n}.jpg`)));
  await assert.rejects(handler(event), (err) => {
    assert.equal(err.name, 'RecordsFailed');
    assert.deepEqual(err.summary, { processed: 2, skipped: 1, failed: 1 });
    assert.match(err.message, /1 of 4 records failed \(first: avatars\/original\/b\.jpg: We encountered an internal error/);
    return true;
  });
  assert.ok(s3.puts.has('assets.example.com/avatars/a.jpg'));
  assert.ok(s3.puts.has('assets.example.com/avatars/c.jpg'));
  const failed = logger.lines.find((l) => l.msg === 'failed');
  assert.equal(failed.level, 'error');
  assert.equal(failed.status, 500);
  const skipped = logger.lines.find((l) => l.msg === 'skipped');
  assert.equal(skipped.key, 'avatars/original/d.jpg');
  assert.equal(skipped.code, 'THUMB_EUNSUPPORTED');

  // an access-denied PutObject is a failure too (a deployment error must be loud, not a skip)
  const s3b = memoryS3(objects, { failPut: new Set(['avatars/a.jpg']) });
  await assert.rejects(createHandler(ENV, { s3: s3b, logger: memoryLogger() })(
    s3Event([s3Record('uploads', 'avatars/original/a.jpg')])), /Access Denied/);
});

test('handler: objects over MAX_INPUT_BYTES are skipped before they are read', async () => {
  const photo = fs.readFileSync(corpusFile('photos/flowers.jpeg'));
  const s3 = memoryS3(new Map([['uploads/avatars/original/big.jpg', photo]]));
  const logger = memoryLogger();
  const handler = createHandler({ ...ENV, MAX_INPUT_BYTES: String(photo.length - 1) }, { s3, logger });
  assert.deepEqual(await handler(s3Event([s3Record('uploads', 'avatars/original/big.jpg')])),
    { processed: 0, skipped: 1, failed: 0 });
  assert.equal(logger.lines.find((l) => l.msg === 'skipped').reason, 'too large');
});

test('handler: an event without Records (s3:TestEvent) is an empty summary', async () => {
  const handler = createHandler(ENV, { s3: memoryS3(new Map()), logger: memoryLogger() });
  assert.deepEqual(await handler({ Service: 'Amazon S3', Event: 's3:TestEvent' }),
    { processed: 0, skipped: 0, failed: 0 });
});

test('the S3 client is made once per container, with S3_ENDPOINT and S3_FORCE_PATH_STYLE honoured', async () => {
  const handler = createHandler({ ...ENV, S3_ENDPOINT: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true' },
    { logger: memoryLogger() });
  const { s3 } = handler.clients;
  const ep = await s3.config.endpoint();
  assert.equal(ep.hostname, '127.0.0.1');
  assert.equal(ep.port, 9);
  assert.equal(s3.config.forcePathStyle, true);
  assert.equal(handler.clients.sns, undefined); // no AVATAR_TOPIC_ARN: no SNS client
  // a second invocation uses the same client
  assert.deepEqual(await handler({ Records: [] }), { processed: 0, skipped: 0, failed: 0 });
  assert.equal(handler.clients.s3, s3);
  s3.destroy();
});

test('handler: with a Lambda context, every log line carries its awsRequestId', async () => {
  const logger = memoryLogger();
  const s3 = memoryS3(new Map([['uploads/avatars/original/a.jpg', fs.readFileSync(corpusFile('photos/concert.jpg'))]]));
  const handler = createHandler(ENV, { s3, logger });
  await handler(s3Event([s3Record('uploads', 'avatars/original/a.jpg'), s3Record('uploads', 'banners/x.jpg')]),
    { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' });
  assert.deepEqual(logger.lines.map((l) => [l.msg, l.requestId]), [
    ['skipped', 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'],
    ['processed', 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'],
    ['summary', 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'],
  ]);
});
