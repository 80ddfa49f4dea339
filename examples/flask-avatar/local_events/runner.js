#!/usr/bin/env node
// local_events: the uploads bucket's "ObjectCreated:Put -> process-images Lambda" trigger, locally.
//
// The real stack has S3 invoke the Lambda on every upload. moto_server cannot run a Node Lambda,
// but it does deliver S3 event notifications to SQS. So this runner
//   1. creates an SQS queue and points the uploads bucket's ObjectCreated:Put notification at it
//      (prefix FOLDER_INPUT/, as the stack's filter would),
//   2. long-polls the queue and calls the Lambda handler (required in-process from --handler, the
//      unpacked dist/process-images.zip or lambda/process-images) with a one-record S3 event,
//   3. deletes the message once the handler returned - or once it failed --max-attempts times.
//
// Exactly once: a message is deleted only after its event was handled; SQS hands a message that is
// in flight to nobody else (visibility timeout longer than any job), and a redelivered message id
// that was already handled is deleted without a second call. Events are handled one at a time.
// A corrupt upload: the handler logs and skips it (or throws; after --max-attempts tries the runner
// logs and drops it). SIGINT/SIGTERM: stop polling, let the job in hand finish, exit 0.
//
//   node runner.js --handler DIR [--bucket NAME] [--prefix PREFIX] [--queue NAME]
//                  [--max-attempts N] [--timeout SECONDS] [--once]
// Environment: AWS_ENDPOINT_URL_S3 (moto_server; also used for SQS unless AWS_ENDPOINT_URL_SQS is
// set), UPLOADS_BUCKET, FOLDER_INPUT, and what the handler reads (DEST_BUCKET_NAME, FOLDER_OUTPUT,
// PROCESS_WIDTH, PROCESS_HEIGHT, ...): the handler runs in this process, with this environment.
"use strict";

// Node 20 is what this machine has; the SDK's notice that its releases from 2027 on want Node 22
// would otherwise open every start's log (set the variable to "false" to see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const path = require("node:path");
const {
  S3Client,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
} = require("@aws-sdk/client-s3");
const {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  ChangeMessageVisibilityCommand,
} = require("@aws-sdk/client-sqs");

function log(...args) {
  console.log(new Date().toISOString(), "local_events:", ...args);
}

function parseArgs(argv) {
  const env = process.env;
  const opts = {
    handler: null,
    bucket: env.UPLOADS_BUCKET || "cruddur-uploaded-avatars",
    prefix: (env.FOLDER_INPUT || "avatars/original").replace(/^\/+|\/+$/g, "") + "/",
    queue: null,
    maxAttempts: 3,
    timeoutMs: 60000,
    once: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--handler") opts.handler = next();
    else if (a === "--bucket") opts.bucket = next();
    else if (a === "--prefix") opts.prefix = next();
    else if (a === "--queue") opts.queue = next();
    else if (a === "--max-attempts") opts.maxAttempts = Number(next());
    else if (a === "--timeout") opts.timeoutMs = Number(next()) * 1000;
    else if (a === "--once") opts.once = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.handler) throw new Error("--handler DIR is required (the unpacked Lambda: index.js with handler)");
  if (!Number.isInteger(opts.maxAttempts) || opts.maxAttempts < 1) throw new Error("--max-attempts must be >= 1");
  if (!(opts.timeoutMs > 0)) throw new Error("--timeout must be > 0");
  if (opts.prefix === "/") opts.prefix = "";
  opts.queue = opts.queue || `${opts.bucket.replace(/[^A-Za-z0-9_-]/g, "-")}-events`;
  return opts;
}

function clients() {
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  if (!s3Endpoint) throw new Error("AWS_ENDPOINT_URL_S3 is not set (the local moto_server)");
  const sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL || s3Endpoint;
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
  };
  return {
    s3: new S3Client({ endpoint: s3Endpoint, forcePathStyle: true, region, credentials }),
    sqs: new SQSClient({ endpoint: sqsEndpoint, region, credentials }),
  };
}

// Queue + bucket notification (both idempotent). Returns the queue URL.
async function configure({ s3, sqs }, opts) {
  await s3.send(new HeadBucketCommand({ Bucket: opts.bucket })); // a clear error if it is missing
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: opts.queue,
      // longer than any job: a message in hand is never handed out twice
      Attributes: { VisibilityTimeout: "300", ReceiveMessageWaitTimeSeconds: "0" },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const rule = { QueueArn: Attributes.QueueArn, Events: ["s3:ObjectCreated:Put"] };
  if (opts.prefix) rule.Filter = { Key: { FilterRules: [{ Name: "prefix", Value: opts.prefix }] } };
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: opts.bucket,
      NotificationConfiguration: { QueueConfigurations: [rule] },
    }),
  );
  return QueueUrl;
}

function loadHandler(dir) {
  const abs = path.resolve(dir);
  const mod = require(abs);
  const fn = mod.handler;
  if (typeof fn !== "function") throw new Error(`${abs} exports no handler function`);
  return fn;
}

// The S3 records of one SQS message body ([] for S3's s3:TestEvent and anything else).
function recordsOf(body) {
  let msg;
  try {
    msg = JSON.parse(body);
  } catch (_) {
    return null;
  }
  if (!msg || !Array.isArray(msg.Records)) return [];
  return msg.Records.filter((r) => r && r.eventSource === "aws:s3" && r.s3 && r.s3.object);
}

function decodedKey(record) {
  try {
    return decodeURIComponent(String(record.s3.object.key).replace(/\+/g, " "));
  } catch (_) {
    return String(record.s3.object.key);
  }
}

// A Lambda has a timeout too: a job that never settles counts as failed (and is retried or dropped).
function withTimeout(promise, ms) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handler timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([Promise.resolve(promise), limit]).finally(() => clearTimeout(timer));
}

class Runner {
  constructor(opts, c, handler, queueUrl) {
    Object.assign(this, { opts, c, handler, queueUrl });
    this.stopping = false;
    this.abort = null;
    this.handled = new Set(); // message ids handled (a redelivery is deleted, not re-run)
    this.counts = { processed: 0, failed: 0, dropped: 0 };
  }

  stop() {
    if (this.stopping) return;
    this.stopping = true;
    if (this.abort) this.abort.abort();
  }

  async del(m) {
    await this.c.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }

  remember(id) {
    this.handled.add(id);
    if (this.handled.size > 10000) this.handled.delete(this.handled.values().next().value);
  }

  // One message: every S3 record in it goes to the handler as a one-record event.
  async handle(m) {
    if (this.handled.has(m.MessageId)) {
      log(`message ${m.MessageId} was handled already: deleting the redelivery`);
      return this.del(m);
    }
    const records = recordsOf(m.Body);
    if (records === null) {
      log(`message ${m.MessageId} is not JSON: dropped`);
      this.counts.dropped++;
      return this.del(m);
    }
    const attempt = Number((m.Attributes || {}).ApproximateReceiveCount || 1);
    for (const record of records) {
      const key = decodedKey(record);
      const t0 = Date.now();
      try {
        const result = await withTimeout(
          this.handler({ Records: [record] }, { functionName: "process-images", awsRequestId: m.MessageId }),
          this.opts.timeoutMs,
        );
        const ms = Date.now() - t0;
        log(`${record.s3.bucket.name}/${key}: handler done in ${ms} ms${result === undefined ? "" : ": " + JSON.stringify(result).slice(0, 300)}`);
        this.counts.processed++;
      } catch (e) {
        this.counts.failed++;
        const why = (e && (e.stack || e.message)) || String(e);
        if (attempt < this.opts.maxAttempts) {
          log(`${key}: handler failed (attempt ${attempt} of ${this.opts.maxAttempts}), retrying: ${why}`);
          await this.c.sqs.send(
            new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 2 }),
          );
          return; // the whole message comes back; its records are idempotent (same key, same output)
        }
        log(`${key}: handler failed ${attempt} times, dropping the event: ${why}`);
        this.counts.dropped++;
      }
    }
    this.remember(m.MessageId);
    await this.del(m);
  }

  async run() {
    while (!this.stopping) {
      this.abort = new AbortController();
      let res;
      try {
        res = await this.c.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.opts.once ? 1 : 5,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
            AttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.abort.signal },
        );
      } catch (e) {
        if (this.stopping) break;
        log(`receive failed (${e.name}: ${e.message}); retrying in 1 s`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      const msgs = res.Messages || [];
      for (const m of msgs) {
        // a job in hand is finished even when a stop was asked (no half-written avatar)
        await this.handle(m);
        if (this.stopping) break; // the rest come back after their visibility timeout
      }
      if (this.opts.once && msgs.length === 0) break;
    }
    const { processed, failed, dropped } = this.counts;
    log(`stopped (${processed} events handled, ${failed} handler failures, ${dropped} dropped)`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const c = clients();
  const handler = loadHandler(opts.handler);
  const queueUrl = await configure(c, opts);
  const runner = new Runner(opts, c, handler, queueUrl);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      log(`${sig}: stopping`);
      runner.stop();
    });
  }
  log(`ready: s3://${opts.bucket}/${opts.prefix}* ObjectCreated:Put -> ${queueUrl} -> ${path.resolve(opts.handler)}`);
  await runner.run();
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`error: ${e && e.message ? e.message : e}`);
    process.exit(1);
  },
);
