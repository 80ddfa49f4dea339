#!/usr/bin/env node
// The main job's driver (scripts/avatars runs it): the packaged Lambda on a local S3.
//
//   node tools/avatars.js --task DIR --photos DIR --out DIR [--rounds N]
//
// DIR of --task is the unpacked dist/process-images.zip: its index.handler is what runs, as Lambda
// would load it. Steps: moto_server on 127.0.0.1 (stopped at exit), the uploads and assets buckets,
// every photo uploaded to uploads/avatars/original/<file>, one S3 event with all of them (the batch:
// total time), then ROUNDS one-record events per photo (the handler's time per photo, best of ROUNDS),
// the avatars downloaded from the assets bucket into --out and checked (512x512 JPEG, ContentType,
// CacheControl, version = sha256 prefix), a preview of each input, the contact sheet --out/index.html,
// the handler's JSON log in --out/handler.log, and a summary. Exit status 1 when any photo failed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const sharp = require('libthumb');
const { startMoto, awsEnv, clientConfig } = require('../test/moto');
const { s3Record, s3Event, streamToBuffer } = require('../test/helpers');

const UPLOADS = 'cruddur-uploaded-avatars';
const ASSETS = 'assets.cruddur.example.com';
const FOLDER_INPUT = 'avatars/original';
const FOLDER_OUTPUT = 'avatars';
const SIZE = 512;

function args() {
  const a = { rounds: 3 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!['task', 'photos', 'out', 'rounds'].includes(k) || i + 1 >= argv.length) {
      throw new Error(`usage: avatars.js --task DIR --photos DIR --out DIR [--rounds N] (bad: ${argv[i]})`);
    }
    a[k] = argv[++i];
  }
  for (const k of ['task', 'photos', 'out']) if (!a[k]) throw new Error(`--${k} is required`);
  a.rounds = Number(a.rounds);
  if (!Number.isInteger(a.rounds) || a.rounds < 1) throw new Error('--rounds must be a positive integer');
  return a;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const href = (s) => esc(s.split('/').map(encodeURIComponent).join('/'));
function human(b) {
  if (b >= 1048576) return `${(b / 1048576).toFixed(1)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${b} B`;
}
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// The handler writes JSON lines to stdout/stderr: keep them (for handler.log and the per-photo
// outcome), pass everything else through.
function captureLogs(logFile) {
  const lines = [];
  const fd = fs.openSync(logFile, 'w');
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = (chunk, ...rest) => {
      const text = String(chunk);
      let all = true;
      for (const l of text.split('\n').filter(Boolean)) {
        try {
          const o = JSON.parse(l);
          if (o && typeof o === 'object' && o.msg) { lines.push(o); fs.writeSync(fd, l + '\n'); continue; }
        } catch { /* not a log line */ }
        all = false;
      }
      return all ? true : write(chunk, ...rest);
    };
  }
  return lines;
}

async function main() {
  const a = args();
  const out = path.resolve(a.out);
  const task = path.resolve(a.task);
  const photosDir = path.resolve(a.photos);
  const files = fs.readdirSync(photosDir).filter((f) => fs.statSync(path.join(photosDir, f)).isFile()).sort();
  if (files.length === 0) throw new Error(`${photosDir} holds no files`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'previews'), { recursive: true });

  const moto = await startMoto();
  try {
    Object.assign(process.env, awsEnv(moto.endpoint), {
      DEST_BUCKET_NAME: ASSETS, FOLDER_INPUT, FOLDER_OUTPUT, PROCESS_WIDTH: String(SIZE), PROCESS_HEIGHT: String(SIZE),
    });
    const s3 = new S3Client(clientConfig(moto.endpoint));
    for (const b of [UPLOADS, ASSETS]) await s3.send(new CreateBucketCommand({ Bucket: b }));

    // photo rows; names that collide (a.jpg and a.png both make avatars/a.jpg) fail the later ones
    const rows = [];
    const byStem = new Map();
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(photosDir, file));
      const key = `${FOLDER_INPUT}/${file}`;
      const stem = file.lastIndexOf('.') > 0 ? file.slice(0, file.lastIndexOf('.')) : file;
      const row = { file, key, stem, destKey: `${FOLDER_OUTPUT}/${stem}.jpg`, inBytes: bytes.length, errors: [] };
      if (byStem.has(stem)) row.errors.push(`same avatar key as ${byStem.get(stem)}: ${row.destKey}`);
      byStem.set(stem, file);
      try {
        const m = await sharp(bytes).metadata();
        row.inDims = `${m.width}x${m.height}`;
      } catch (err) { row.inDims = null; }
      try {
        const p = await sharp(bytes).resize(1024, 1024, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
        fs.writeFileSync(path.join(out, 'previews', `${stem}.jpg`), p);
        row.preview = `previews/${stem}.jpg`;
      } catch { /* no preview: the row shows the error from the handler */ }
      row.eTag = (await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: bytes }))).ETag;
      rows.push(row);
    }

    const logs = captureLogs(path.join(out, 'handler.log'));
    const t0 = process.hrtime.bigint();
    const { handler } = require(path.join(task, 'index.js'));
    const loadMs = ms(t0);

    // the batch: every upload in one event, as S3 may deliver them
    const batchStart = logs.length;
    const t1 = process.hrtime.bigint();
    let batchSummary;
    try {
      batchSummary = await handler(s3Event(rows.map((r) => s3Record(UPLOADS, r.key, { eTag: r.eTag }))), { awsRequestId: 'local-batch' });
    } catch (err) {
      batchSummary = err.summary || { error: err.message };
    }
    const batchMs = ms(t1);
    for (const l of logs.slice(batchStart)) {
      const row = rows.find((r) => r.key === l.key);
      if (!row) continue;
      if (l.msg === 'processed') row.batch = l;
      else if (l.msg === 'skipped') row.errors.push(`skipped: ${l.reason}${l.code ? ` (${l.code})` : ''}${l.detail ? `: ${l.detail}` : ''}`);
      else if (l.msg === 'failed') row.errors.push(`failed: ${l.error}: ${l.message}`);
    }
    for (const row of rows) if (!row.batch && row.errors.length === 0) row.errors.push('no outcome logged by the handler');

    // per photo: one-record invocations, best of ROUNDS (wall time of handler(), S3 get/put included)
    for (const row of rows) {
      if (!row.batch) continue;
      for (let r = 0; r < a.rounds; r++) {
        const from = logs.length;
        const t = process.hrtime.bigint();
        try {
          await handler(s3Event([s3Record(UPLOADS, row.key, { eTag: row.eTag })]), { awsRequestId: `local-${row.stem}-${r + 1}` });
        } catch (err) {
          row.errors.push(`single-record run: ${err.message}`);
          break;
        }
        const wall = ms(t);
        const rec = logs.slice(from).find((l) => l.msg === 'processed');
        if (!rec) { row.errors.push('single-record run processed nothing'); break; }
        if (row.best === undefined || wall < row.best) row.best = wall;
        if (row.bestResize === undefined || rec.ms.resize < row.bestResize) row.bestResize = rec.ms.resize;
      }
    }

    // the avatars, from the assets bucket
    for (const row of rows) {
      if (!row.batch) continue;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: ASSETS, Key: row.destKey }));
        const body = await streamToBuffer(res.Body);
        fs.writeFileSync(path.join(out, `${row.stem}.jpg`), body);
        row.avatar = `${row.stem}.jpg`;
        row.outBytes = body.length;
        const m = await sharp(body).metadata();
        row.outDims = `${m.width}x${m.height}`;
        const version = crypto.createHash('sha256').update(body).digest('hex').slice(0, 16);
        row.version = res.Metadata?.version;
        if (m.format !== 'jpeg' || row.outDims !== `${SIZE}x${SIZE}`) row.errors.push(`avatar is ${m.format} ${row.outDims}, not a ${SIZE}x${SIZE} JPEG`);
        if (res.ContentType !== 'image/jpeg') row.errors.push(`ContentType ${res.ContentType}`);
        if (res.CacheControl !== 'public, max-age=31536000, immutable') row.errors.push(`CacheControl ${res.CacheControl}`);
        if (row.version !== version) row.errors.push(`metadata version ${row.version}, sha256 prefix ${version}`);
      } catch (err) {
        row.errors.push(`download ${row.destKey}: ${err.message}`);
      }
    }
    s3.destroy();

    const ok = rows.filter((r) => r.errors.length === 0);
    const failures = rows.length - ok.length;
    const mean = (k) => (ok.length ? ok.reduce((s, r) => s + r[k], 0) / ok.length : NaN);
    const meanWall = mean('best');
    const meanResize = mean('bestResize');

    for (const r of rows) {
      if (r.errors.length) console.log(`${r.file.padEnd(42)} FAILED: ${r.errors.join('; ')}`);
      else {
        console.log(`${r.file.padEnd(42)} ${String(r.inDims ?? '?').padEnd(10)} ${human(r.inBytes).padStart(9)} -> ` +
          `${r.outDims} ${human(r.outBytes).padStart(8)}  handler ${r.best.toFixed(1).padStart(6)} ms  (libthumb ${r.bestResize.toFixed(1)} ms)  v=${r.version}`);
      }
    }

    const tr = rows.map((r) => {
      const cls = r.errors.length ? ' class="fail"' : '';
      const inCell = r.preview ? `<img src="${href(r.preview)}" alt="${esc(r.file)}">` : '';
      const outCell = r.avatar ? `<img src="${href(r.avatar)}" alt="avatar of ${esc(r.file)}">` : '';
      let details = `<b>${esc(r.file)}</b><br>input ${esc(r.inDims ?? '?')}, ${human(r.inBytes)} (${r.inBytes} bytes)`;
      if (r.avatar) {
        details += `<br>avatar <code>${esc(r.destKey)}</code> ${esc(r.outDims)}, ${human(r.outBytes)} (${r.outBytes} bytes), version <code>${esc(r.version ?? '')}</code>`;
      }
      if (r.best !== undefined) details += `<br>handler ${r.best.toFixed(1)} ms (libthumb ${r.bestResize.toFixed(1)} ms)`;
      if (r.errors.length) details += `<pre>${esc(r.errors.join('\n'))}</pre>`;
      return `<tr${cls}><td>${inCell}</td><td>${outCell}</td><td>${details}</td></tr>`;
    }).join('\n');
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>libthumb avatars: the process-images Lambda</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
td { border-bottom: 1px solid #ddd; padding: 8px; vertical-align: top; }
td img { max-width: 256px; max-height: 256px; background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
tr.fail td { color: #b00; background: #fee; }
pre { white-space: pre-wrap; max-width: 40em; }
</style></head><body>
<h1>Avatars: ${SIZE}x${SIZE} cover, JPEG q80, by the process-images Lambda</h1>
<p>${rows.length} photos from <code>${esc(photosDir)}</code> uploaded to <code>s3://${UPLOADS}/${FOLDER_INPUT}/</code>
on a local S3 (moto_server); the packaged handler (<code>dist/process-images.zip</code>, unpacked) made
<code>s3://${ASSETS}/${FOLDER_OUTPUT}/&lt;name&gt;.jpg</code>. ${failures} failed.
One event with all ${rows.length} records: ${batchMs.toFixed(0)} ms (${esc(JSON.stringify(batchSummary))}).
Per photo: best of ${a.rounds} one-record invocations, wall time of the handler (S3 download and upload
included; libthumb's part in brackets); mean ${meanWall.toFixed(1)} ms (libthumb ${meanResize.toFixed(1)} ms).
Left: a preview of the input of at most 1024 px made with libthumb (the sizes are the original's).</p>
<table>
<tr><th>input</th><th>avatar</th><th>details</th></tr>
${tr}
</table></body></html>
`;
    fs.writeFileSync(path.join(out, 'index.html'), html);

    console.log('\n== summary');
    console.log(`files:          ${rows.length}`);
    console.log(`failures:       ${failures}`);
    console.log(`handler load:   ${loadMs.toFixed(1)} ms (require of the zip's index.js: S3 client, libthumb)`);
    console.log(`total time:     ${batchMs.toFixed(0)} ms (one event with ${rows.length} records: ${JSON.stringify(batchSummary)})`);
    console.log(`mean per photo: ${meanWall.toFixed(1)} ms handler, ${meanResize.toFixed(1)} ms libthumb (best of ${a.rounds} one-record invocations)`);
    console.log(`contact sheet:  ${path.join(out, 'index.html')}`);
    console.log(`handler log:    ${path.join(out, 'handler.log')}`);
    return failures === 0 ? 0 : 1;
  } finally {
    await moto.stop();
  }
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error(`avatars: ${err.stack || err}`);
  process.exitCode = 1;
});
