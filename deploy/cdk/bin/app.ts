#!/usr/bin/env node
// The CDK app: reads the avatar:* context (cdk.json, -c) and the environment overrides, validates
// them (lib/config.ts) and builds the one stack. No lookups: synth needs no AWS account.
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { AvatarStack } from '../lib/avatar-stack';
import { ConfigError, loadConfig, type AvatarConfig } from '../lib/config';

const app = new cdk.App();
let config: AvatarConfig;
try {
  config = loadConfig({
    context: app.node.getAllContext(),
    env: process.env,
    baseDir: path.resolve(__dirname, '..', '..'), // deploy/cdk (this file runs from out/bin; cdk.json's app compiles first)
  });
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}

// Environment-agnostic unless CDK_DEPLOY_ACCOUNT and CDK_DEPLOY_REGION are set: deploy goes to the CLI's account.
const account = process.env.CDK_DEPLOY_ACCOUNT;
const region = process.env.CDK_DEPLOY_REGION;
new AvatarStack(app, config.stackName, {
  config,
  env: account && region ? { account, region } : undefined,
  description: 'libthumb avatars: uploads -> process-images Lambda -> assets behind CloudFront (?v= versioned URLs)',
});
app.synth();
