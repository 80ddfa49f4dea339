'use strict';
// createHandler(env): the Lambda handler for one container. Configuration is validated and the S3 (and
// SNS) clients are made once, here, not per invocation and not as implicit globals.
//
// Per invocation: every record of the S3 event (the seed read only Records[0]), at most MAX_CONCURRENCY
// at a time. Each record ends as one of
//   processed  the avatar is in DEST_BUCKET_NAME (and announced on AVATAR_TOPIC_ARN when set);
//   skipped    not ours (outside FOLDER_INPUT, our own output, not an ObjectCreated event, a duplicate
//              in the batch) or not an image we can read (corrupt, truncated, unsupported, too big, gone,
//              replaced by a newer upload since the event):
//              logged, and retrying would not change it;
//   failed     anything else: S3 or SNS errors left after the SDK's own retries, out of memory, ...
// The result is {processed, skipped, failed}. When a record failed, the invocation throws after the
// whole batch has run, so Lambda retries the event: the other records are processed again, which is
// harmless (the same upload makes the same bytes, the same key and the same version), while returning
// normally would lose that avatar for good (the S3 notification is not sent again).

const { S3Client } = require('@aws-sdk/client-s3');
const { loadConfig, decodeKey, skipReason, baseName, outputKey } = require('./config');
const img = require('./s3-image-processing');

function jsonLogger(stream = process.stdout, errStream = process.stderr) {
  const write = (s, level, fields) => s.write(JSON.stringify({ level, ...fields }) + '\n');
  return {
    info: (fields) => write(stream, 'info', fields),
    warn: (fields) => write(stream, 'warn', fields),
    error: (fields) => write(errStream, 'error', fields),
  };
}

function makeClients(config) {
  const s3 = new S3Client({
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
  });
  let sns;
  if (config.topicArn) {
    const { SNSClient } = require('@aws-sdk/client-sns');
    sns = new SNSClient({ ...(config.region ? { region: config.region } : {}) });
  }
  return { s3, sns };
}

// Run fn over items, at most limit at a time; results in input order. fn must not throw.
async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function errorFields(err) {
  return {
    error: err?.name || 'Error',
    code: err?.code ?? err?.Code ?? undefined,
    message: String(err?.message ?? err),
    status: err?.$metadata?.httpStatusCode,
    attempts: err?.$metadata?.attempts, // the SDK's own retries, before this record counts as failed
  };
}

const msBetween = (a, b) => Math.round(Number(b - a) / 1e4) / 100; // hrtime ns -> ms, 2 decimals
const msSince = (t0) => msBetween(t0, process.hrtime.bigint());

function createHandler(env = process.env, deps = {}) {
  const config = loadConfig(env);
  const clients = deps.s3 ? { s3: deps.s3, sns: deps.sns } : makeClients(config);
  const baseLog = deps.logger || jsonLogger();

  // One record -> {status, ...}; never throws.
  async function processRecord(job, log) {
    const { bucket, key } = job;
    const t0 = process.hrtime.bigint();
    const name = baseName(key);
    const destKey = outputKey(config, name);
    try {
      const image = await img.getOriginalImage(clients.s3, bucket, key, config.maxInputBytes, job.eTag);
      const tGot = process.hrtime.bigint();
      const jpeg = await img.processImage(image, config.width, config.height);
      const tMade = process.hrtime.bigint();
      const dims = img.jpegDimensions(jpeg);
      if (!dims) throw new Error('libthumb returned bytes that are not a JPEG');
      const version = img.avatarVersion(jpeg);
      await img.uploadProcessedImage(clients.s3, config.destBucket, destKey, jpeg, { version, ...dims });
      const message = {
        bucket: config.destBucket, key: destKey, name, version,
        width: dims.width, height: dims.height, bytes: jpeg.length,
      };
      if (config.topicArn) await img.publishAvatar(clients.sns, config.topicArn, message);
      const ms = { get: msBetween(t0, tGot), resize: msBetween(tGot, tMade), total: msSince(t0) };
      log.info({ msg: 'processed', bucket, key, avatar: message, inputBytes: image.length, ms });
      return { status: 'processed', ...message };
    } catch (err) {
      if (err instanceof img.SkipRecord) {
        log.warn({ msg: 'skipped', bucket, key, reason: err.reason, code: err.code, detail: err.detail });
        return { status: 'skipped', bucket, key, reason: err.reason };
      }
      log.error({ msg: 'failed', bucket, key, ...errorFields(err), ms: { total: msSince(t0) } });
      return { status: 'failed', bucket, key, error: err };
    }
  }

  // Event record -> a job, or a skip with its reason.
  function plan(record) {
    const bucket = record?.s3?.bucket?.name;
    const rawKey = record?.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof rawKey !== 'string') return { skip: 'not an S3 record' };
    const eventName = String(record.eventName ?? '');
    if (eventName && !eventName.startsWith('ObjectCreated:')) return { bucket, key: rawKey, skip: `event ${eventName}` };
    const key = decodeKey(rawKey);
    if (key === null) return { bucket, key: rawKey, skip: 'malformed key encoding' };
    const reason = skipReason(config, bucket, key);
    if (reason) return { bucket, key, skip: reason };
    const eTag = record.s3.object.eTag;
    return { bucket, key, eTag: typeof eTag === 'string' && /^[0-9a-f]{32}(-[0-9]+)?$/i.test(eTag) ? eTag : undefined };
  }

  // Lambda passes context; its request id goes on every line (they are written to stdout directly,
  // not through the runtime's console, which would add it).
  function invocationLog(context) {
    const requestId = context?.awsRequestId;
    if (!requestId) return baseLog;
    const tag = (f) => (fields) => f({ requestId, ...fields });
    return { info: tag(baseLog.info), warn: tag(baseLog.warn), error: tag(baseLog.error) };
  }

  async function handler(event, context) {
    const t0 = process.hrtime.bigint();
    const log = invocationLog(context);
    const records = Array.isArray(event?.Records) ? event.Records : [];
    if (!Array.isArray(event?.Records)) {
      log.warn({ msg: 'no records', event: event?.Event ?? typeof event });
    }
    const jobs = [];
    const seen = new Set();
    let skipped = 0;
    for (const record of records) {
      const p = plan(record);
      const id = `${p.bucket}\u0000${p.key}`;
      if (!p.skip && seen.has(id)) p.skip = 'duplicate in batch';
      if (p.skip) {
        skipped++;
        log.info({ msg: 'skipped', bucket: p.bucket, key: p.key, reason: p.skip });
        continue;
      }
      seen.add(id);
      jobs.push(p);
    }
    const results = await mapLimit(jobs, config.concurrency, (job) => processRecord(job, log));
    const summary = {
      processed: results.filter((r) => r.status === 'processed').length,
      skipped: skipped + results.filter((r) => r.status === 'skipped').length,
      failed: results.filter((r) => r.status === 'failed').length,
    };
    log.info({ msg: 'summary', records: records.length, ...summary, ms: msSince(t0) });
    if (summary.failed) {
      const first = results.find((r) => r.status === 'failed');
      const err = new Error(
        `process-images: ${summary.failed} of ${records.length} records failed (first: ${first.key}: ` +
        `${first.error?.message ?? first.error}); the event will be retried`);
      err.name = 'RecordsFailed';
      err.summary = summary;
      err.cause = first.error;
      throw err;
    }
    return summary;
  }

  handler.config = config;
  handler.clients = clients;
  return handler;
}

module.exports = { createHandler, jsonLogger, mapLimit };
