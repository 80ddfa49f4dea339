'use strict';
// The profile page's story in a real browser (Debian's /usr/bin/chromium, driven by playwright-core),
// against the whole local stack (serve: moto_server, the local_events runner with the process-images
// Lambda, the Flask app):
//   log in; the edit form's 422 messages; edit the bio; upload a photo the seed's way (presigned PUT
//   to the uploads bucket, the Lambda, the page polling for the new version) and see the 512x512
//   avatar with a versioned URL; a second, different photo changes the URL and the pixels; corrupt
//   and unsupported files get clear messages and leave the avatar alone; a file the browser can
//   decode but the Lambda cannot gets the server's verdict after the processing timeout.
// Screenshots: out/app/profile.png (the profile after the second photo), out/app/profile-error.png.
// The story runs on SQLite (the app's default); a shorter one (log in, bio, an upload, reload) runs
// on a throwaway PostgreSQL cluster, checked in the database itself.
// Environment: THUMB_CORPUS (default <repo>/../shared/corpus), CHROMIUM (default /usr/bin/chromium).
const { describe, before, after, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { spawnSync } = require('node:child_process');
const { startStack, readLogs, REPO } = require('./stack');
const { startPostgres, pgBin } = require('./postgres');

const CORPUS = path.resolve(process.env.THUMB_CORPUS || path.join(REPO, '..', 'shared', 'corpus'));
const OUT = path.join(REPO, 'out', 'app');
const PHOTO_1 = path.join(CORPUS, 'photos', 'chelsea.png'); // a PNG: the .png upload key
const PHOTO_2 = path.join(CORPUS, 'photos', '2569067123_aca715a2ee_o.jpg'); // the avatar job
const PROCESSING_TIMEOUT_S = 15; // the page's wait for the Lambda (?processing_timeout=)

let stack;
let browser;
let page;
let tmp;
let handle;
const consoleErrors = [];
let failed = false; // any step failed: keep the stack's logs (and print their ends)

// test() that remembers a failure
function step(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

// The avatar <img> as the page shows it: src, natural size, and a 8x8 thumbnail of its pixels.
async function avatarState() {
  return page.evaluate(() => {
    const img = document.getElementById('avatar');
    if (img.hidden || !img.complete || !img.naturalWidth) return { shown: false, src: img.getAttribute('src') };
    const c = document.createElement('canvas');
    c.width = c.height = 8;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 8, 8);
    return {
      shown: true,
      src: img.getAttribute('src'),
      width: img.naturalWidth,
      height: img.naturalHeight,
      pixels: Array.from(g.getImageData(0, 0, 8, 8).data),
    };
  });
}

function meanAbsDiff(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

async function status() {
  const box = page.locator('#avatar-status');
  return { state: await box.getAttribute('data-state'), via: await box.getAttribute('data-via'), text: (await box.innerText()).trim() };
}

// Chooses FILE, clicks BUTTON, records every state the status box passes through, and waits for
// it to settle (done or error).
async function upload(file, button = '#avatar-upload') {
  await page.setInputFiles('#avatar-file', file);
  await page.evaluate(() => {
    window.__states = [];
    const box = document.getElementById('avatar-status');
    new MutationObserver(() => window.__states.push(box.dataset.state)).observe(box, { attributes: true, attributeFilter: ['data-state'] });
  });
  await page.click(button);
  await page.waitForSelector('#avatar-status:is([data-state=done],[data-state=error])', { timeout: (PROCESSING_TIMEOUT_S + 30) * 1000 });
  const seen = await page.evaluate(() => window.__states);
  return { ...(await status()), seen };
}

// How many times the runner handed an upload key to the Lambda (each ends "handler done", or
// "dropping the event" after its retries).
function deliveries(key) {
  const log = stack.log('local_events');
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const done = (log.match(new RegExp(`${esc}: handler done`, 'g')) || []).length;
  const dropped = (log.match(new RegExp(`${esc}: handler failed \\d+ times, dropping`, 'g')) || []).length;
  return done + dropped;
}

async function openPage() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, // playwright's launch() also gives every run a fresh temporary --user-data-dir
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 730 } });
  page = await context.newPage();
  page.on('console', (m) => {
    // the API's expected 4xx answers (422, 415, ...) are logged by chromium too; a 404 is not expected
    if (m.type() === 'error' && !/status of (4(0[0-3]|1\d|2\d))\b/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() === 404 || r.status() >= 500) consoleErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => consoleErrors.push(`failed ${r.method()} ${r.url()}: ${r.failure().errorText}`));
}

async function closeAll() {
  if (browser) await browser.close();
  browser = null;
  if (stack) {
    if (failed) console.log(`the stack's logs (kept in ${stack.logDir}):\n${readLogs(stack.logDir)}`);
    await stack.stop();
    if (!failed) fs.rmSync(stack.logDir, { recursive: true, force: true });
  }
  stack = null;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = null;
}

async function login(h, displayName) {
  await page.goto(`${stack.url}?processing_timeout=${PROCESSING_TIMEOUT_S}`);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#login-handle', h);
  await page.fill('#login-display-name', displayName);
  await page.click('#login-submit');
  await page.waitForSelector('#profile-view:not([hidden])');
  await page.waitForSelector('#profile-fields:not([disabled])'); // the profile is loaded
}

async function saveProfile(displayName, bio) {
  await page.fill('#edit-display-name', displayName);
  await page.fill('#edit-bio', bio);
  await page.click('#profile-save');
  await page.waitForSelector('#profile-saved:not([hidden]), #profile-form .error:not([hidden])');
}

describe('the profile page in chromium (SQLite)', { timeout: 600000 }, () => {
  before(async () => {
    for (const f of [PHOTO_1, PHOTO_2]) assert.ok(fs.existsSync(f), `corpus photo missing: ${f} (set THUMB_CORPUS)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cruddur-e2e-files-'));
    fs.mkdirSync(OUT, { recursive: true });
    stack = await startStack();
    await openPage();
    handle = `e2e_${process.pid}_${Date.now() % 100000}`;
  });

  after(closeAll);

  step('1. log in with a handle', async () => {
    await page.goto(`${stack.url}?processing_timeout=${PROCESSING_TIMEOUT_S}`);
    await page.waitForSelector('#login-view:not([hidden])');
    await page.fill('#login-handle', 'Not A Handle!');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error:not([hidden])');
    assert.match(await page.innerText('#login-error'), /handle is 1 to 32 lowercase letters/i);

    await page.fill('#login-handle', handle);
    await page.fill('#login-display-name', 'Andrew Brown');
    await page.click('#login-submit');
    await page.waitForSelector('#profile-view:not([hidden])');
    assert.equal(await page.innerText('#profile-handle'), handle);
    assert.equal(await page.innerText('#profile-display-name'), 'Andrew Brown');
    assert.equal(await page.innerText('#whoami-handle'), '@' + handle);
    assert.equal((await avatarState()).shown, false, 'no avatar before the first upload');
    assert.ok(await page.isVisible('#avatar-placeholder'));
  });

  step('2. edit the profile: the 422 messages, then the bio', async () => {
    await page.fill('#edit-display-name', '   ');
    await page.fill('#edit-bio', 'x'.repeat(301));
    await page.click('#profile-save');
    await page.waitForSelector('#error-display_name:not([hidden])');
    assert.equal(await page.innerText('#error-display_name'), "Display name can't be blank.");
    assert.match(await page.innerText('#error-bio'), /Bio is too long \(300 characters at most\)/);
    assert.equal(await page.getAttribute('#edit-bio', 'aria-invalid'), 'true');
    assert.equal(await page.innerText('#profile-display-name'), 'Andrew Brown', 'a rejected edit changes nothing');

    const bio = 'Weekend woodworker.\nMy avatar was made by libthumb in the process-images Lambda.';
    await page.fill('#edit-display-name', 'Andy Brown');
    await page.fill('#edit-bio', bio);
    await page.click('#profile-save');
    await page.waitForSelector('#profile-saved:not([hidden])');
    assert.ok(await page.isHidden('#error-display_name'));
    assert.ok(await page.isHidden('#error-bio'));
    assert.equal(await page.innerText('#profile-display-name'), 'Andy Brown');
    assert.equal(await page.$eval('#profile-bio', (e) => e.textContent), bio);

    await page.reload(); // what the server kept, not what the page remembered
    await page.waitForSelector('#profile-view:not([hidden])');
    await page.waitForFunction(() => document.getElementById('profile-display-name').textContent !== '');
    assert.equal(await page.innerText('#profile-display-name'), 'Andy Brown');
    assert.equal(await page.$eval('#profile-bio', (e) => e.textContent), bio);
    assert.equal(await page.inputValue('#edit-bio'), bio);
  });

  let first;
  let uuid;
  step('3-4. upload a photo the seed\'s way and see the 512x512 avatar', async () => {
    const r = await upload(PHOTO_1);
    assert.equal(r.state, 'done', `upload failed: ${r.text}`);
    assert.equal(r.via, 'bucket', `the Lambda made the avatar, not the fallback: ${r.text}`);
    assert.ok(r.seen.includes('processing'), `the page showed "processing" (states: ${r.seen})`);
    assert.match(await page.innerText('#avatar-status'), /New avatar saved/);

    first = await avatarState();
    assert.ok(first.shown, 'the avatar is shown');
    assert.equal(first.width, 512);
    assert.equal(first.height, 512);
    assert.match(first.src, /\/avatars\/[0-9a-f-]+\.jpg\?v=[0-9a-f]{16}$/);
    assert.ok(await page.isHidden('#avatar-placeholder'));

    // the API agrees, and the URL serves an immutable JPEG
    const api = await (await page.request.get(`${stack.url}api/profile/${handle}`)).json();
    uuid = api.uuid;
    assert.equal(api.avatar_url, first.src);
    assert.equal(first.src, `/cdn/avatars/${uuid}.jpg?v=${api.avatar_version}`);
    const img = await page.request.get(new URL(first.src, stack.url).href);
    assert.equal(img.status(), 200);
    assert.equal(img.headers()['content-type'], 'image/jpeg');
    assert.match(img.headers()['cache-control'] || '', /immutable/);
    assert.equal(deliveries(`avatars/original/${uuid}.png`), 1, 'the upload went to the Lambda once');

    // the bio is on the page next to it
    assert.match(await page.innerText('#profile-bio'), /Weekend woodworker/);
  });

  step('a second, different photo: a new URL, new pixels, never the cached copy', async () => {
    // The app dates an upload to the second (S3's Last-Modified): a second upload in the same
    // second as the previous avatar's write is taken for "the same picture again" (reported).
    await new Promise((r) => setTimeout(r, 1100));
    const r = await upload(PHOTO_2);
    assert.equal(r.state, 'done', `upload failed: ${r.text}`);
    assert.equal(r.via, 'bucket', r.text);
    const second = await avatarState();
    assert.ok(second.shown);
    assert.equal(second.width, 512);
    assert.equal(second.height, 512);
    assert.match(second.src, /\?v=[0-9a-f]{16}$/);
    assert.notEqual(second.src, first.src, 'the URL changed with the picture');
    assert.equal(second.src.split('?')[0], first.src.split('?')[0], 'same object key, new version');
    assert.ok(meanAbsDiff(first.pixels, second.pixels) > 10, 'the shown pixels are the new photo\'s');
    assert.equal(deliveries(`avatars/original/${uuid}.jpg`), 1);

    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'profile.png'), fullPage: true });
  });

  step('corrupt and unsupported files: a clear message, the avatar kept', async () => {
    const before = await avatarState();
    const photo = fs.readFileSync(PHOTO_2);
    const cases = [
      // made here: the avatar photo cut in half
      { name: 'truncated.jpg', bytes: photo.subarray(0, photo.length >> 1), want: /damaged or incomplete/ },
      { file: path.join(CORPUS, 'edge', 'corrupt-header.jpg'), want: /damaged or incomplete/ },
      { name: 'notes.txt', bytes: Buffer.from('not a photo at all\n'), want: /not an image the app can read/ },
      { name: 'anim.gif', bytes: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), want: /GIF images are not supported/ },
    ];
    for (const c of cases) {
      const file = c.file || path.join(tmp, c.name);
      if (!c.file) fs.writeFileSync(file, c.bytes);
      const r = await upload(file);
      assert.equal(r.state, 'error', `${path.basename(file)}: ${r.text}`);
      assert.match(r.text, c.want, path.basename(file));
      assert.equal(await page.getAttribute('#avatar-status', 'role'), 'alert');
      assert.equal((await avatarState()).src, before.src, 'the avatar is unchanged');
    }
    // the seed's way never uploaded them: still one delivery per earlier upload
    assert.equal(deliveries(`avatars/original/${uuid}.jpg`), 1);

    // the direct way: the server's 422 for the same damaged file
    const r = await upload(path.join(CORPUS, 'edge', 'corrupt-header.jpg'), '#avatar-upload-direct');
    assert.equal(r.state, 'error');
    assert.equal(r.via, 'direct');
    assert.match(r.text, /damaged and cannot be read/);
    assert.equal((await avatarState()).src, before.src);
  });

  step('a file the browser decodes but the Lambda cannot: the server\'s verdict after the timeout', async () => {
    // chromium shows the scans it has of this truncated progressive JPEG; libthumb refuses it
    const file = path.join(CORPUS, 'jpeg-variants', 'video-001.progressive.truncated.jpeg');
    const before = await avatarState();
    const n = deliveries(`avatars/original/${uuid}.jpg`);
    const t0 = Date.now();
    const r = await upload(file);
    assert.equal(r.state, 'error', r.text);
    assert.equal(r.via, 'fallback');
    assert.ok(r.seen.includes('processing'));
    assert.match(r.text, new RegExp(`Processing did not finish within ${PROCESSING_TIMEOUT_S} s`));
    assert.match(r.text, /damaged and cannot be read/);
    assert.ok(Date.now() - t0 >= PROCESSING_TIMEOUT_S * 1000);
    assert.equal((await avatarState()).src, before.src, 'the avatar is unchanged');
    await page.screenshot({ path: path.join(OUT, 'profile-error.png'), fullPage: true });
    // the runner gave it to the Lambda exactly once, and the Lambda skipped it
    const deadline = Date.now() + 10000;
    while (deliveries(`avatars/original/${uuid}.jpg`) < n + 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.equal(deliveries(`avatars/original/${uuid}.jpg`), n + 1);
  });

  step('the same photo again: saved, and the profile keeps one version', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const before = await avatarState();
    const r = await upload(PHOTO_2);
    assert.equal(r.state, 'done', r.text);
    const now = await avatarState();
    assert.equal(now.src, before.src, 'the same picture has the same versioned URL');
  });

  step('/profile/<handle>: anyone sees the profile, without the owner\'s tools', async () => {
    const mine = await avatarState();
    const context = await browser.newContext({ viewport: { width: 1100, height: 730 } }); // no session
    const other = await context.newPage();
    await other.goto(`${stack.url}profile/${handle}`);
    await other.waitForFunction(() => { const i = document.getElementById('avatar'); return !i.hidden && i.naturalWidth === 512; });
    assert.equal(await other.getAttribute('#avatar', 'src'), mine.src);
    assert.equal(await other.innerText('#profile-display-name'), 'Andy Brown');
    assert.match(await other.innerText('#profile-bio'), /Weekend woodworker/);
    assert.ok(await other.isHidden('#owner-tools'), 'no edit form or upload for a visitor');
    assert.ok(await other.isHidden('#login-view'));

    await other.goto(`${stack.url}profile/nobody_${process.pid}`);
    await other.waitForSelector('#page-error:not([hidden])');
    assert.equal(await other.innerText('#page-error'), `There is no user @nobody_${process.pid}.`);
    assert.ok(await other.isHidden('#profile-card'));
    await context.close();
  });

  step('CORS: moto answers the browser\'s preflight for the page\'s origin only', async () => {
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('cruddur.session')).token);
    const key = await (await page.request.post(`${stack.url}api/avatars/key_upload`, {
      headers: { Authorization: `Bearer ${token}` }, data: { extension: 'jpg' },
    })).json();
    assert.match(key.url, /^http:\/\/127\.0\.0\.1:\d+\/cruddur-uploaded-avatars\/avatars\/original\/[0-9a-f-]+\.jpg\?/);
    const origin = new URL(stack.url).origin;
    const preflight = (from) => page.request.fetch(key.url, {
      method: 'OPTIONS',
      headers: { Origin: from, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    const ok = await preflight(origin);
    assert.equal(ok.status(), 200);
    assert.equal(ok.headers()['access-control-allow-origin'], origin);
    assert.match(ok.headers()['access-control-allow-methods'], /PUT/);
    const other = await preflight('http://127.0.0.1:9');
    assert.equal(other.status(), 403, 'another origin is refused');
  });

  step('the page logged no errors', () => {
    // uncaught exceptions, a failed avatar load (404), a 5xx of the API
    assert.deepEqual(consoleErrors, []);
  });
});

describe('the profile page on PostgreSQL (DATABASE_URL)', { timeout: 300000 }, () => {
  let pg;
  before(async () => {
    assert.ok(pgBin(), 'PostgreSQL is installed (bash scripts/setup-deps app)');
    pg = await startPostgres();
    stack = await startStack({ env: { DATABASE_URL: pg.url } });
    await openPage();
  });

  after(async () => {
    await closeAll();
    if (pg) await pg.stop();
  });

  step('log in, save a bio, upload the seed\'s way, reload: all kept in PostgreSQL', async () => {
    const h = `e2e_pg_${process.pid}`;
    await login(h, 'Pat Postgres');
    const bio = 'Kept in PostgreSQL.';
    await saveProfile('Pat Postgres', bio);
    assert.equal(await page.$eval('#profile-bio', (e) => e.textContent), bio);
    const r = await upload(PHOTO_2);
    assert.equal(r.state, 'done', r.text);
    assert.equal(r.via, 'bucket', r.text);
    const shown = await avatarState();
    assert.equal(shown.width, 512);
    assert.match(shown.src, /\?v=[0-9a-f]{16}$/);

    await page.reload();
    await page.waitForFunction(() => document.getElementById('profile-bio').textContent !== '');
    assert.equal(await page.$eval('#profile-bio', (e) => e.textContent), bio);
    await page.waitForFunction(() => { const i = document.getElementById('avatar'); return !i.hidden && i.naturalWidth > 0; });
    assert.equal((await avatarState()).src, shown.src);

    // the row is in PostgreSQL, not in some SQLite file
    const version = shown.src.split('?v=')[1];
    const q = spawnSync(path.join(pgBin(), 'psql'), [pg.url, '-At', '-c',
      `SELECT bio || '|' || avatar_version FROM users WHERE handle = '${h}'`], { encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    assert.equal(q.stdout.trim(), `${bio}|${version}`);
    assert.deepEqual(consoleErrors, []);
  });
});
