'use strict';
// Shared by the tests: S3 events shaped like the seed's example.json, a log sink, corpus paths.

const path = require('node:path');
const fs = require('node:fs');
const { REPO } = require('./moto');

const CORPUS = process.env.THUMB_CORPUS || path.join(REPO, '../shared/corpus');

function corpusFile(rel) {
  const p = path.join(CORPUS, rel);
  if (!fs.existsSync(p)) throw new Error(`corpus file missing: ${p} (set THUMB_CORPUS)`);
  return p;
}

// Keys in S3 notifications are URL-encoded, spaces as '+' (what S3 sends: "My+Photo%281%29.jpg").
function s3EventKey(key) {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

// eTag: as S3 puts it in the event (no quotes; PutObject's response has them).
function s3Record(bucket, key, { eventName = 'ObjectCreated:Put', size = 1024, encode = true, eTag } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ThumbLambdaTrigger',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encode ? s3EventKey(key) : key, size, sequencer: '0064C0F3D27D1F6A1A',
        ...(eTag ? { eTag: eTag.replace(/"/g, '') } : {}),
      },
    },
  };
}

function s3Event(records) {
  return { Records: records };
}

// A logger that keeps every line (and can echo them for debugging with LOG=1).
function memoryLogger() {
  const lines = [];
  const keep = (level) => (fields) => {
    const line = { level, ...fields };
    lines.push(line);
    if (process.env.LOG) console.log(JSON.stringify(line));
  };
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

async function streamToBuffer(body) {
  const chunks = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

module.exports = { CORPUS, corpusFile, s3EventKey, s3Record, s3Event, memoryLogger, streamToBuffer };
