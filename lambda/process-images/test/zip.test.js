'use strict';
// The deployment package on its own: dist/process-images.zip (made by ./build) unpacked into an empty
// directory and run with nothing but its contents and Node - cwd the unpacked directory, no NODE_PATH,
// no LD_LIBRARY_PATH, HOME there too (so no ~/.node_modules) - against moto. /proc/self/maps of that
// process and the loader's own trace (LD_DEBUG=libs) show that libjpeg, libspng and liblcms2 come from
// the zip, not from this machine's /lib (where they are installed too).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const sharp = require('libthumb');

const { startMoto, awsEnv, clientConfig, REPO } = require('./moto');
const { corpusFile, s3Record, s3Event, streamToBuffer } = require('./helpers');

const ZIP = path.join(process.env.DIST_DIR || path.join(REPO, 'dist'), 'process-images.zip');
const LIBS = ['libjpeg.so.62', 'libspng.so.0', 'liblcms2.so.2'];
const SYSTEM_LIBDIR = '/lib/x86_64-linux-gnu';
const UPLOADS = 'uploads.zip-test.example.com';
const ASSETS = 'assets.zip-test.example.com';

let moto;
let s3;
let dir;

test.before(async () => {
  assert.ok(fs.existsSync(ZIP), `${ZIP} is missing: run lambda/process-images/build`);
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'process-images-zip-')));
  execFileSync('unzip', ['-q', ZIP, '-d', dir]);
  moto = await startMoto();
  s3 = new S3Client(clientConfig(moto.endpoint));
  for (const b of [UPLOADS, ASSETS]) await s3.send(new CreateBucketCommand({ Bucket: b }));
});

test.after(async () => {
  s3?.destroy();
  await moto?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the zip holds the handler, production modules, the addon and its three libraries - nothing else', () => {
  const list = execFileSync('unzip', ['-Z1', ZIP], { encoding: 'utf8' }).trim().split('\n');
  for (const f of ['index.js', 'handler.js', 'config.js', 's3-image-processing.js', 'package.json',
    'node_modules/@aws-sdk/client-s3/package.json', 'node_modules/@aws-sdk/client-sns/package.json',
    'node_modules/libthumb/index.js', 'node_modules/libthumb/build/Release/libthumb.node',
    ...LIBS.map((l) => `node_modules/libthumb/build/Release/${l}`),
    ...LIBS.map((l) => `node_modules/libthumb/build/Release/licenses/${l}.copyright`), 'node_modules/libthumb/LICENSE',
    'node_modules/@aws-sdk/client-s3/LICENSE']) {
    assert.ok(list.includes(f), `${f} missing`);
  }
  const unwanted = list.filter((f) => /client-sqs|\/sharp\/|@img\/|dist-es\/|dist-types\/|\.d\.ts$|\.map$|\.c$|test\/|CMakeLists/.test(f));
  assert.deepEqual(unwanted, []);
  const elfs = list.filter((f) => /\.(node|so(\.\d+)*)$/.test(f));
  assert.deepEqual(elfs.sort(), ['node_modules/libthumb/build/Release/libthumb.node',
    ...LIBS.map((l) => `node_modules/libthumb/build/Release/${l}`)].sort());
  assert.ok(fs.statSync(ZIP).size <= 2 * 1024 * 1024, `zip is ${fs.statSync(ZIP).size} bytes`);
});

test('every ELF in the zip: DT_RPATH $ORIGIN, no glibc symbol version above 2.34', () => {
  const release = path.join(dir, 'node_modules/libthumb/build/Release');
  for (const f of ['libthumb.node', ...LIBS]) {
    const dyn = execFileSync('readelf', ['-d', path.join(release, f)], { encoding: 'utf8' });
    assert.match(dyn, /\(RPATH\)\s+Library rpath: \[\$ORIGIN\]/, f);
    assert.doesNotMatch(dyn, /RUNPATH/, f);
    const syms = execFileSync('objdump', ['-T', path.join(release, f)], { encoding: 'utf8' });
    const versions = [...syms.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.ok(versions.length > 0, f);
    const over = versions.filter(([a, b]) => a > 2 || (a === 2 && b > 34));
    assert.deepEqual(over, [], `${f} needs a glibc newer than 2.34`);
  }
});

test('tools/check-glibc (the build\'s guard) passes the zip and fails a library needing glibc 2.36', () => {
  const check = path.join(__dirname, '..', 'tools', 'check-glibc');
  const ok = spawnSync('bash', [check, dir, '2.34'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /libthumb\.node +GLIBC_2\.\d+/);
  // arc4random is new in glibc 2.36 (Debian 12 has it, Amazon Linux 2023's 2.34 does not)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'check-glibc-'));
  try {
    fs.writeFileSync(path.join(tmp, 'new.c'), '#include <stdlib.h>\nunsigned f(void) { return arc4random(); }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-o', path.join(tmp, 'libnew.so'), path.join(tmp, 'new.c')]);
    const bad = spawnSync('bash', [check, tmp, '2.34'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /libnew\.so needs glibc 2\.36, newer than 2\.34/);
    assert.match(bad.stderr, /arc4random@GLIBC_2\.36/);
    assert.equal(spawnSync('bash', [check, tmp, '2.36'], { encoding: 'utf8' }).status, 0);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// Run the unpacked handler in its own process on an event; returns its summary, the mapped libraries
// and the loader trace.
function runUnpacked(event, extraEnv = {}) {
  const driver = `
    const fs = require('fs');
    const { handler } = require('./index.js');
    handler(JSON.parse(process.argv[1])).then((summary) => {
      const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
        .map((l) => l.trim().split(/\\s+/).slice(5).join(' ')).filter((p) => /lib(jpeg|spng|lcms2|thumb)/.test(p));
      process.stdout.write('\\nRESULT ' + JSON.stringify({ summary, maps: [...new Set(maps)],
        resolved: require.resolve('libthumb') }) + '\\n');
    }, (err) => { console.error('HANDLER FAILED', err); process.exit(3); });`;
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    ...awsEnv(moto.endpoint),
    DEST_BUCKET_NAME: ASSETS,
    FOLDER_INPUT: 'avatars/original',
    FOLDER_OUTPUT: 'avatars',
    PROCESS_WIDTH: '512',
    PROCESS_HEIGHT: '512',
    ...extraEnv,
  };
  assert.equal(env.NODE_PATH, undefined);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', driver, JSON.stringify(event)], { cwd: dir, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`unpacked handler exited ${code}:\n${out.slice(-3000)}\n${err.slice(-3000)}`));
        return;
      }
      resolve({ ...JSON.parse(line.slice(7)), stdout: out, stderr: err });
    });
  });
}

function assertZipCopiesLoaded(maps) {
  const release = path.join(dir, 'node_modules/libthumb/build/Release');
  for (const lib of LIBS) {
    assert.ok(fs.existsSync(path.join(SYSTEM_LIBDIR, lib)), `${lib} is not installed on this machine, so the test proves nothing`);
    const mapped = maps.filter((p) => path.basename(p) === lib);
    assert.deepEqual(mapped, [path.join(release, lib)], `${lib}: ${JSON.stringify(maps)}`);
  }
  assert.ok(maps.includes(path.join(release, 'libthumb.node')));
  assert.deepEqual(maps.filter((p) => !p.startsWith(dir + '/')), []);
}

test('unpacked, alone: the handler makes the avatars with the zip`s own libraries', async () => {
  const keys = { 'avatars/original/zip user one.jpg': 'photos/2569067123_aca715a2ee_o.jpg',
    'avatars/original/zip user two.png': 'photos/coffee.png' };
  for (const [key, file] of Object.entries(keys)) {
    await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: fs.readFileSync(corpusFile(file)) }));
  }
  await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: 'avatars/original/bad.jpg',
    Body: fs.readFileSync(corpusFile('edge/truncated.jpg')) }));
  const event = s3Event([...Object.keys(keys), 'avatars/original/bad.jpg'].map((k) => s3Record(UPLOADS, k)));
  const r = await runUnpacked(event, { LD_DEBUG: 'libs' });
  assert.deepEqual(r.summary, { processed: 2, skipped: 1, failed: 0 });
  assert.equal(r.resolved, path.join(dir, 'node_modules/libthumb/index.js'));
  assertZipCopiesLoaded(r.maps);
  // the loader found them through the addon's RPATH
  const release = path.join(dir, 'node_modules/libthumb/build/Release');
  for (const lib of LIBS) assert.ok(r.stderr.includes(`trying file=${path.join(release, lib)}`), lib);
  assert.match(r.stderr, new RegExp(`search path=${release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\(RPATH from file`));
  for (const key of ['avatars/zip user one.jpg', 'avatars/zip user two.jpg']) {
    const res = await s3.send(new GetObjectCommand({ Bucket: ASSETS, Key: key }));
    const body = await streamToBuffer(res.Body);
    const meta = await sharp(body).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [512, 512]);
    assert.equal(res.ContentType, 'image/jpeg');
    assert.equal(res.Metadata.version.length, 16);
  }
});

test('Lambda`s LD_LIBRARY_PATH (system lib dirs first) does not override the zip`s copies (RPATH)', async () => {
  await s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: 'avatars/original/ldpath.jpg',
    Body: fs.readFileSync(corpusFile('photos/retina.jpg')) }));
  const r = await runUnpacked(s3Event([s3Record(UPLOADS, 'avatars/original/ldpath.jpg')]), {
    // what Lambda sets, with this machine's library directory where AL2023 has /usr/lib64
    LD_LIBRARY_PATH: `/var/lang/lib:${SYSTEM_LIBDIR}:/usr/lib/x86_64-linux-gnu:/var/runtime:/var/task:/var/task/lib:/opt/lib`,
  });
  assert.deepEqual(r.summary, { processed: 1, skipped: 0, failed: 0 });
  assertZipCopiesLoaded(r.maps);
});
