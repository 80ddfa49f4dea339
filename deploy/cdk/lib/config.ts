// The stack's configuration: cdk.json context keys "avatar:<name>" with their defaults, each
// overridable by an environment variable (the names of the seed's .env where it had one).
// loadConfig() checks every value and reports all problems at once, so a typo or a non-numeric
// size fails the synth with a clear message instead of a Lambda that computes NaN at run time.
import * as fs from 'node:fs';
import * as path from 'node:path';

// nodejs20.x was deprecated on 2026-04-30 (creation blocked from 2027-02-01): not offered.
export const RUNTIMES = ['nodejs22.x', 'nodejs24.x'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
export type PriceClassName = (typeof PRICE_CLASSES)[number];

// CloudWatch Logs accepts only these retention periods.
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

export interface AvatarConfig {
  readonly stackName: string;
  /** Physical names; undefined lets CloudFormation choose a unique one. */
  readonly uploadsBucketName?: string;
  readonly assetsBucketName?: string;
  /** Use an existing assets bucket (assetsBucketName) instead of creating one. */
  readonly importAssetsBucket: boolean;
  /** Origins allowed to PUT to the uploads bucket through a presigned URL (CORS). */
  readonly appOrigins: string[];
  /** Key prefixes, without leading or trailing slash; folderInput may be empty (bucket root). */
  readonly folderInput: string;
  readonly folderOutput: string;
  /** Upload extensions that trigger the Lambda (lower case, no dot). */
  readonly extensions: string[];
  readonly processWidth: number;
  readonly processHeight: number;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly logRetentionDays: number;
  readonly runtime: RuntimeName;
  /** Absolute path of the Lambda zip. */
  readonly lambdaZip: string;
  readonly topicName?: string;
  readonly webhookUrl?: string;
  /** Custom domain of the distribution (e.g. assets.example.com) and its us-east-1 certificate. */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** Route 53 zone for an alias record of domainName (both or neither; no lookup is made). */
  readonly hostedZoneId?: string;
  readonly hostedZoneName?: string;
  readonly priceClass: PriceClassName;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid avatar stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Kind = 'string' | 'int' | 'bool' | 'list';

interface Key {
  readonly env: string;
  readonly kind: Kind;
  readonly doc: string;
}

/** Every key: context name (without the "avatar:" prefix) -> its environment variable. */
export const KEYS: Record<keyof AvatarConfig, Key> = {
  stackName: { env: 'THUMBING_STACK_NAME', kind: 'string', doc: 'CloudFormation stack name' },
  uploadsBucketName: { env: 'UPLOADS_BUCKET_NAME', kind: 'string', doc: 'uploads bucket name (empty: generated)' },
  assetsBucketName: { env: 'ASSETS_BUCKET_NAME', kind: 'string', doc: 'assets bucket name (empty: generated)' },
  importAssetsBucket: { env: 'THUMBING_IMPORT_ASSETS_BUCKET', kind: 'bool', doc: 'import assetsBucketName instead of creating it' },
  appOrigins: { env: 'THUMBING_APP_ORIGINS', kind: 'list', doc: 'CORS origins of the browser app (comma list)' },
  folderInput: { env: 'THUMBING_S3_FOLDER_INPUT', kind: 'string', doc: 'uploads key prefix (FOLDER_INPUT)' },
  folderOutput: { env: 'THUMBING_S3_FOLDER_OUTPUT', kind: 'string', doc: 'assets key prefix (FOLDER_OUTPUT)' },
  extensions: { env: 'THUMBING_EXTENSIONS', kind: 'list', doc: 'upload suffixes that trigger the Lambda' },
  processWidth: { env: 'THUMBING_PROCESS_WIDTH', kind: 'int', doc: 'avatar width (PROCESS_WIDTH)' },
  processHeight: { env: 'THUMBING_PROCESS_HEIGHT', kind: 'int', doc: 'avatar height (PROCESS_HEIGHT)' },
  memorySize: { env: 'THUMBING_MEMORY_MB', kind: 'int', doc: 'Lambda memory in MB' },
  timeoutSeconds: { env: 'THUMBING_TIMEOUT_SECONDS', kind: 'int', doc: 'Lambda timeout in seconds' },
  reservedConcurrency: { env: 'THUMBING_RESERVED_CONCURRENCY', kind: 'int', doc: 'reserved concurrency (empty: none)' },
  logRetentionDays: { env: 'THUMBING_LOG_RETENTION_DAYS', kind: 'int', doc: 'log retention in days' },
  runtime: { env: 'THUMBING_RUNTIME', kind: 'string', doc: 'Lambda runtime' },
  lambdaZip: { env: 'THUMBING_FUNCTION_ZIP', kind: 'string', doc: 'Lambda zip (relative to deploy/cdk)' },
  topicName: { env: 'THUMBING_TOPIC_NAME', kind: 'string', doc: 'SNS topic name (empty: generated)' },
  webhookUrl: { env: 'THUMBING_WEBHOOK_URL', kind: 'string', doc: 'HTTPS webhook subscribed to the topic' },
  domainName: { env: 'THUMBING_ASSETS_DOMAIN', kind: 'string', doc: 'custom domain of the distribution' },
  certificateArn: { env: 'THUMBING_CERTIFICATE_ARN', kind: 'string', doc: 'ACM certificate (us-east-1) of domainName' },
  hostedZoneId: { env: 'THUMBING_HOSTED_ZONE_ID', kind: 'string', doc: 'Route 53 zone id for the alias record' },
  hostedZoneName: { env: 'THUMBING_HOSTED_ZONE_NAME', kind: 'string', doc: 'Route 53 zone name for the alias record' },
  priceClass: { env: 'THUMBING_PRICE_CLASS', kind: 'string', doc: 'CloudFront price class' },
};

export const CONTEXT_PREFIX = 'avatar:';

/** The defaults, also written in cdk.json (a test keeps the two equal). */
export const DEFAULTS = {
  stackName: 'ThumbingServerlessCdkStack',
  uploadsBucketName: '',
  assetsBucketName: '',
  importAssetsBucket: false,
  appOrigins: ['http://localhost:3000'],
  folderInput: 'avatars/original',
  folderOutput: 'avatars',
  extensions: ['jpg', 'jpeg', 'png'],
  processWidth: 512,
  processHeight: 512,
  memorySize: 512,
  timeoutSeconds: 30,
  reservedConcurrency: '',
  logRetentionDays: 30,
  runtime: 'nodejs22.x',
  lambdaZip: '../../dist/process-images.zip',
  topicName: '',
  webhookUrl: '',
  domainName: '',
  certificateArn: '',
  hostedZoneId: '',
  hostedZoneName: '',
  priceClass: 'PriceClass_100',
} satisfies Record<keyof AvatarConfig, unknown>;

export interface LoadOptions {
  /** Node context (app.node.getAllContext()): cdk.json "context" and -c values. */
  readonly context?: Record<string, unknown>;
  /** Environment; a set, non-empty variable wins over the context. */
  readonly env?: Record<string, string | undefined>;
  /** Directory lambdaZip is relative to (deploy/cdk). */
  readonly baseDir?: string;
  /** Check that lambdaZip exists (default true). */
  readonly checkZip?: boolean;
}

const BUCKET_RE = /^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!.*--ol-s3$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const FOLDER_RE = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function loadConfig(opts: LoadOptions = {}): AvatarConfig {
  const context = opts.context ?? {};
  const env = opts.env ?? {};
  const baseDir = opts.baseDir ?? path.resolve(__dirname, '..', '..');
  const problems: string[] = [];

  for (const k of Object.keys(context)) {
    if (k.startsWith(CONTEXT_PREFIX) && !(k.slice(CONTEXT_PREFIX.length) in KEYS)) {
      problems.push(`unknown context key "${k}" (known: ${Object.keys(KEYS).map((n) => CONTEXT_PREFIX + n).join(', ')})`);
    }
  }

  // The raw value of a key and where it came from, for the messages.
  const raw = (name: keyof AvatarConfig): { value: unknown; from: string } => {
    const key = KEYS[name];
    const e = env[key.env];
    if (e !== undefined && e !== '') return { value: e, from: `env ${key.env}` };
    const c = CONTEXT_PREFIX + name;
    if (c in context) return { value: context[c], from: `context ${c}` };
    return { value: DEFAULTS[name], from: `default of ${c}` };
  };

  const str = (name: keyof AvatarConfig): string | undefined => {
    const { value, from } = raw(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      problems.push(`${from}: expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    const v = value.trim();
    return v === '' ? undefined : v;
  };

  const int = (name: keyof AvatarConfig, min: number, max: number, required = true): number | undefined => {
    const { value, from } = raw(name);
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      if (required) problems.push(`${from}: a value is required`);
      return undefined;
    }
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) n = Number(value);
    else {
      problems.push(`${from}: ${JSON.stringify(value)} is not an integer`);
      return undefined;
    }
    if (!Number.isInteger(n)) {
      problems.push(`${from}: ${JSON.stringify(value)} is not an integer`);
      return undefined;
    }
    if (n < min || n > max) {
      problems.push(`${from}: ${n} is out of range ${min}..${max}`);
      return undefined;
    }
    return n;
  };

  const bool = (name: keyof AvatarConfig): boolean => {
    const { value, from } = raw(name);
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())) return true;
    if (typeof value === 'string' && /^(false|0|no|)$/i.test(value.trim())) return false;
    problems.push(`${from}: ${JSON.stringify(value)} is not a boolean (true/false)`);
    return false;
  };

  const list = (name: keyof AvatarConfig): string[] => {
    const { value, from } = raw(name);
    let items: unknown[];
    if (Array.isArray(value)) items = value;
    else if (typeof value === 'string') items = value.split(',');
    else {
      problems.push(`${from}: expected a list (JSON array or comma-separated string), got ${JSON.stringify(value)}`);
      return [];
    }
    const out: string[] = [];
    for (const item of items) {
      if (typeof item !== 'string') {
        problems.push(`${from}: list item ${JSON.stringify(item)} is not a string`);
        continue;
      }
      const s = item.trim();
      if (s !== '') out.push(s);
    }
    return out;
  };

  const folder = (name: 'folderInput' | 'folderOutput', required: boolean): string => {
    const v = str(name) ?? '';
    const from = raw(name).from;
    if (v === '') {
      if (required) problems.push(`${from}: must not be empty (the Lambda may write only under this prefix)`);
      return v;
    }
    if (v.startsWith('/') || v.endsWith('/')) {
      problems.push(`${from}: "${v}" must not start or end with "/" (S3 keys have no leading slash; write "${v.replace(/^\/+|\/+$/g, '')}")`);
    } else if (!FOLDER_RE.test(v)) {
      problems.push(`${from}: "${v}" is not a key prefix of safe characters (letters, digits, !_.*'()- and "/" between parts)`);
    }
    return v;
  };

  const bucketName = (name: 'uploadsBucketName' | 'assetsBucketName'): string | undefined => {
    const v = str(name);
    if (v !== undefined && (!BUCKET_RE.test(v) || v.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(v))) {
      problems.push(`${raw(name).from}: "${v}" is not a valid S3 bucket name (3-63 characters: a-z 0-9 . -)`);
    }
    return v;
  };

  const stackName = str('stackName') ?? '';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    problems.push(`${raw('stackName').from}: "${stackName}" is not a CloudFormation stack name`);
  }

  const uploadsBucketName = bucketName('uploadsBucketName');
  const assetsBucketName = bucketName('assetsBucketName');
  const importAssetsBucket = bool('importAssetsBucket');
  if (importAssetsBucket && assetsBucketName === undefined) {
    problems.push(`${raw('importAssetsBucket').from}: importing the assets bucket needs avatar:assetsBucketName (${KEYS.assetsBucketName.env})`);
  }
  if (uploadsBucketName !== undefined && uploadsBucketName === assetsBucketName) {
    problems.push(`uploads and assets bucket must differ (both "${uploadsBucketName}"): the Lambda would trigger itself`);
  }

  const appOrigins = list('appOrigins');
  if (appOrigins.length === 0) problems.push(`${raw('appOrigins').from}: at least one origin is needed for the browser's presigned PUT`);
  for (const o of appOrigins) {
    if (o === '*') {
      problems.push(`${raw('appOrigins').from}: "*" is not allowed; list the app's origins (e.g. https://example.com)`);
    } else if (!/^https?:\/\/([a-z0-9-]+\.)*[a-z0-9-]+(:\d{1,5})?$/.test(o)) {
      problems.push(`${raw('appOrigins').from}: "${o}" is not an origin (scheme://host[:port], lower case, no path or trailing slash)`);
    }
  }

  const folderInput = folder('folderInput', false);
  const folderOutput = folder('folderOutput', true);

  const extensions = list('extensions');
  if (extensions.length === 0) problems.push(`${raw('extensions').from}: at least one extension is needed`);
  for (const e of extensions) {
    if (!/^[a-z0-9]{1,10}$/.test(e)) {
      problems.push(`${raw('extensions').from}: "${e}" is not a lower-case extension without a dot (e.g. jpg)`);
    }
  }
  if (new Set(extensions).size !== extensions.length) problems.push(`${raw('extensions').from}: duplicate extensions`);

  // 4096: the Lambda's own bound (libthumb's default max_output_pixels is 4096 x 4096).
  const processWidth = int('processWidth', 1, 4096);
  const processHeight = int('processHeight', 1, 4096);
  const memorySize = int('memorySize', 128, 10240);
  const timeoutSeconds = int('timeoutSeconds', 1, 900);
  const reservedConcurrency = int('reservedConcurrency', 1, 100000, false);
  const logRetentionDays = int('logRetentionDays', 1, 3653);
  if (logRetentionDays !== undefined && !(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    problems.push(`${raw('logRetentionDays').from}: ${logRetentionDays} is not a CloudWatch Logs retention (one of ${LOG_RETENTION_DAYS.join(', ')})`);
  }

  const runtime = str('runtime') ?? '';
  if (!(RUNTIMES as readonly string[]).includes(runtime)) {
    const note = runtime === 'nodejs20.x' ? ' (nodejs20.x was deprecated on 2026-04-30; the addon is Node-API, so a newer Node loads it)' : '';
    problems.push(`${raw('runtime').from}: "${runtime}" is not one of ${RUNTIMES.join(', ')}${note}`);
  }

  const zipRel = str('lambdaZip') ?? '';
  const lambdaZip = path.resolve(baseDir, zipRel);
  if (!zipRel.endsWith('.zip')) {
    problems.push(`${raw('lambdaZip').from}: "${zipRel}" is not a .zip file`);
  } else if ((opts.checkZip ?? true) && !fs.existsSync(lambdaZip)) {
    problems.push(`${raw('lambdaZip').from}: ${lambdaZip} does not exist (build it: bash lambda/process-images/build)`);
  }

  const topicName = str('topicName');
  if (topicName !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(topicName)) {
    problems.push(`${raw('topicName').from}: "${topicName}" is not an SNS topic name (letters, digits, _ -)`);
  }

  const webhookUrl = str('webhookUrl');
  if (webhookUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(webhookUrl);
    } catch {
      problems.push(`${raw('webhookUrl').from}: "${webhookUrl}" is not a URL`);
    }
    if (u && u.protocol !== 'https:') {
      problems.push(`${raw('webhookUrl').from}: "${webhookUrl}" must be https:// (SNS would deliver the messages in clear text)`);
    }
  }

  const domainName = str('domainName');
  const certificateArn = str('certificateArn');
  if (domainName !== undefined && !DOMAIN_RE.test(domainName)) {
    problems.push(`${raw('domainName').from}: "${domainName}" is not a lower-case domain name`);
  }
  if (domainName !== undefined && certificateArn === undefined) {
    problems.push(`${raw('domainName').from}: a custom domain needs avatar:certificateArn (${KEYS.certificateArn.env})`);
  }
  if (certificateArn !== undefined) {
    if (domainName === undefined) {
      problems.push(`${raw('certificateArn').from}: a certificate needs avatar:domainName (${KEYS.domainName.env})`);
    }
    if (!/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)) {
      problems.push(`${raw('certificateArn').from}: "${certificateArn}" is not an ACM certificate ARN in us-east-1 (CloudFront takes certificates only from us-east-1)`);
    }
  }
  const hostedZoneId = str('hostedZoneId');
  const hostedZoneName = str('hostedZoneName');
  if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) {
    problems.push(`avatar:hostedZoneId and avatar:hostedZoneName go together (both or neither)`);
  }
  if (hostedZoneId !== undefined) {
    if (domainName === undefined) problems.push(`${raw('hostedZoneId').from}: an alias record needs avatar:domainName`);
    if (!/^Z[A-Z0-9]{1,31}$/.test(hostedZoneId)) problems.push(`${raw('hostedZoneId').from}: "${hostedZoneId}" is not a Route 53 zone id`);
    if (hostedZoneName !== undefined && domainName !== undefined && !(domainName === hostedZoneName || domainName.endsWith('.' + hostedZoneName))) {
      problems.push(`${raw('hostedZoneName').from}: "${domainName}" is not in zone "${hostedZoneName}"`);
    }
  }

  const priceClass = str('priceClass') ?? '';
  if (!(PRICE_CLASSES as readonly string[]).includes(priceClass)) {
    problems.push(`${raw('priceClass').from}: "${priceClass}" is not one of ${PRICE_CLASSES.join(', ')}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    stackName,
    uploadsBucketName,
    assetsBucketName,
    importAssetsBucket,
    appOrigins,
    folderInput,
    folderOutput,
    extensions,
    processWidth: processWidth!,
    processHeight: processHeight!,
    memorySize: memorySize!,
    timeoutSeconds: timeoutSeconds!,
    reservedConcurrency,
    logRetentionDays: logRetentionDays!,
    runtime: runtime as RuntimeName,
    lambdaZip,
    topicName,
    webhookUrl,
    domainName,
    certificateArn,
    hostedZoneId,
    hostedZoneName,
    priceClass: priceClass as PriceClassName,
  };
}
