// The seed's ThumbingServerlessCdkStack, done right: uploads bucket -> process-images Lambda
// (libthumb) -> assets bucket, served by CloudFront with a cache key of path + ?v=<content version>
// (docs/stale-avatars.md), an SNS topic the Lambda publishes each new avatar's version to.
import * as cdk from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AvatarConfig, PriceClassName, RuntimeName } from './config';

export interface AvatarStackProps extends cdk.StackProps {
  readonly config: AvatarConfig;
}

const RUNTIME: Record<RuntimeName, lambda.Runtime> = {
  'nodejs22.x': lambda.Runtime.NODEJS_22_X,
  'nodejs24.x': lambda.Runtime.NODEJS_24_X,
};

const PRICE_CLASS: Record<PriceClassName, cloudfront.PriceClass> = {
  PriceClass_100: cloudfront.PriceClass.PRICE_CLASS_100,
  PriceClass_200: cloudfront.PriceClass.PRICE_CLASS_200,
  PriceClass_All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

/** One year: the avatar objects say `max-age=31536000, immutable`; a new avatar is a new cache key. */
const ONE_YEAR = cdk.Duration.days(365);

export class AvatarStack extends cdk.Stack {
  readonly uploadsBucket: s3.IBucket;
  readonly assetsBucket: s3.IBucket;
  readonly topic: sns.Topic;
  readonly fn: lambda.Function;
  readonly distribution: cloudfront.Distribution;
  readonly cachePolicy: cloudfront.CachePolicy;
  /** Base of every avatar URL: `${assetsBaseUrl}/${key}?v=${version}`. */
  readonly assetsBaseUrl: string;

  constructor(scope: Construct, id: string, props: AvatarStackProps) {
    super(scope, id, props);
    const cfg = props.config;

    // ---- buckets
    this.uploadsBucket = new s3.Bucket(this, 'UploadsBucket', {
      bucketName: cfg.uploadsBucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // The browser PUTs the original through a presigned URL from the app's origin.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT],
          allowedOrigins: cfg.appOrigins,
          allowedHeaders: ['content-type', 'content-md5', 'x-amz-*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) }],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    if (cfg.importAssetsBucket) {
      // The seed's `assets.<domain>`, made by hand. Its policy is written below.
      this.assetsBucket = s3.Bucket.fromBucketName(this, 'AssetsBucket', cfg.assetsBucketName!);
    } else {
      this.assetsBucket = new s3.Bucket(this, 'AssetsBucket', {
        bucketName: cfg.assetsBucketName,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED, // SSE-KMS would need a key policy for CloudFront
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
    }

    // ---- topic: the Lambda publishes {bucket,key,name,version,width,height,bytes} per avatar
    this.topic = new sns.Topic(this, 'AvatarTopic', {
      topicName: cfg.topicName,
      displayName: 'Processed avatars',
      enforceSSL: true,
    });
    if (cfg.webhookUrl !== undefined) {
      // The envelope (not raw delivery) keeps SNS's signature, which the webhook verifies.
      this.topic.addSubscription(new subs.UrlSubscription(cfg.webhookUrl, { protocol: sns.SubscriptionProtocol.HTTPS }));
    }

    // ---- the Lambda, with a role that can do exactly its job
    const logGroup = new logs.LogGroup(this, 'ProcessImagesLogs', {
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const inputPattern = cfg.folderInput === '' ? '*' : `${cfg.folderInput}/*`;
    const role = new iam.Role(this, 'ProcessImagesRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'process-images: read uploads, write avatars, publish versions, write its logs',
      inlinePolicies: {
        'process-images': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ReadUploads',
              actions: ['s3:GetObject'],
              resources: [this.uploadsBucket.arnForObjects(inputPattern)],
            }),
            new iam.PolicyStatement({
              sid: 'WriteAvatars',
              actions: ['s3:PutObject'],
              resources: [this.assetsBucket.arnForObjects(`${cfg.folderOutput}/*`)],
            }),
            new iam.PolicyStatement({
              sid: 'PublishVersions',
              actions: ['sns:Publish'],
              resources: [this.topic.topicArn],
            }),
            new iam.PolicyStatement({
              sid: 'WriteLogs',
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });

    this.fn = new lambda.Function(this, 'ProcessImages', {
      description: 'process-images: upload -> 512x512 avatar with libthumb',
      runtime: RUNTIME[cfg.runtime],
      handler: 'index.handler',
      code: lambda.Code.fromAsset(cfg.lambdaZip),
      architecture: lambda.Architecture.X86_64, // the zip's addon and libraries are built on x86_64
      memorySize: cfg.memorySize,
      timeout: cdk.Duration.seconds(cfg.timeoutSeconds),
      reservedConcurrentExecutions: cfg.reservedConcurrency,
      role,
      logGroup,
      retryAttempts: 2,
      environment: {
        DEST_BUCKET_NAME: this.assetsBucket.bucketName,
        FOLDER_INPUT: cfg.folderInput,
        FOLDER_OUTPUT: cfg.folderOutput,
        PROCESS_WIDTH: String(cfg.processWidth),
        PROCESS_HEIGHT: String(cfg.processHeight),
        AVATAR_TOPIC_ARN: this.topic.topicArn,
      },
    });

    // One notification per accepted extension, all in the input prefix (the seed's filter was
    // commented out, so every upload ran the Lambda).
    for (const ext of cfg.extensions) {
      this.uploadsBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(this.fn),
        cfg.folderInput === '' ? { suffix: `.${ext}` } : { prefix: `${cfg.folderInput}/`, suffix: `.${ext}` },
      );
    }

    // ---- serving: CloudFront with OAC; the cache key is the path and the query string v only
    this.cachePolicy = new cloudfront.CachePolicy(this, 'AvatarCachePolicy', {
      comment: 'Content-versioned assets: cache key = path + ?v=<version>',
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList('v'),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      minTtl: cdk.Duration.seconds(0),
      defaultTtl: ONE_YEAR,
      maxTtl: ONE_YEAR,
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.assetsBucket, {
      originAccessLevels: [cloudfront.AccessLevel.READ],
    });
    if (cfg.importAssetsBucket) {
      cdk.Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
        'the stack writes the imported bucket policy itself (AssetsBucketPolicy)',
      );
    }

    const certificate =
      cfg.certificateArn !== undefined ? acm.Certificate.fromCertificateArn(this, 'Certificate', cfg.certificateArn) : undefined;
    this.distribution = new cloudfront.Distribution(this, 'AssetsDistribution', {
      comment: 'avatars and other assets (content-versioned URLs)',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: this.cachePolicy,
        compress: true,
      },
      domainNames: cfg.domainName !== undefined ? [cfg.domainName] : undefined,
      certificate,
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      priceClass: PRICE_CLASS[cfg.priceClass],
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
    });

    if (cfg.importAssetsBucket) {
      // An imported bucket's policy cannot be amended: this one replaces it (docs/readme/cdk.md).
      const policy = new s3.BucketPolicy(this, 'AssetsBucketPolicy', { bucket: this.assetsBucket });
      policy.document.addStatements(
        new iam.PolicyStatement({
          sid: 'AllowCloudFrontServicePrincipalReadOnly',
          principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
          actions: ['s3:GetObject'],
          resources: [this.assetsBucket.arnForObjects('*')],
          conditions: { StringEquals: { 'AWS:SourceArn': this.distribution.distributionArn } },
        }),
        new iam.PolicyStatement({
          sid: 'DenyInsecureTransport',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:*'],
          resources: [this.assetsBucket.bucketArn, this.assetsBucket.arnForObjects('*')],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }

    if (cfg.hostedZoneId !== undefined && cfg.hostedZoneName !== undefined && cfg.domainName !== undefined) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: cfg.hostedZoneId,
        zoneName: cfg.hostedZoneName,
      });
      const target = route53.RecordTarget.fromAlias(new route53Targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'AssetsAlias', { zone, recordName: cfg.domainName, target });
      new route53.AaaaRecord(this, 'AssetsAliasV6', { zone, recordName: cfg.domainName, target });
    }

    this.assetsBaseUrl = `https://${cfg.domainName ?? this.distribution.distributionDomainName}`;

    new cdk.CfnOutput(this, 'UploadsBucketName', { value: this.uploadsBucket.bucketName, description: 'UPLOADS_BUCKET of the Flask app' });
    new cdk.CfnOutput(this, 'AssetsBucketName', { value: this.assetsBucket.bucketName, description: 'ASSETS_BUCKET of the Flask app' });
    new cdk.CfnOutput(this, 'AssetsBaseUrl', { value: this.assetsBaseUrl, description: 'ASSETS_BASE_URL of the Flask app (avatar URLs: <base>/<key>?v=<version>)' });
    new cdk.CfnOutput(this, 'DistributionId', { value: this.distribution.distributionId });
    new cdk.CfnOutput(this, 'AvatarTopicArn', { value: this.topic.topicArn, description: 'SNS_TOPIC_ARNS of the Flask app (the webhook accepts this topic)' });
    new cdk.CfnOutput(this, 'ProcessImagesFunctionName', { value: this.fn.functionName });
  }
}
