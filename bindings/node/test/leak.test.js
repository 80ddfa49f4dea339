'use strict';
// 10,000 operations on a small input: resident memory stays bounded (no leak per job, per error,
// per result Buffer).
const test = require('node:test');
const assert = require('node:assert/strict');
const { read, thumb } = require('./helpers');

const rssMB = () => process.memoryUsage.rss() / 1048576;

async function batch(n, fn) {
  const inFlight = 8;
  let next = 0;
  const worker = async () => { while (next < n) { next++; await fn(); } };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

test('no leak over 10,000 operations (successes, failures, metadata)', async () => {
  const small = await thumb(read('photos/concert.jpg')).resize(144, 96).jpeg().toBuffer();
  const smallPng = await thumb(read('photos/logo.png')).resize(40, 40).png().toBuffer();
  const broken = small.subarray(0, small.length - 40);
  let i = 0;
  const op = async () => {
    const k = i++ % 10;
    if (k < 6) {
      const out = await thumb(small).resize(96, 96).jpeg().toBuffer();
      if (out.length < 1000) throw new Error('bad output');
    } else if (k === 6) {
      await thumb(smallPng).resize(20, 10).toBuffer({ resolveWithObject: true });
    } else if (k === 7) {
      await thumb(small).metadata();
    } else {
      await thumb(broken).resize(8).toBuffer().then(() => { throw new Error('should fail'); }, (e) => {
        if (e.code !== 'THUMB_ETRUNCATED') throw e;
      });
    }
  };
  await batch(1000, op); // warm up: pool threads, their contexts, V8's heap
  if (global.gc) global.gc();
  const before = rssMB();
  await batch(10000, op);
  if (global.gc) global.gc();
  const after = rssMB();
  assert.equal(i, 11000);
  // a leak of the 96x96 JPEG (~3 KB) of each op would be > 15 MB, of each job struct (~1 KB) ~10 MB
  console.log(`# RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB over 10,000 ops`);
  assert.ok(after - before < 10, `RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB over 10,000 ops`);
});
