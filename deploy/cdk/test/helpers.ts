// Shared by the tests: build the stack from cdk.json's context plus overrides, and small
// template-walking helpers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AvatarStack } from '../lib/avatar-stack';
import { loadConfig, type AvatarConfig } from '../lib/config';

/** deploy/cdk (the tests run from out/test). */
export const CDK_DIR = path.resolve(__dirname, '..', '..');
export const REPO_DIR = path.resolve(CDK_DIR, '..', '..');

export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(CDK_DIR, 'cdk.json'), 'utf8'),
).context;

/** Only the zip location may come from the caller's environment (run-tests leaves it unset). */
function baseEnv(): Record<string, string | undefined> {
  return { THUMBING_FUNCTION_ZIP: process.env.THUMBING_FUNCTION_ZIP };
}

export function config(context: Record<string, unknown> = {}, env: Record<string, string> = {}): AvatarConfig {
  return loadConfig({ context: { ...CDK_JSON_CONTEXT, ...context }, env: { ...baseEnv(), ...env }, baseDir: CDK_DIR });
}

export function synth(context: Record<string, unknown> = {}, env: Record<string, string> = {}): { stack: AvatarStack; template: Template } {
  const cfg = config(context, env);
  const app = new cdk.App();
  const stack = new AvatarStack(app, cfg.stackName, { config: cfg });
  return { stack, template: Template.fromStack(stack) };
}

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The one resource of a type (fails when there are more or none). */
export function only(template: Template, type: string, props?: Json): { id: string; res: Json } {
  const found = template.findResources(type, props ? { Properties: props } : undefined);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  return { id: ids[0], res: found[ids[0]] };
}

/** Logical id of the resource whose logical id starts with the construct id. */
export function idOf(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** Every IAM statement of the template: inline role policies, AWS::IAM::Policy, bucket and topic policies. */
export function allStatements(template: Template): { owner: string; statement: Json }[] {
  const out: { owner: string; statement: Json }[] = [];
  const res = template.toJSON().Resources as Record<string, Json>;
  for (const [id, r] of Object.entries(res)) {
    const docs: Json[] = [];
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::S3::BucketPolicy' || r.Type === 'AWS::SNS::TopicPolicy') {
      docs.push(r.Properties.PolicyDocument);
    }
    for (const d of docs) for (const s of d.Statement) out.push({ owner: id, statement: s });
  }
  return out;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
