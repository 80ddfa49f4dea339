'use strict';
// Work runs on the libuv pool: many jobs in flight give the right results, and the event loop
// keeps turning while a big job runs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { read, AVATAR, thumb } = require('./helpers');

test('64 jobs in flight, mixed inputs and sizes: each result is its own', async () => {
  const inputs = [read(AVATAR), read('photos/logo.png'), read('photos/concert.jpg'), read('exif/Landscape_6.jpg')];
  const jobs = [];
  for (let i = 0; i < 64; i++) {
    const w = 16 + i * 3;
    const h = 10 + ((i * 7) % 50);
    const input = inputs[i % inputs.length];
    jobs.push(thumb(input).resize(w, h).toBuffer({ resolveWithObject: true }).then((r) => ({ i, w, h, r })));
  }
  // some that fail, mixed in
  const bad = [];
  for (let i = 0; i < 8; i++) bad.push(thumb(read('edge/truncated.jpg')).resize(10).toBuffer().then(() => null, (e) => e.code));
  const done = await Promise.all(jobs);
  for (const { i, w, h, r } of done) {
    assert.deepEqual([r.info.width, r.info.height], [w, h], `job ${i}`);
    assert.equal(r.info.size, r.data.length);
    assert.equal(r.info.format, i % 4 === 1 ? 'png' : 'jpeg');
  }
  assert.deepEqual(await Promise.all(bad), Array(8).fill('THUMB_ETRUNCATED'));
  // the same job twice in parallel gives the same bytes as alone
  const alone = await thumb(inputs[0]).resize(100, 100).toBuffer();
  const pair = await Promise.all([thumb(inputs[0]).resize(100, 100).toBuffer(), thumb(inputs[0]).resize(100, 100).toBuffer()]);
  assert.ok(pair[0].equals(alone) && pair[1].equals(alone));
});

test('the event loop stays responsive while a big job runs', async () => {
  // The 2048x1536 RGBA PNG enlarged: the slowest job here (hundreds of ms); a blocking addon would
  // let no timer or immediate run until it is done.
  const big = read('photos/alpha-premultiply-2048x1536-paper.png');
  let ticks = 0;
  let running = true;
  const spin = () => { if (running) { ticks++; setImmediate(spin); } };
  const job = thumb(big).resize(3000, 2250, { kernel: 'lanczos3' }).png({ compressionLevel: 1 }).toBuffer();
  setImmediate(spin);
  const t0 = process.hrtime.bigint();
  const out = await job;
  running = false;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(out.length > 1000);
  assert.ok(ticks >= 20, `${ticks} event loop turns during a ${ms.toFixed(0)} ms job`);
});

test('a job holds its input: the caller may drop its reference and collect garbage', async () => {
  let input = Buffer.from(read('photos/concert.jpg'));
  const p = thumb(input).resize(30).toBuffer({ resolveWithObject: true });
  input = null;
  if (global.gc) global.gc();
  const { info } = await p;
  assert.equal(info.width, 30);
});

test('the addon loads and works in worker threads too (one module instance per thread)', async () => {
  const { Worker } = require('worker_threads');
  const src = `
    const { parentPort, workerData } = require('worker_threads');
    const thumb = require(workerData.pkg);
    thumb(require('fs').readFileSync(workerData.input)).resize(50, 40).toBuffer({ resolveWithObject: true })
      .then(({ info }) => parentPort.postMessage([info.width, info.height]), (e) => parentPort.postMessage(String(e)));`;
  const { file } = require('./helpers');
  const run = () => new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: { pkg: require.resolve('..'), input: file('photos/concert.jpg') } });
    w.once('message', (m) => { resolve(m); w.terminate(); });
    w.once('error', reject);
  });
  const [a, b, main] = await Promise.all([run(), run(), thumb(read(AVATAR)).resize(50, 40).toBuffer({ resolveWithObject: true })]);
  assert.deepEqual(a, [50, 40]);
  assert.deepEqual(b, [50, 40]);
  assert.deepEqual([main.info.width, main.info.height], [50, 40]);
});

test('terminating a worker thread with jobs in flight does not crash the process', async () => {
  const { Worker } = require('worker_threads');
  const { file } = require('./helpers');
  const src = `
    const { parentPort, workerData } = require('worker_threads');
    const thumb = require(workerData.pkg);
    const b = require('fs').readFileSync(workerData.input);
    for (let i = 0; i < 4; i++) thumb(b).resize(1200, 1000, { fastShrinkOnLoad: false }).toBuffer().then(() => {}, () => {});
    parentPort.postMessage('started');`;
  for (let k = 0; k < 4; k++) {
    const w = new Worker(src, { eval: true, workerData: { pkg: require.resolve('..'), input: file(AVATAR) } });
    await new Promise((resolve) => w.once('message', resolve));
    await w.terminate();
  }
  // the pool is still good for this thread's work
  const { info } = await thumb(read(AVATAR)).resize(20).toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 20);
});
