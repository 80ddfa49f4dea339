'use strict';
// local_events/runner.js against a loopback moto_server (from the shared venv): every upload reaches
// the handler exactly once, a handler failure is retried and then dropped, a hanging handler times
// out, uploads outside the prefix and S3's test event are not delivered, a stop lets the job in
// hand finish. The handlers are small modules written by the test into a temporary directory (they
// record each call), not the Lambda: its own tests are in lambda/process-images.
const { describe, before, after, test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { S3Client, CreateBucketCommand, PutObjectCommand } = require('@aws-sdk/client-s3');

// moto_server (MOTO_SERVER, else the shared venv's) on 127.0.0.1, stopped by stop() or when this process dies
const { startMoto, clientConfig } = require('../../../../lambda/process-images/test/moto');

const RUNNER = path.resolve(__dirname, '..', 'runner.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let moto;
let endpoint;
let s3;
let tmp;
const children = new Set();

// A handler module: records each call's key (and a marker file while it runs) in calls.log.
// behaviour(key, attempt) in the module decides: 'ok' | 'throw' | 'hang' | {sleep: ms}
function writeHandler(name, behaviourSource) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.js'), `'use strict';
const fs = require('fs');
const path = require('path');
const log = path.join(__dirname, 'calls.log');
const attempts = {};
const behaviour = ${behaviourSource};
exports.handler = async (event) => {
  const key = decodeURIComponent(event.Records[0].s3.object.key.replace(/\\+/g, ' '));
  attempts[key] = (attempts[key] || 0) + 1;
  fs.appendFileSync(log, 'start ' + key + '\\n');
  const b = behaviour(key, attempts[key]);
  if (b === 'throw') throw new Error('test failure of ' + key);
  if (b === 'hang') await new Promise(() => {});
  if (b && b.sleep) await new Promise((r) => setTimeout(r, b.sleep));
  fs.appendFileSync(log, 'end ' + key + '\\n');
  return { processed: 1 };
};
`);
  return dir;
}

function calls(dir) {
  try {
    return fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean);
  } catch (_) {
    return [];
  }
}

function startRunner(handlerDir, bucket, extra = []) {
  const child = spawn(process.execPath, [RUNNER, '--handler', handlerDir, '--bucket', bucket, '--prefix', 'in/', ...extra], {
    env: { ...process.env, AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); }));
  return {
    child,
    exited,
    out: () => out,
    ready: () => until('runner ready', () => out.includes('local_events: ready') || child.exitCode !== null).then(() => {
      if (!out.includes('local_events: ready')) throw new Error(`runner did not start:\n${out}`);
    }),
  };
}

async function put(bucket, key, body = 'x') {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

describe('local_events runner', { timeout: 180000 }, () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-events-test-'));
    moto = await startMoto();
    endpoint = moto.endpoint;
    s3 = new S3Client(clientConfig(endpoint));
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await moto?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every upload in the prefix reaches the handler once; others and the test event do not', async () => {
    const bucket = 'le-once';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = writeHandler('once', '() => "ok"');
    const r = startRunner(dir, bucket);
    await r.ready();
    const keys = [];
    for (let i = 0; i < 8; i++) keys.push(`in/u${i} with space.jpg`);
    await Promise.all(keys.map((k) => put(bucket, k)));
    await put(bucket, 'in/u0 with space.jpg'); // a second upload of the same key: a second event
    await put(bucket, 'elsewhere/skip.jpg');
    await put(bucket, 'in-not-the-prefix.jpg');
    await until('10 calls', () => calls(dir).filter((l) => l.startsWith('end ')).length >= 9);
    await sleep(3000); // room for a duplicate to show up
    const ends = calls(dir).filter((l) => l.startsWith('end ')).map((l) => l.slice(4)).sort();
    assert.deepEqual(ends, [...keys, 'in/u0 with space.jpg'].sort());
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    assert.equal(code, 0);
    assert.match(r.out(), /stopped \(9 events handled, 0 handler failures, 0 dropped\)/);
  });

  test('a failing handler is retried, then the event is dropped (logged)', async () => {
    const bucket = 'le-retry';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // flaky.jpg fails once then works; broken.jpg always fails
    const dir = writeHandler('retry', '(key, n) => (key.endsWith("broken.jpg") || n === 1 ? "throw" : "ok")');
    const r = startRunner(dir, bucket, ['--max-attempts', '3']);
    await r.ready();
    await put(bucket, 'in/flaky.jpg');
    await put(bucket, 'in/broken.jpg');
    await until('broken dropped', () => /in\/broken\.jpg: handler failed 3 times, dropping the event/.test(r.out()), 40000);
    await until('flaky done', () => calls(dir).includes('end in/flaky.jpg'));
    const c = calls(dir);
    assert.equal(c.filter((l) => l === 'start in/flaky.jpg').length, 2);
    assert.equal(c.filter((l) => l === 'end in/flaky.jpg').length, 1);
    assert.equal(c.filter((l) => l === 'start in/broken.jpg').length, 3);
    assert.match(r.out(), /in\/flaky\.jpg: handler failed \(attempt 1 of 3\), retrying: Error: test failure of in\/flaky\.jpg/);
    await sleep(3000);
    assert.equal(calls(dir).filter((l) => l === 'start in/broken.jpg').length, 3, 'not delivered again');
    r.child.kill('SIGINT');
    assert.equal((await r.exited).code, 0);
  });

  test('a handler that never returns times out like a Lambda', async () => {
    const bucket = 'le-hang';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = writeHandler('hang', '(key) => (key.endsWith("hang.jpg") ? "hang" : "ok")');
    const r = startRunner(dir, bucket, ['--timeout', '1', '--max-attempts', '1']);
    await r.ready();
    await put(bucket, 'in/hang.jpg');
    await put(bucket, 'in/after.jpg');
    await until('after.jpg', () => calls(dir).includes('end in/after.jpg'), 30000);
    assert.match(r.out(), /in\/hang\.jpg: handler failed 1 times, dropping the event: Error: handler timed out after 1 s/);
    r.child.kill('SIGTERM');
    assert.equal((await r.exited).code, 0);
  });

  test('SIGTERM during a job: the job finishes, then the runner exits 0', async () => {
    const bucket = 'le-stop';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const dir = writeHandler('slow', '() => ({ sleep: 1500 })');
    const r = startRunner(dir, bucket);
    await r.ready();
    await put(bucket, 'in/slow.jpg');
    await until('job started', () => calls(dir).includes('start in/slow.jpg'));
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    assert.equal(code, 0);
    assert.ok(calls(dir).includes('end in/slow.jpg'), 'the job in hand finished');
    assert.match(r.out(), /stopped \(1 events handled/);

    // and it was deleted: a new runner on the same queue does not get it again
    const r2 = startRunner(dir, bucket);
    await r2.ready();
    await sleep(2500);
    r2.child.kill('SIGTERM');
    await r2.exited;
    assert.equal(calls(dir).filter((l) => l === 'start in/slow.jpg').length, 1);
  });

  test('a missing bucket or handler is a clear error at start', async () => {
    const dir = writeHandler('any', '() => "ok"');
    const r = startRunner(dir, 'no-such-bucket');
    const { code } = await r.exited;
    assert.equal(code, 1);
    assert.match(r.out(), /local_events: error: /);
    const r2 = startRunner(path.join(tmp, 'nothing-here'), 'le-once');
    assert.equal((await r2.exited).code, 1);
    assert.match(r2.out(), /local_events: error: Cannot find module/);
  });
});
