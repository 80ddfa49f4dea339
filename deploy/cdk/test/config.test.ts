// lib/config.ts: defaults, overrides, and a clear error for every bad value.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ConfigError, CONTEXT_PREFIX, DEFAULTS, KEYS, loadConfig } from '../lib/config';
import { CDK_DIR, CDK_JSON_CONTEXT, config } from './helpers';

/** The problems loadConfig reports for these context values (and env), or [] when it accepts them. */
function problems(context: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    config(context, env);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.match(e.message, /^invalid avatar stack configuration:\n {2}- /);
    return e.problems;
  }
}

function rejects(context: Record<string, unknown>, pattern: RegExp, env: Record<string, string> = {}): void {
  const p = problems(context, env);
  assert.ok(p.length > 0, `accepted ${JSON.stringify(context)} ${JSON.stringify(env)}`);
  assert.ok(p.some((m) => pattern.test(m)), `no problem matching ${pattern} in:\n${p.join('\n')}`);
}

test('cdk.json documents every key with the code defaults', () => {
  const keys = Object.keys(CDK_JSON_CONTEXT).filter((k) => k.startsWith(CONTEXT_PREFIX)).sort();
  assert.deepEqual(keys, Object.keys(KEYS).map((k) => CONTEXT_PREFIX + k).sort());
  for (const [k, v] of Object.entries(DEFAULTS)) assert.deepEqual(CDK_JSON_CONTEXT[CONTEXT_PREFIX + k], v, k);
});

test('defaults: the seed contract (512x512, avatars/original -> avatars) and explicit Lambda settings', () => {
  const c = config();
  assert.equal(c.stackName, 'ThumbingServerlessCdkStack');
  assert.equal(c.folderInput, 'avatars/original');
  assert.equal(c.folderOutput, 'avatars');
  assert.deepEqual(c.extensions, ['jpg', 'jpeg', 'png']);
  assert.equal(c.processWidth, 512);
  assert.equal(c.processHeight, 512);
  assert.equal(c.memorySize, 512);
  assert.equal(c.timeoutSeconds, 30);
  assert.equal(c.reservedConcurrency, undefined);
  assert.equal(c.runtime, 'nodejs22.x');
  assert.equal(c.uploadsBucketName, undefined);
  assert.equal(c.webhookUrl, undefined);
  assert.equal(c.importAssetsBucket, false);
  assert.ok(path.isAbsolute(c.lambdaZip) && c.lambdaZip.endsWith('.zip'));
});

test('CLI -c values arrive as strings and are parsed', () => {
  const c = config({
    'avatar:processWidth': '256',
    'avatar:memorySize': '1024',
    'avatar:importAssetsBucket': 'true',
    'avatar:assetsBucketName': 'assets.example.com',
    'avatar:appOrigins': 'https://example.com, http://localhost:3000',
    'avatar:extensions': 'jpg,png',
    'avatar:reservedConcurrency': '5',
  });
  assert.equal(c.processWidth, 256);
  assert.equal(c.memorySize, 1024);
  assert.equal(c.importAssetsBucket, true);
  assert.deepEqual(c.appOrigins, ['https://example.com', 'http://localhost:3000']);
  assert.deepEqual(c.extensions, ['jpg', 'png']);
  assert.equal(c.reservedConcurrency, 5);
});

test('environment variables (the seed .env names) win over the context', () => {
  const c = config(
    { 'avatar:folderOutput': 'from-context', 'avatar:processHeight': 300 },
    {
      UPLOADS_BUCKET_NAME: 'cruddur-uploaded-avatars',
      ASSETS_BUCKET_NAME: 'assets.cruddur.com',
      THUMBING_S3_FOLDER_OUTPUT: 'avatars/processed',
      THUMBING_PROCESS_HEIGHT: '400',
      THUMBING_WEBHOOK_URL: 'https://api.cruddur.com/api/webhooks/avatar-processed',
      THUMBING_TOPIC_NAME: 'cruddur-assets',
    },
  );
  assert.equal(c.uploadsBucketName, 'cruddur-uploaded-avatars');
  assert.equal(c.assetsBucketName, 'assets.cruddur.com');
  assert.equal(c.folderOutput, 'avatars/processed');
  assert.equal(c.processHeight, 400);
  assert.equal(c.webhookUrl, 'https://api.cruddur.com/api/webhooks/avatar-processed');
  assert.equal(c.topicName, 'cruddur-assets');
  // an empty variable does not override
  assert.equal(config({}, { THUMBING_PROCESS_WIDTH: '' }).processWidth, 512);
});

test('non-numeric and out-of-range sizes are errors naming the key and its source', () => {
  rejects({ 'avatar:processWidth': 'abc' }, /^context avatar:processWidth: "abc" is not an integer$/);
  rejects({ 'avatar:processWidth': '512px' }, /avatar:processWidth: "512px" is not an integer/);
  rejects({ 'avatar:processHeight': 51.2 }, /avatar:processHeight: 51.2 is not an integer/);
  rejects({}, /^env THUMBING_PROCESS_HEIGHT: "NaN" is not an integer$/, { THUMBING_PROCESS_HEIGHT: 'NaN' });
  rejects({ 'avatar:processWidth': 0 }, /processWidth: 0 is out of range 1\.\.4096/);
  rejects({ 'avatar:processHeight': 4097 }, /processHeight: 4097 is out of range 1\.\.4096/);
  rejects({ 'avatar:processWidth': '' }, /processWidth: a value is required/);
  rejects({ 'avatar:memorySize': 64 }, /memorySize: 64 is out of range 128\.\.10240/);
  rejects({ 'avatar:memorySize': true }, /memorySize: true is not an integer/);
  rejects({ 'avatar:timeoutSeconds': 901 }, /timeoutSeconds: 901 is out of range 1\.\.900/);
  rejects({ 'avatar:reservedConcurrency': 0 }, /reservedConcurrency: 0 is out of range/);
  rejects({ 'avatar:logRetentionDays': 31 }, /logRetentionDays: 31 is not a CloudWatch Logs retention/);
});

test('folders: no leading or trailing slash (the seed defect), output prefix required', () => {
  rejects({ 'avatar:folderInput': '/avatars/original' }, /folderInput: "\/avatars\/original" must not start or end with "\/".*write "avatars\/original"/);
  rejects({ 'avatar:folderOutput': 'avatars/' }, /folderOutput: "avatars\/" must not start or end/);
  rejects({ 'avatar:folderOutput': '' }, /folderOutput: must not be empty/);
  rejects({ 'avatar:folderInput': 'a//b' }, /folderInput: "a\/\/b" is not a key prefix/);
  rejects({ 'avatar:folderInput': 'up loads' }, /is not a key prefix/);
  assert.equal(config({ 'avatar:folderInput': '' }).folderInput, '');
});

test('buckets, origins, extensions, runtime, price class', () => {
  rejects({ 'avatar:uploadsBucketName': 'Bad_Name' }, /uploadsBucketName: "Bad_Name" is not a valid S3 bucket name/);
  rejects({ 'avatar:assetsBucketName': 'ab' }, /not a valid S3 bucket name/);
  rejects({ 'avatar:uploadsBucketName': 'same-name', 'avatar:assetsBucketName': 'same-name' }, /must differ/);
  rejects({ 'avatar:importAssetsBucket': true }, /importing the assets bucket needs avatar:assetsBucketName/);
  rejects({ 'avatar:importAssetsBucket': 'maybe' }, /"maybe" is not a boolean/);
  rejects({ 'avatar:appOrigins': ['*'] }, /"\*" is not allowed/);
  rejects({ 'avatar:appOrigins': ['https://example.com/'] }, /"https:\/\/example.com\/" is not an origin/);
  rejects({ 'avatar:appOrigins': [] }, /at least one origin/);
  rejects({ 'avatar:appOrigins': 42 }, /expected a list/);
  rejects({ 'avatar:extensions': ['.jpg'] }, /"\.jpg" is not a lower-case extension without a dot/);
  rejects({ 'avatar:extensions': ['JPG'] }, /"JPG" is not a lower-case extension/);
  rejects({ 'avatar:extensions': ['jpg', 'jpg'] }, /duplicate extensions/);
  rejects({ 'avatar:runtime': 'nodejs18.x' }, /runtime: "nodejs18.x" is not one of nodejs22.x, nodejs24.x/);
  rejects({ 'avatar:runtime': 'nodejs20.x' }, /runtime: "nodejs20.x" is not one of .*nodejs20.x was deprecated on 2026-04-30/);
  rejects({ 'avatar:priceClass': 'cheap' }, /priceClass: "cheap" is not one of/);
  rejects({ 'avatar:stackName': '9lives' }, /is not a CloudFormation stack name/);
  rejects({ 'avatar:topicName': 'a topic' }, /is not an SNS topic name/);
});

test('webhook must be an https URL', () => {
  rejects({ 'avatar:webhookUrl': 'http://api.example.com/hook' }, /webhookUrl: "http:\/\/api.example.com\/hook" must be https:\/\//);
  rejects({ 'avatar:webhookUrl': 'not a url' }, /webhookUrl: "not a url" is not a URL/);
  assert.equal(config({ 'avatar:webhookUrl': 'https://api.example.com/hook' }).webhookUrl, 'https://api.example.com/hook');
});

test('custom domain: certificate required, in us-east-1; hosted zone both-or-neither and containing the domain', () => {
  const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';
  rejects({ 'avatar:domainName': 'assets.example.com' }, /a custom domain needs avatar:certificateArn \(THUMBING_CERTIFICATE_ARN\)/);
  rejects({ 'avatar:certificateArn': cert }, /a certificate needs avatar:domainName/);
  rejects(
    { 'avatar:domainName': 'assets.example.com', 'avatar:certificateArn': cert.replace('us-east-1', 'eu-west-1') },
    /not an ACM certificate ARN in us-east-1/,
  );
  rejects({ 'avatar:domainName': 'Assets.Example.com', 'avatar:certificateArn': cert }, /is not a lower-case domain name/);
  const d = { 'avatar:domainName': 'assets.example.com', 'avatar:certificateArn': cert };
  assert.equal(config(d).domainName, 'assets.example.com');
  rejects({ ...d, 'avatar:hostedZoneId': 'Z0123456789ABC' }, /hostedZoneId and avatar:hostedZoneName go together/);
  rejects({ ...d, 'avatar:hostedZoneId': 'Z0123456789ABC', 'avatar:hostedZoneName': 'other.org' }, /"assets.example.com" is not in zone "other.org"/);
  rejects({ ...d, 'avatar:hostedZoneId': 'bad', 'avatar:hostedZoneName': 'example.com' }, /"bad" is not a Route 53 zone id/);
  assert.equal(config({ ...d, 'avatar:hostedZoneId': 'Z0123456789ABC', 'avatar:hostedZoneName': 'example.com' }).hostedZoneId, 'Z0123456789ABC');
});

test('an unknown avatar:* key is a typo, reported with the known keys', () => {
  rejects({ 'avatar:procesWidth': 256 }, /unknown context key "avatar:procesWidth" \(known: .*avatar:processWidth/);
});

test('the Lambda zip must exist and be a zip', () => {
  rejects({}, /^env THUMBING_FUNCTION_ZIP: \/nonexistent\/missing\.zip does not exist \(build it: bash lambda\/process-images\/build\)/, { THUMBING_FUNCTION_ZIP: '/nonexistent/missing.zip' });
  rejects({ 'avatar:lambdaZip': 'lambda/process-images' }, /is not a \.zip file/, { THUMBING_FUNCTION_ZIP: '' });
  // relative to deploy/cdk
  const c = loadConfig({ context: { ...CDK_JSON_CONTEXT }, env: {}, baseDir: CDK_DIR, checkZip: false });
  assert.equal(c.lambdaZip, path.resolve(CDK_DIR, '../../dist/process-images.zip'));
});

test('every problem is reported at once', () => {
  const p = problems({ 'avatar:processWidth': 'x', 'avatar:processHeight': 'y', 'avatar:folderInput': '/in', 'avatar:webhookUrl': 'http://a.b' });
  assert.equal(p.length, 4, p.join('\n'));
});
