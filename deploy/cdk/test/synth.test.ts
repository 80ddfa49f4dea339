// What `npx cdk synth` wrote to cdk.out (run-tests runs it first): the Lambda asset the template
// points at is the real process-images zip with its native addon and libraries, and the CLI
// rejects bad configuration with the config module's message.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CDK_DIR, REPO_DIR, type Json } from './helpers';

const CDK_OUT = process.env.CDK_OUT_DIR ?? path.join(CDK_DIR, 'cdk.out');
const STACK = 'ThumbingServerlessCdkStack';

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Environment for the CLI: no credentials, no metadata service, no telemetry or notices. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^(AWS_|CDK_DEPLOY_|THUMBING_|UPLOADS_BUCKET_NAME|ASSETS_BUCKET_NAME)/.test(k)) delete env[k];
  Object.assign(env, {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    ...extra,
  });
  return env;
}

function lambdaAsset(): { file: string; template: Json } {
  const template = readJson(path.join(CDK_OUT, `${STACK}.template.json`));
  const fns = Object.values(template.Resources as Record<string, Json>).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith('process-images'),
  );
  assert.equal(fns.length, 1);
  const key: string = fns[0].Properties.Code.S3Key;
  const hash = key.replace(/\.zip$/, '');
  const assets = readJson(path.join(CDK_OUT, `${STACK}.assets.json`));
  const entry = assets.files[hash];
  assert.ok(entry, `asset ${hash} is in the asset manifest`);
  assert.equal(entry.source.packaging, 'file', 'the zip is uploaded as it is, not re-zipped');
  assert.equal(Object.values(entry.destinations as Record<string, Json>)[0].objectKey, key);
  return { file: path.join(CDK_OUT, entry.source.path), template };
}

test('cdk.out holds the stack, made without lookups', () => {
  const manifest = readJson(path.join(CDK_OUT, 'manifest.json'));
  const stack = manifest.artifacts[STACK];
  assert.equal(stack.type, 'aws:cloudformation:stack');
  assert.equal(stack.environment, 'aws://unknown-account/unknown-region');
  assert.equal(manifest.missing, undefined, 'no context lookups requested');
});

// run-tests synthesizes from a snapshot of dist/process-images.zip (THUMBING_FUNCTION_ZIP).
const ZIP = process.env.THUMBING_FUNCTION_ZIP || path.join(REPO_DIR, 'dist', 'process-images.zip');

test('the Lambda asset in cdk.out is the process-images zip, byte for byte', () => {
  const { file } = lambdaAsset();
  assert.ok(fs.statSync(file).isFile(), `${file} is a file`);
  assert.equal(sha256(file), sha256(ZIP));
});

test('the Lambda asset has index.js, the native addon, libjpeg and libspng', () => {
  const { file } = lambdaAsset();
  const r = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const entries = r.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/'));
  assert.ok(entries.includes('index.js'), `index.js at the top (handler index.handler): ${entries.join(' ')}`);
  const addons = entries.filter((e) => e.endsWith('.node'));
  assert.ok(addons.length >= 1, `a .node addon: ${entries.join(' ')}`);
  assert.ok(entries.some((e) => /(^|\/)libjpeg[^/]*\.so(\.\d+)*$/.test(e)), `libjpeg shared library: ${entries.join(' ')}`);
  assert.ok(entries.some((e) => /(^|\/)libspng[^/]*\.so(\.\d+)*$/.test(e)), `libspng shared library: ${entries.join(' ')}`);
  // the addon is an x86-64 ELF shared object, matching the function's architecture
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-asset-'));
  try {
    const x = spawnSync('unzip', ['-q', file, addons[0], '-d', tmp], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    const head = fs.readFileSync(path.join(tmp, addons[0])).subarray(0, 20);
    assert.deepEqual([...head.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'ELF');
    assert.equal(head.readUInt16LE(18), 0x3e, 'e_machine EM_X86_64');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('cdk synth fails with the config error for a non-numeric size or a bad webhook', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-bad-'));
  try {
    const r = spawnSync(
      'npx',
      ['cdk', 'synth', '--no-notices', '--no-lookups', '-q', '-o', out, '-c', 'avatar:processWidth=abc'],
      { cwd: CDK_DIR, encoding: 'utf8', env: cliEnv({ THUMBING_WEBHOOK_URL: 'http://api.example.com/hook' }), timeout: 240_000 },
    );
    assert.notEqual(r.status, 0, 'synth must fail');
    assert.match(r.stderr, /invalid avatar stack configuration:/);
    assert.match(r.stderr, /context avatar:processWidth: "abc" is not an integer/);
    assert.match(r.stderr, /env THUMBING_WEBHOOK_URL: "http:\/\/api.example.com\/hook" must be https:\/\//);
    assert.ok(!fs.existsSync(path.join(out, `${STACK}.template.json`)), 'no template written');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('the zip, unpacked alone, loads as index.handler with the environment the template gives it', () => {
  const { file, template } = lambdaAsset();
  const fn = Object.values(template.Resources as Record<string, Json>).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith('process-images'),
  );
  // Tokens (Ref of the bucket and topic) get what CloudFormation would put there.
  const resolved: Record<string, string> = {};
  for (const [k, v] of Object.entries(fn.Properties.Environment.Variables as Record<string, Json>)) {
    if (typeof v === 'string') resolved[k] = v;
    else if (k === 'DEST_BUCKET_NAME') resolved[k] = 'thumbingserverlesscdkstack-assetsbucket5cb76180-abc123';
    else if (k === 'AVATAR_TOPIC_ARN') resolved[k] = 'arn:aws:sns:us-east-1:123456789012:ThumbingServerlessCdkStack-AvatarTopic-abc123';
    else assert.fail(`unexpected token in ${k}: ${JSON.stringify(v)}`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-lambda-'));
  try {
    const x = spawnSync('unzip', ['-q', file, '-d', tmp], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    const probe = `const m = require(${JSON.stringify(path.join(tmp, 'index.js'))});
      if (typeof m.handler !== 'function') { console.error('index.handler is ' + typeof m.handler); process.exit(3); }
      console.log('handler ok');`;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' };
    const ok = spawnSync(process.execPath, ['-e', probe], { cwd: tmp, encoding: 'utf8', env: { ...env, ...resolved }, timeout: 60_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /handler ok/);
    // and the Lambda's own cold-start check sees a size the stack would never pass
    const bad = spawnSync(process.execPath, ['-e', probe], { cwd: tmp, encoding: 'utf8', env: { ...env, ...resolved, PROCESS_WIDTH: 'abc' }, timeout: 60_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /PROCESS_WIDTH/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
