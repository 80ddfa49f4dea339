'use strict';
// End to end on a real local S3 (moto_server on 127.0.0.1): buckets with dots in their names (so only
// path-style addressing works), corpus photos uploaded under keys with spaces, the handler invoked with
// a several-record S3 event, the avatars read back from the assets bucket, and the SNS message read
// from an SQS queue subscribed to the topic.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
} = require('@aws-sdk/client-s3');
const { SNSClient, CreateTopicCommand, SubscribeCommand } = require('@aws-sdk/client-sns');
const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } = require('@aws-sdk/client-sqs');
const sharp = require('libthumb');

const { startMoto, freePort, awsEnv, clientConfig } = require('./moto');
const { corpusFile, s3Record, s3Event, memoryLogger, streamToBuffer } = require('./helpers');
const { createHandler } = require('../handler');
const { avatarVersion, jpegDimensions } = require('../s3-image-processing');

const UPLOADS = 'uploads.cruddur.example.com';
const ASSETS = 'assets.example.com';
let moto;
let s3;
let env;

test.before(async () => {
  moto = await startMoto();
  // The SDK reads credentials, region and AWS_ENDPOINT_URL from process.env (as in Lambda); the
  // handler's own settings come from the env object it is given.
  Object.assign(process.env, awsEnv(moto.endpoint));
  env = {
    ...awsEnv(moto.endpoint),
    DEST_BUCKET_NAME: ASSETS,
    FOLDER_INPUT: '/avatars/original/',
    FOLDER_OUTPUT: 'avatars',
    PROCESS_WIDTH: '512',
    PROCESS_HEIGHT: '512',
  };
  s3 = new S3Client(clientConfig(moto.endpoint));
  for (const b of [UPLOADS, ASSETS]) await s3.send(new CreateBucketCommand({ Bucket: b }));
});

test.after(async () => {
  s3?.destroy();
  await moto?.stop();
});

async function upload(bucket, key, file) {
  const body = Buffer.isBuffer(file) ? file : fs.readFileSync(file);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return body;
}

async function getAvatar(key) {
  const res = await s3.send(new GetObjectCommand({ Bucket: ASSETS, Key: key }));
  return { res, body: await streamToBuffer(res.Body) };
}

async function assertAvatar(key, w = 512, h = 512) {
  const { res, body } = await getAvatar(key);
  assert.equal(body[0], 0xff, `${key}: SOI`);
  assert.equal(body[1], 0xd8, `${key}: SOI`);
  assert.deepEqual(jpegDimensions(body), { width: w, height: h }, key);
  const meta = await sharp(body).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, w);
  assert.equal(meta.height, h);
  assert.equal(res.ContentType, 'image/jpeg');
  assert.equal(res.CacheControl, 'public, max-age=31536000, immutable');
  const version = crypto.createHash('sha256').update(body).digest('hex').slice(0, 16);
  assert.equal(res.Metadata.version, version);
  assert.equal(res.Metadata.width, String(w));
  assert.equal(res.Metadata.height, String(h));
  return { body, version };
}

test('a batch of uploads with spaces in their keys becomes 512x512 avatars; bad uploads are skipped', async () => {
  const photos = {
    'avatars/original/8f1c user one.jpg': corpusFile('photos/2569067123_aca715a2ee_o.jpg'),
    'avatars/original/user (two)+plus.png': corpusFile('photos/astronaut.png'),
    'avatars/original/ünïcode three.jpeg': corpusFile('photos/flowers.jpeg'),
    'avatars/original/cmyk four.jpg': corpusFile('photos/Channel_digital_image_CMYK_color.jpg'),
  };
  for (const [key, file] of Object.entries(photos)) await upload(UPLOADS, key, file);
  await upload(UPLOADS, 'avatars/original/corrupt.jpg', corpusFile('edge/corrupt-header.jpg'));
  await upload(UPLOADS, 'avatars/original/truncated.jpg', corpusFile('edge/truncated.jpg'));
  await upload(UPLOADS, 'avatars/original/notes.txt', Buffer.from('not an image at all\n'));
  await upload(UPLOADS, 'banners/banner.jpg', corpusFile('photos/flowers.jpeg'));

  const logger = memoryLogger();
  const handler = createHandler(env, { logger });
  const event = s3Event([
    ...Object.keys(photos).slice(0, 2).map((k) => s3Record(UPLOADS, k)),
    s3Record(UPLOADS, 'avatars/original/corrupt.jpg'),
    ...Object.keys(photos).slice(2).map((k) => s3Record(UPLOADS, k)),
    s3Record(UPLOADS, 'avatars/original/truncated.jpg'),
    s3Record(UPLOADS, 'avatars/original/notes.txt'),
    s3Record(UPLOADS, 'banners/banner.jpg'),
  ]);
  const summary = await handler(event);
  assert.deepEqual(summary, { processed: 4, skipped: 4, failed: 0 });

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: ASSETS }));
  assert.deepEqual(listed.Contents.map((o) => o.Key).sort(), [
    'avatars/8f1c user one.jpg', 'avatars/cmyk four.jpg', 'avatars/user (two)+plus.jpg', 'avatars/ünïcode three.jpg',
  ]);
  for (const o of listed.Contents) await assertAvatar(o.Key);

  const skipped = Object.fromEntries(logger.lines.filter((l) => l.msg === 'skipped').map((l) => [l.key, l]));
  assert.deepEqual(Object.keys(skipped).sort(), ['avatars/original/corrupt.jpg', 'avatars/original/notes.txt',
    'avatars/original/truncated.jpg', 'banners/banner.jpg']);
  assert.equal(skipped['banners/banner.jpg'].reason, 'outside FOLDER_INPUT');
  for (const k of ['corrupt.jpg', 'truncated.jpg', 'notes.txt']) {
    const l = skipped[`avatars/original/${k}`];
    assert.equal(l.level, 'warn');
    assert.equal(l.reason, 'not an image');
    assert.match(l.code, /^THUMB_E/);
  }
  assert.equal(skipped['avatars/original/notes.txt'].code, 'THUMB_EUNSUPPORTED');
  assert.equal(skipped['avatars/original/truncated.jpg'].code, 'THUMB_ETRUNCATED');
});

test('the seed`s example.json event, as saved, makes avatars/data.jpg', async () => {
  const event = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'example.json'), 'utf8'));
  const bucket = event.Records[0].s3.bucket.name;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await upload(bucket, event.Records[0].s3.object.key, corpusFile('photos/retina.jpg'));
  const handler = createHandler(env, { logger: memoryLogger() });
  assert.deepEqual(await handler(event), { processed: 1, skipped: 0, failed: 0 });
  await assertAvatar('avatars/data.jpg');
});

test('the avatar is the seed chain`s output: same bytes as sharp(buf).rotate().resize(512, 512).jpeg() on libthumb', async () => {
  const file = corpusFile('photos/2569067123_aca715a2ee_o.jpg');
  const { body } = await getAvatar('avatars/8f1c user one.jpg');
  const expected = await sharp(fs.readFileSync(file)).rotate().resize(512, 512).jpeg().toBuffer();
  assert.ok(body.equals(expected));
});

test('a phone photo stored turned (EXIF orientation 2-8) becomes an upright avatar', async () => {
  const handler = createHandler(env, { logger: memoryLogger() });
  const records = [];
  for (let n = 2; n <= 8; n++) {
    await upload(UPLOADS, `avatars/original/turned-${n}.jpg`, corpusFile(`exif/Landscape_${n}.jpg`));
    records.push(s3Record(UPLOADS, `avatars/original/turned-${n}.jpg`));
  }
  assert.deepEqual(await handler(s3Event(records)), { processed: 7, skipped: 0, failed: 0 });
  for (let n = 2; n <= 8; n++) {
    const buf = fs.readFileSync(corpusFile(`exif/Landscape_${n}.jpg`));
    const { body } = await assertAvatar(`avatars/turned-${n}.jpg`);
    const upright = await sharp(buf).rotate().resize(512, 512).jpeg().toBuffer();
    const asStored = await sharp(buf).resize(512, 512).jpeg().toBuffer();
    assert.ok(body.equals(upright), `Landscape_${n}: the avatar is the auto-oriented one`);
    assert.ok(!body.equals(asStored), `Landscape_${n}: not the picture as stored`);
  }
});

test('same bucket: the handler skips its own outputs, so it never triggers itself', async () => {
  const logger = memoryLogger();
  const handler = createHandler({ ...env, DEST_BUCKET_NAME: UPLOADS, FOLDER_INPUT: '' }, { logger });
  await upload(UPLOADS, 'avatars/original/self.jpg', corpusFile('photos/rocket.jpg'));
  const first = await handler(s3Event([s3Record(UPLOADS, 'avatars/original/self.jpg')]));
  assert.deepEqual(first, { processed: 1, skipped: 0, failed: 0 });
  const head = await s3.send(new HeadObjectCommand({ Bucket: UPLOADS, Key: 'avatars/self.jpg' }));
  assert.equal(head.ContentType, 'image/jpeg');
  // the event S3 sends for that output
  const second = await handler(s3Event([s3Record(UPLOADS, 'avatars/self.jpg')]));
  assert.deepEqual(second, { processed: 0, skipped: 1, failed: 0 });
  assert.equal(logger.lines.at(-2).reason, 'own output');
});

test('a missing bucket fails the invocation (Lambda retries it); the rest of the batch is still done', async () => {
  await upload(UPLOADS, 'avatars/original/ok.jpg', corpusFile('photos/rocket.jpg'));
  const logger = memoryLogger();
  const handler = createHandler(env, { logger });
  await assert.rejects(handler(s3Event([
    s3Record('no-such-bucket.example.com', 'avatars/original/x.jpg'),
    s3Record(UPLOADS, 'avatars/original/ok.jpg'),
  ])), (err) => {
    assert.equal(err.name, 'RecordsFailed');
    assert.deepEqual(err.summary, { processed: 1, skipped: 0, failed: 1 });
    return true;
  });
  await assertAvatar('avatars/ok.jpg');
  assert.equal(logger.lines.find((l) => l.msg === 'failed').error, 'NoSuchBucket');
});

test('S3 unreachable (connection refused after the SDK`s retries) fails the invocation so Lambda retries', async () => {
  const port = await freePort(); // nothing listens there
  const logger = memoryLogger();
  const handler = createHandler({ ...env, S3_ENDPOINT: `http://127.0.0.1:${port}` }, { logger });
  await assert.rejects(handler(s3Event([s3Record(UPLOADS, 'avatars/original/ok.jpg')])), (err) => {
    assert.equal(err.name, 'RecordsFailed');
    assert.deepEqual(err.summary, { processed: 0, skipped: 0, failed: 1 });
    return true;
  });
  const failed = logger.lines.find((l) => l.msg === 'failed');
  assert.match(`${failed.code} ${failed.message}`, /ECONNREFUSED/);
  assert.equal(failed.attempts, 3); // the SDK's standard retry mode tried three times first
  handler.clients.s3.destroy();
});

test('the event`s eTag: an upload replaced by a newer one before it was read is skipped, not processed late', async () => {
  const key = 'avatars/original/twice.jpg';
  const v1 = await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: fs.readFileSync(corpusFile('photos/rocket.jpg')) }));
  const v2 = await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: fs.readFileSync(corpusFile('photos/concert.jpg')) }));
  assert.notEqual(v1.ETag, v2.ETag);
  const logger = memoryLogger();
  const handler = createHandler(env, { logger });
  // the first upload's event, delivered after the second upload
  assert.deepEqual(await handler(s3Event([s3Record(UPLOADS, key, { eTag: v1.ETag })])), { processed: 0, skipped: 1, failed: 0 });
  const skipped = logger.lines.find((l) => l.msg === 'skipped');
  assert.equal(skipped.reason, 'superseded');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: ASSETS, Key: 'avatars/twice.jpg' })), { name: 'NotFound' });
  // the second upload's event
  assert.deepEqual(await handler(s3Event([s3Record(UPLOADS, key, { eTag: v2.ETag })])), { processed: 1, skipped: 0, failed: 0 });
  const { body } = await assertAvatar('avatars/twice.jpg');
  const expected = await sharp(fs.readFileSync(corpusFile('photos/concert.jpg'))).resize(512, 512).jpeg().toBuffer();
  assert.ok(body.equals(expected));
});

test('AVATAR_TOPIC_ARN: one SNS message per avatar, read from a subscribed SQS queue', async () => {
  const sns = new SNSClient(clientConfig(moto.endpoint));
  const sqs = new SQSClient(clientConfig(moto.endpoint));
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'avatar-processed' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'avatar-webhook' }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({
      TopicArn, Protocol: 'sqs', Endpoint: attrs.Attributes.QueueArn, Attributes: { RawMessageDelivery: 'true' },
    }));
    await upload(UPLOADS, 'avatars/original/0b6e-uuid.jpg', corpusFile('photos/concert.jpg'));
    const handler = createHandler({ ...env, AVATAR_TOPIC_ARN: TopicArn }, { logger: memoryLogger() });
    assert.equal(typeof handler.clients.sns?.send, 'function');
    assert.deepEqual(await handler(s3Event([s3Record(UPLOADS, 'avatars/original/0b6e-uuid.jpg')])),
      { processed: 1, skipped: 0, failed: 0 });
    const { body, version } = await assertAvatar('avatars/0b6e-uuid.jpg');
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    assert.equal(got.Messages?.length, 1);
    assert.deepEqual(JSON.parse(got.Messages[0].Body), {
      bucket: ASSETS, key: 'avatars/0b6e-uuid.jpg', name: '0b6e-uuid', version,
      width: 512, height: 512, bytes: body.length,
    });
    assert.equal(version, avatarVersion(body));
  } finally {
    sns.destroy();
    sqs.destroy();
  }
});

test('index.js: a bad environment stops the cold start with a clear ConfigError', () => {
  const index = path.join(__dirname, '..', 'index.js');
  const run = (extra) => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(index)})`], {
    env: { PATH: process.env.PATH, NODE_PATH: process.env.NODE_PATH || '', ...awsEnv(moto.endpoint), ...extra },
    encoding: 'utf8',
  });
  const bad = run({ DEST_BUCKET_NAME: ASSETS, PROCESS_WIDTH: '512', PROCESS_HEIGHT: 'S12' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /ConfigError: process-images: bad configuration: PROCESS_HEIGHT must be an integer 1\.\.4096, got "S12"/);
  const missing = run({ PROCESS_WIDTH: '512', PROCESS_HEIGHT: '512' });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /DEST_BUCKET_NAME is not set/);
  const good = run({ DEST_BUCKET_NAME: ASSETS, PROCESS_WIDTH: '512', PROCESS_HEIGHT: '512' });
  assert.equal(good.status, 0, good.stderr);
});
