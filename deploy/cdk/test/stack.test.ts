// The synthesized template: every resource and policy of the stack, through aws-cdk-lib/assertions.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { allStatements, asArray, idOf, only, synth, type Json } from './helpers';

const { template } = synth();
const uploadsId = idOf(template, 'AWS::S3::Bucket', 'UploadsBucket');
const assetsId = idOf(template, 'AWS::S3::Bucket', 'AssetsBucket');
const topicId = idOf(template, 'AWS::SNS::Topic', 'AvatarTopic');
const fnId = idOf(template, 'AWS::Lambda::Function', 'ProcessImages');
const roleId = idOf(template, 'AWS::IAM::Role', 'ProcessImagesRole');
const logsId = idOf(template, 'AWS::Logs::LogGroup', 'ProcessImagesLogs');
const distId = idOf(template, 'AWS::CloudFront::Distribution', 'AssetsDistribution');
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objects = (id: string, pattern: string) => ({ 'Fn::Join': ['', [arn(id), `/${pattern}`]] });

test('two buckets, both private, encrypted, TLS only, owner-enforced', () => {
  template.resourceCountIs('AWS::S3::Bucket', 2);
  for (const id of [uploadsId, assetsId]) {
    const b = template.toJSON().Resources[id];
    assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(b.Properties.BucketEncryption, {
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    assert.deepEqual(b.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.equal(b.DeletionPolicy, 'Retain');
    assert.equal(b.Properties.WebsiteConfiguration, undefined);
  }
  // enforceSSL: each bucket policy denies plain HTTP and TLS < 1.2 for everything in the bucket
  for (const id of [uploadsId, assetsId]) {
    const policy = only(template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: id } }).res;
    const denies = policy.Properties.PolicyDocument.Statement.filter((s: Json) => s.Effect === 'Deny');
    assert.deepEqual(
      denies.map((s: Json) => s.Condition),
      [{ Bool: { 'aws:SecureTransport': 'false' } }, { NumericLessThan: { 's3:TlsVersion': 1.2 } }],
    );
    for (const s of denies) {
      assert.equal(s.Action, 's3:*');
      assert.deepEqual(s.Principal, { AWS: '*' });
      assert.deepEqual(s.Resource, [arn(id), objects(id, '*')]);
    }
  }
});

test('uploads bucket CORS: a browser PUT through a presigned URL from the app origin only', () => {
  const b = template.toJSON().Resources[uploadsId];
  assert.deepEqual(b.Properties.CorsConfiguration, {
    CorsRules: [
      {
        AllowedMethods: ['PUT'],
        AllowedOrigins: ['http://localhost:3000'],
        AllowedHeaders: ['content-type', 'content-md5', 'x-amz-*'],
        ExposedHeaders: ['ETag'],
        MaxAge: 3000,
      },
    ],
  });
  assert.equal(template.toJSON().Resources[assetsId].Properties.CorsConfiguration, undefined);
  const two = synth({ 'avatar:appOrigins': ['https://cruddur.example.com', 'http://localhost:3000'] }).template;
  two.hasResourceProperties('AWS::S3::Bucket', {
    CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: ['https://cruddur.example.com', 'http://localhost:3000'] })] },
  });
});

test('the Lambda: zip asset, index.handler, Node 22, x86_64, memory, timeout, env, its own log group', () => {
  const fn = template.toJSON().Resources[fnId];
  const p = fn.Properties;
  assert.equal(p.Handler, 'index.handler');
  assert.equal(p.Runtime, 'nodejs22.x');
  assert.deepEqual(p.Architectures, ['x86_64']);
  assert.equal(p.MemorySize, 512);
  assert.equal(p.Timeout, 30);
  assert.match(p.Code.S3Key, /^[0-9a-f]{64}\.zip$/);
  assert.deepEqual(p.Role, arn(roleId));
  assert.deepEqual(p.LoggingConfig, { LogGroup: { Ref: logsId } });
  assert.equal(p.ReservedConcurrentExecutions, undefined);
  assert.deepEqual(p.Environment.Variables, {
    DEST_BUCKET_NAME: { Ref: assetsId },
    FOLDER_INPUT: 'avatars/original',
    FOLDER_OUTPUT: 'avatars',
    PROCESS_WIDTH: '512',
    PROCESS_HEIGHT: '512',
    AVATAR_TOPIC_ARN: { Ref: topicId },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    FunctionName: { Ref: fnId },
    MaximumRetryAttempts: 2,
    Qualifier: '$LATEST',
  });
});

test('Lambda settings follow the configuration', () => {
  const { template: t } = synth({
    'avatar:memorySize': 1769,
    'avatar:timeoutSeconds': 60,
    'avatar:reservedConcurrency': 10,
    'avatar:runtime': 'nodejs24.x',
    'avatar:processWidth': 256,
    'avatar:processHeight': 128,
    'avatar:logRetentionDays': 7,
  });
  const fn = only(t, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^process-images') }).res.Properties;
  assert.equal(fn.MemorySize, 1769);
  assert.equal(fn.Timeout, 60);
  assert.equal(fn.ReservedConcurrentExecutions, 10);
  assert.equal(fn.Runtime, 'nodejs24.x');
  assert.equal(fn.Environment.Variables.PROCESS_WIDTH, '256');
  assert.equal(fn.Environment.Variables.PROCESS_HEIGHT, '128');
  t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
});

test('S3 notification: ObjectCreated in the input prefix, one filter per accepted extension', () => {
  const n = only(template, 'Custom::S3BucketNotifications').res.Properties;
  assert.deepEqual(n.BucketName, { Ref: uploadsId });
  const configs = n.NotificationConfiguration.LambdaFunctionConfigurations;
  assert.deepEqual(
    configs.map((c: Json) => ({ events: c.Events, fn: c.LambdaFunctionArn, rules: c.Filter.Key.FilterRules })),
    ['.jpg', '.jpeg', '.png'].map((suffix) => ({
      events: ['s3:ObjectCreated:*'],
      fn: arn(fnId),
      rules: [
        { Name: 'suffix', Value: suffix },
        { Name: 'prefix', Value: 'avatars/original/' },
      ],
    })),
  );
  assert.equal(n.NotificationConfiguration.TopicConfigurations, undefined);
  assert.equal(n.NotificationConfiguration.QueueConfigurations, undefined);
  // S3 may invoke the function only from this bucket of this account
  template.hasResourceProperties('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunction',
    FunctionName: arn(fnId),
    Principal: 's3.amazonaws.com',
    SourceArn: arn(uploadsId),
    SourceAccount: { Ref: 'AWS::AccountId' },
  });
  template.resourceCountIs('AWS::Lambda::Permission', 1);
});

test('an empty input folder (uploads at the bucket root): suffix filters only, role reads the bucket objects', () => {
  const { template: t } = synth({ 'avatar:folderInput': '', 'avatar:extensions': ['jpg', 'png'] });
  const configs = only(t, 'Custom::S3BucketNotifications').res.Properties.NotificationConfiguration.LambdaFunctionConfigurations;
  assert.deepEqual(
    configs.map((c: Json) => c.Filter.Key.FilterRules),
    [[{ Name: 'suffix', Value: '.jpg' }], [{ Name: 'suffix', Value: '.png' }]],
  );
  const upl = idOf(t, 'AWS::S3::Bucket', 'UploadsBucket');
  const role = only(t, 'AWS::IAM::Role', { Description: Match.stringLikeRegexp('^process-images') }).res;
  const read = role.Properties.Policies[0].PolicyDocument.Statement.find((s: Json) => s.Sid === 'ReadUploads');
  assert.deepEqual(read.Resource, objects(upl, '*'));
  assert.equal(only(t, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^process-images') }).res.Properties.Environment.Variables.FOLDER_INPUT, '');
});

test('the Lambda role: exactly read uploads (prefix), write avatars (prefix), publish, write its logs', () => {
  const role = template.toJSON().Resources[roleId].Properties;
  assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
    { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
  ]);
  assert.equal(role.ManagedPolicyArns, undefined, 'no managed policies (AWSLambdaBasicExecutionRole is logs:* on *)');
  assert.equal(role.Policies.length, 1);
  assert.deepEqual(role.Policies[0].PolicyDocument.Statement, [
    { Sid: 'ReadUploads', Effect: 'Allow', Action: 's3:GetObject', Resource: objects(uploadsId, 'avatars/original/*') },
    { Sid: 'WriteAvatars', Effect: 'Allow', Action: 's3:PutObject', Resource: objects(assetsId, 'avatars/*') },
    { Sid: 'PublishVersions', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topicId } },
    { Sid: 'WriteLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(logsId) },
  ]);
  // and nothing is attached to it from elsewhere
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    assert.ok(!JSON.stringify(p.Properties.Roles).includes(roleId), `${id} is attached to the Lambda role`);
  }
  template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
});

test('no Allow statement anywhere grants a wildcard action or resource', () => {
  const statements = allStatements(template);
  assert.ok(statements.length >= 8);
  for (const { owner, statement: s } of statements) {
    if (s.Effect !== 'Allow') continue;
    for (const a of asArray(s.Action)) assert.ok(!String(a).includes('*'), `${owner}: Allow ${a}`);
    for (const r of asArray(s.Resource)) {
      assert.notEqual(r, '*', `${owner}: Allow ${JSON.stringify(s.Action)} on *`);
      const joined = JSON.stringify(r);
      // object wildcards only below a prefix, or the whole assets bucket for CloudFront's reads
      if (joined.includes('*')) {
        assert.ok(
          /\/avatars\/original\/\*"|\/avatars\/\*"/.test(joined) || (owner.startsWith('AssetsBucketPolicy') && s.Principal?.Service === 'cloudfront.amazonaws.com'),
          `${owner}: Allow on ${joined}`,
        );
      }
    }
  }
  // CDK's own notification handler may only set this bucket's notifications
  const handlerPolicy = only(template, 'AWS::IAM::Policy').res.Properties.PolicyDocument.Statement;
  assert.deepEqual(handlerPolicy, [{ Action: 's3:PutBucketNotification', Effect: 'Allow', Resource: arn(uploadsId) }]);
});

test('SNS topic: TLS-only policy, no subscription unless a webhook is configured', () => {
  template.resourceCountIs('AWS::SNS::Topic', 1);
  template.resourceCountIs('AWS::SNS::Subscription', 0);
  const tp = only(template, 'AWS::SNS::TopicPolicy').res.Properties;
  assert.deepEqual(tp.Topics, [{ Ref: topicId }]);
  assert.deepEqual(
    tp.PolicyDocument.Statement.map((s: Json) => [s.Effect, s.Condition]),
    [['Deny', { Bool: { 'aws:SecureTransport': 'false' } }]],
  );

  const { template: t } = synth({ 'avatar:webhookUrl': 'https://api.example.com/api/webhooks/avatar-processed', 'avatar:topicName': 'cruddur-assets' });
  t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'cruddur-assets' });
  const sub = only(t, 'AWS::SNS::Subscription').res.Properties;
  assert.equal(sub.Protocol, 'https');
  assert.equal(sub.Endpoint, 'https://api.example.com/api/webhooks/avatar-processed');
  assert.deepEqual(sub.TopicArn, { Ref: idOf(t, 'AWS::SNS::Topic', 'AvatarTopic') });
  assert.equal(sub.RawMessageDelivery, undefined, 'the envelope keeps the signature the webhook verifies');
});

test('CloudFront: OAC (no OAI) over the assets bucket, HTTPS, GET/HEAD, compression', () => {
  template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
  const oac = only(template, 'AWS::CloudFront::OriginAccessControl');
  assert.deepEqual(
    { ...oac.res.Properties.OriginAccessControlConfig, Name: undefined },
    { Name: undefined, OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
  );
  const d = template.toJSON().Resources[distId].Properties.DistributionConfig;
  assert.equal(d.Origins.length, 1);
  assert.deepEqual(d.Origins[0].DomainName, { 'Fn::GetAtt': [assetsId, 'RegionalDomainName'] });
  assert.deepEqual(d.Origins[0].OriginAccessControlId, { 'Fn::GetAtt': [oac.id, 'Id'] });
  assert.deepEqual(d.Origins[0].S3OriginConfig, { OriginAccessIdentity: '' });
  const b = d.DefaultCacheBehavior;
  assert.equal(b.ViewerProtocolPolicy, 'redirect-to-https');
  assert.deepEqual(b.AllowedMethods, ['GET', 'HEAD']);
  assert.equal(b.Compress, true);
  assert.equal(b.TargetOriginId, d.Origins[0].Id);
  assert.equal(d.CacheBehaviors, undefined);
  assert.equal(d.PriceClass, 'PriceClass_100');
  assert.equal(d.Aliases, undefined);
});

test('cache policy: the key is the path and the query string v only; long TTLs; gzip and brotli', () => {
  const cp = only(template, 'AWS::CloudFront::CachePolicy');
  const c = cp.res.Properties.CachePolicyConfig;
  assert.deepEqual(c.ParametersInCacheKeyAndForwardedToOrigin, {
    CookiesConfig: { CookieBehavior: 'none' },
    HeadersConfig: { HeaderBehavior: 'none' },
    QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['v'] },
    EnableAcceptEncodingGzip: true,
    EnableAcceptEncodingBrotli: true,
  });
  assert.equal(c.DefaultTTL, 31536000);
  assert.equal(c.MaxTTL, 31536000);
  assert.equal(c.MinTTL, 0);
  const d = template.toJSON().Resources[distId].Properties.DistributionConfig;
  assert.deepEqual(d.DefaultCacheBehavior.CachePolicyId, { Ref: cp.id });
  assert.equal(d.DefaultCacheBehavior.ForwardedValues, undefined, 'no legacy forwarding settings');
});

test('assets bucket policy: CloudFront reads objects only for this distribution (aws:SourceArn)', () => {
  const policy = only(template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: assetsId } }).res.Properties.PolicyDocument;
  const allows = policy.Statement.filter((s: Json) => s.Effect === 'Allow');
  assert.deepEqual(allows, [
    {
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: objects(assetsId, '*'),
      Condition: {
        StringEquals: {
          'AWS:SourceArn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: distId }]],
          },
        },
      },
    },
  ]);
  const uploadsPolicy = only(template, 'AWS::S3::BucketPolicy', { Bucket: { Ref: uploadsId } }).res.Properties.PolicyDocument;
  assert.equal(uploadsPolicy.Statement.filter((s: Json) => s.Effect === 'Allow').length, 0, 'nobody is granted the uploads bucket by policy');
});

test('custom domain: alias, us-east-1 certificate, SNI, TLS 1.2; Route 53 alias records when a zone is given', () => {
  const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';
  const { template: t } = synth({
    'avatar:domainName': 'assets.example.com',
    'avatar:certificateArn': cert,
    'avatar:hostedZoneId': 'Z0123456789ABC',
    'avatar:hostedZoneName': 'example.com',
  });
  const d = only(t, 'AWS::CloudFront::Distribution').res.Properties.DistributionConfig;
  assert.deepEqual(d.Aliases, ['assets.example.com']);
  assert.deepEqual(d.ViewerCertificate, { AcmCertificateArn: cert, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
  for (const type of ['A', 'AAAA']) {
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: type,
      Name: 'assets.example.com.',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AssetsDistribution'), 'DomainName'] } }),
    });
  }
  assert.deepEqual(t.findOutputs('AssetsBaseUrl').AssetsBaseUrl.Value, 'https://assets.example.com');
  template.resourceCountIs('AWS::Route53::RecordSet', 0);
});

test('outputs: the app settings (ASSETS_BASE_URL is the distribution domain by default)', () => {
  const o = template.findOutputs('*');
  assert.deepEqual(Object.keys(o).sort(), ['AssetsBaseUrl', 'AssetsBucketName', 'AvatarTopicArn', 'DistributionId', 'ProcessImagesFunctionName', 'UploadsBucketName']);
  assert.deepEqual(o.AssetsBaseUrl.Value, { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distId, 'DomainName'] }]] });
  assert.deepEqual(o.UploadsBucketName.Value, { Ref: uploadsId });
  assert.deepEqual(o.AvatarTopicArn.Value, { Ref: topicId });
});

test('imported assets bucket (the seed\'s assets.<domain>): no bucket made, policy written for the distribution, prefix-scoped write', () => {
  const { stack, template: t } = synth({
    'avatar:importAssetsBucket': true,
    'avatar:assetsBucketName': 'assets.example.com',
    'avatar:uploadsBucketName': 'example-uploaded-avatars',
  });
  t.resourceCountIs('AWS::S3::Bucket', 1);
  t.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'example-uploaded-avatars' });
  const fn = only(t, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^process-images') }).res.Properties;
  assert.equal(fn.Environment.Variables.DEST_BUCKET_NAME, 'assets.example.com');
  const bucketArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::assets.example.com']] };
  const objectsArn = (p: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::assets.example.com/${p}`]] });
  const role = only(t, 'AWS::IAM::Role', { Description: Match.stringLikeRegexp('^process-images') }).res.Properties;
  const write = role.Policies[0].PolicyDocument.Statement.find((s: Json) => s.Sid === 'WriteAvatars');
  assert.deepEqual(write.Resource, objectsArn('avatars/*'));
  const policy = only(t, 'AWS::S3::BucketPolicy', { Bucket: 'assets.example.com' }).res.Properties.PolicyDocument.Statement;
  const distArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: idOf(t, 'AWS::CloudFront::Distribution', 'AssetsDistribution') }]] };
  assert.deepEqual(policy, [
    {
      Sid: 'AllowCloudFrontServicePrincipalReadOnly',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: objectsArn('*'),
      Condition: { StringEquals: { 'AWS:SourceArn': distArn } },
    },
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: [bucketArn, objectsArn('*')],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ]);
  const d = only(t, 'AWS::CloudFront::Distribution').res.Properties.DistributionConfig;
  assert.match(JSON.stringify(d.Origins[0].DomainName), /assets\.example\.com\.s3\./);
  assert.ok(d.Origins[0].OriginAccessControlId);
  // the CDK warning about the imported bucket's policy is handled, so none is left
  assert.deepEqual(Annotations.fromStack(stack).findWarning('*', Match.anyValue()), []);
});

test('the template has no lookups or account-specific values (synth needs no AWS account)', () => {
  const text = JSON.stringify(template.toJSON());
  assert.ok(!/\b\d{12}\b/.test(text), 'no account id baked in');
  assert.equal(template.toJSON().Parameters.BootstrapVersion.Type, 'AWS::SSM::Parameter::Value<String>');
});

test('the default stack is exactly these resources, with no synth warnings or errors', () => {
  const counts: Record<string, number> = {};
  for (const r of Object.values(template.toJSON().Resources as Record<string, Json>)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  assert.deepEqual(counts, {
    'AWS::S3::Bucket': 2,
    'AWS::S3::BucketPolicy': 2,
    'AWS::SNS::Topic': 1,
    'AWS::SNS::TopicPolicy': 1,
    'AWS::Logs::LogGroup': 1,
    'AWS::IAM::Role': 2, // the Lambda's, and CDK's bucket-notifications handler's
    'AWS::IAM::Policy': 1, // the handler's s3:PutBucketNotification
    'AWS::Lambda::Function': 2,
    'AWS::Lambda::Permission': 1,
    'AWS::Lambda::EventInvokeConfig': 1,
    'Custom::S3BucketNotifications': 1,
    'AWS::CloudFront::CachePolicy': 1,
    'AWS::CloudFront::OriginAccessControl': 1,
    'AWS::CloudFront::Distribution': 1,
  });
  const { stack } = synth();
  assert.deepEqual(Annotations.fromStack(stack).findWarning('*', Match.anyValue()), []);
  assert.deepEqual(Annotations.fromStack(stack).findError('*', Match.anyValue()), []);
});
