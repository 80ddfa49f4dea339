'use strict';
// Every file of the corpus: a thumbnail of the right size, or a rejected Error with a THUMB_ code;
// never a crash. Files outside edge/ must all succeed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { read, file, listCorpus, thumb } = require('./helpers');

const files = listCorpus();

test('the corpus lists enough files to mean something', () => {
  assert.ok(files.length >= 80, `${files.length} files`);
});

test('every corpus file: 96x96 cover JPEG, 80-wide PNG, metadata — or a THUMB_ error', async () => {
  const failures = [];
  let ok = 0;
  let rejected = 0;
  for (const f of files) {
    const buf = read(f);
    const jobs = [
      thumb(buf).rotate().resize(96, 96).jpeg().toBuffer({ resolveWithObject: true }).then((r) => [96, 96, r]),
      thumb(file(f)).resize(80).png().toBuffer({ resolveWithObject: true }).then((r) => [80, null, r]),
      thumb(buf).metadata().then((m) => [null, null, m])
    ];
    for (const [i, res] of (await Promise.allSettled(jobs)).entries()) {
      if (res.status === 'fulfilled') {
        const [w, h, r] = res.value;
        if (i < 2) {
          if (r.info.width !== w || (h !== null && r.info.height !== h) || r.data.length !== r.info.size || r.info.height < 1) {
            failures.push(`${f} job ${i}: ${JSON.stringify(r.info)}`);
          }
        } else if (!(r.width > 0 && r.height > 0 && ['jpeg', 'png'].includes(r.format))) {
          failures.push(`${f} metadata: ${JSON.stringify(r)}`);
        }
        ok++;
      } else {
        const e = res.reason;
        if (!(e instanceof Error) || !/^THUMB_E[A-Z_]+$/.test(e.code) || !e.message) {
          failures.push(`${f} job ${i}: bad rejection ${e && e.stack}`);
        } else if (!f.startsWith('edge/') && f !== 'jpeg-variants/video-001.progressive.truncated.jpeg') {
          failures.push(`${f} job ${i}: outside edge/ but rejected: ${e.code} ${e.message}`);
        }
        rejected++;
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(ok > rejected * 4, `${ok} done, ${rejected} rejected`);
  assert.ok(rejected >= 10, `${rejected} rejected: the broken files of edge/ must fail`);
});
