'use strict';
// The main job's driver (tools/avatars.js, run by scripts/avatars) on a small photo folder with two bad
// files: it must make the good avatars, mark the bad ones failed (in the summary and in red on the
// contact sheet) and exit 1.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const sharp = require('libthumb');
const { REPO } = require('./moto');
const { corpusFile } = require('./helpers');

const ZIP = path.join(process.env.DIST_DIR || path.join(REPO, 'dist'), 'process-images.zip');

test('tools/avatars.js: good photos become avatars, bad ones are failures in red, exit status 1', async () => {
  assert.ok(fs.existsSync(ZIP), `${ZIP} is missing: run lambda/process-images/build`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'avatars-job-'));
  try {
    const task = path.join(tmp, 'task');
    execFileSync('unzip', ['-q', ZIP, '-d', task]);
    const photos = path.join(tmp, 'photos');
    fs.mkdirSync(photos);
    fs.copyFileSync(corpusFile('photos/concert.jpg'), path.join(photos, 'concert.jpg'));
    fs.copyFileSync(corpusFile('photos/chelsea.png'), path.join(photos, 'chelsea cat.png'));
    fs.copyFileSync(corpusFile('edge/truncated.jpg'), path.join(photos, 'broken.jpg'));
    fs.writeFileSync(path.join(photos, 'notes.txt'), 'not a photo\n');
    const out = path.join(tmp, 'out');
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'tools', 'avatars.js'),
      '--task', task, '--photos', photos, '--out', out, '--rounds', '1'], { encoding: 'utf8', timeout: 180000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^files: +4$/m);
    assert.match(r.stdout, /^failures: +2$/m);
    assert.match(r.stdout, /^broken\.jpg +FAILED: skipped: not an image \(THUMB_ETRUNCATED\)/m);
    assert.match(r.stdout, /^notes\.txt +FAILED: skipped: not an image \(THUMB_EUNSUPPORTED\)/m);
    for (const name of ['concert.jpg', 'chelsea cat.jpg']) {
      const m = await sharp(fs.readFileSync(path.join(out, name))).metadata();
      assert.deepEqual([m.format, m.width, m.height], ['jpeg', 512, 512], name);
    }
    assert.ok(!fs.existsSync(path.join(out, 'broken.jpg')));
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.equal((html.match(/<tr class="fail">/g) || []).length, 2);
    assert.match(html, /<img src="chelsea%20cat\.jpg"/);
    assert.match(html, /<img src="previews\/chelsea%20cat\.jpg"/);
    assert.ok(fs.existsSync(path.join(out, 'previews', 'chelsea cat.jpg')));
    const log = fs.readFileSync(path.join(out, 'handler.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(log.some((l) => l.msg === 'summary' && l.processed === 2 && l.skipped === 2));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
