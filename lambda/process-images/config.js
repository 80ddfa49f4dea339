'use strict';
// The handler's configuration, read once per container (cold start) from the environment, and the key
// rules that go with it. The seed parsed PROCESS_WIDTH/HEIGHT with parseInt and carried on with NaN; a
// typo here now stops the function at start-up with one clear message naming the variable.

const MAX_SIZE = 4096; // libthumb's default max_output_pixels is 4096 x 4096

class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
    this.code = 'CONFIG';
  }
}

// "/avatars/original/" -> "avatars/original"; "" and "/" -> "" (the whole bucket).
function normaliseFolder(value) {
  return String(value ?? '').trim().replace(/^\/+/, '').replace(/\/+$/, '');
}

function readInt(env, name, fallback, min, max, problems) {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback === undefined) {
      problems.push(`${name} is not set (an integer ${min}..${max})`);
      return undefined;
    }
    return fallback;
  }
  const text = String(raw).trim();
  if (!/^[0-9]+$/.test(text)) {
    problems.push(`${name} must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const n = Number(text);
  if (n < min || n > max) {
    problems.push(`${name} must be ${min}..${max}, got ${n}`);
    return undefined;
  }
  return n;
}

function readBool(env, name, problems) {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = String(raw).trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  return undefined;
}

// Every problem is reported at once, so one deploy fixes them all.
function loadConfig(env = process.env) {
  const problems = [];
  const destBucket = String(env.DEST_BUCKET_NAME ?? '').trim();
  if (!destBucket) problems.push('DEST_BUCKET_NAME is not set (the assets bucket)');
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(destBucket)) {
    problems.push(`DEST_BUCKET_NAME is not a valid bucket name: ${JSON.stringify(destBucket)}`);
  }
  const width = readInt(env, 'PROCESS_WIDTH', undefined, 1, MAX_SIZE, problems);
  const height = readInt(env, 'PROCESS_HEIGHT', undefined, 1, MAX_SIZE, problems);
  const concurrency = readInt(env, 'MAX_CONCURRENCY', 4, 1, 64, problems);
  const maxInputBytes = readInt(env, 'MAX_INPUT_BYTES', 64 * 1024 * 1024, 1, 1024 * 1024 * 1024, problems);
  const forcePathStyle = readBool(env, 'S3_FORCE_PATH_STYLE', problems);
  const endpoint = String(env.S3_ENDPOINT ?? '').trim() || undefined;
  if (endpoint && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    problems.push(`S3_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  const topicArn = String(env.AVATAR_TOPIC_ARN ?? '').trim() || undefined;
  if (topicArn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$/.test(topicArn)) {
    problems.push(`AVATAR_TOPIC_ARN is not an SNS topic ARN: ${JSON.stringify(topicArn)}`);
  }
  if (problems.length) {
    throw new ConfigError(`process-images: bad configuration: ${problems.join('; ')}`);
  }
  return Object.freeze({
    destBucket,
    folderInput: normaliseFolder(env.FOLDER_INPUT),
    folderOutput: normaliseFolder(env.FOLDER_OUTPUT),
    width,
    height,
    concurrency,
    maxInputBytes,
    endpoint,
    forcePathStyle,
    topicArn,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  });
}

// S3 event keys are URL-encoded with '+' for spaces: '+' first, then the %XX escapes (a literal '+' in
// a key arrives as %2B, so it survives). A malformed escape returns null: that record is skipped.
function decodeKey(raw) {
  try {
    return decodeURIComponent(String(raw).replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function inFolder(key, folder) {
  return folder === '' || key.startsWith(folder + '/');
}

// The upload's basename without its extension: the user's uuid in the app.
function baseName(key) {
  const file = key.slice(key.lastIndexOf('/') + 1);
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

function dirName(key) {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

function outputKey(config, name) {
  return config.folderOutput ? `${config.folderOutput}/${name}.jpg` : `${name}.jpg`;
}

// Why a key is not ours to process, or null when it is.
function skipReason(config, bucket, key) {
  if (key.endsWith('/')) return 'folder placeholder';
  // The handler's own outputs (`${FOLDER_OUTPUT}/${name}.jpg`): in a same-bucket setup they land where
  // the trigger may see them. Only that exact shape: an input folder below the output folder
  // (avatars/original -> avatars) still works.
  if (bucket === config.destBucket && dirName(key) === config.folderOutput && key.endsWith('.jpg')) {
    return 'own output';
  }
  if (!inFolder(key, config.folderInput)) return 'outside FOLDER_INPUT';
  if (!baseName(key)) return 'no file name';
  return null;
}

module.exports = {
  ConfigError,
  MAX_SIZE,
  loadConfig,
  normaliseFolder,
  decodeKey,
  inFolder,
  baseName,
  outputKey,
  skipReason,
};
