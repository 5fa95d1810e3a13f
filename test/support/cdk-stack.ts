// The CDK stack as `cdk synth` builds it, for the tests that read its template (the CDK assertions,
// and the least-privilege test that holds each role against the calls its function really makes).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type NotificationContext, parseNotificationConfig, stackNameFor } from '../../lib/config.js';
import type { HandlerName } from '../../lib/notification-function.js';
import { NotificationStack } from '../../lib/notification-stack.js';

export const VALIDATE_FLAG = '@aws-cdk/core:validateAgainstDefaultRules';
export const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

/** Every option set: alerts by email (SES, to *@example.com) and WhatsApp, the alarm subscription, the sender's pace. */
export const FULL_CONTEXT: NotificationContext = {
  stage: 'test',
  alertFromEmail: 'alerts@example.com',
  alertRecipients: '*@example.com',
  alertWhatsappEnabled: 'true',
  alarmEmail: 'oncall@example.com',
  senderMaxConcurrency: '3',
  wachapMaxSendsPerSecond: '8',
  apiRateLimit: '10',
  apiBurstLimit: '20',
};

const outdirs: string[] = [];

/**
 * Synthesizes the stack with cdk.json's feature flags and CloudFormation validation as errors.
 * Unless `bundle` is set, the `aws:cdk:bundling-stacks` context (the CLI's own switch) lists no
 * stack, so NodejsFunction skips esbuild: the template is the same, only the asset is a stub.
 */
export function synthesize(context: NotificationContext = FULL_CONTEXT, options: { bundle?: boolean } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'notification-stack-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      [VALIDATE_FLAG]: true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const config = parseNotificationConfig(context);
  const stack = new NotificationStack(app, stackNameFor(config.stage), {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Deletes every cloud assembly `synthesize` wrote (call it in afterAll). */
export function removeSyntheses(): void {
  for (const outdir of outdirs.splice(0)) rmSync(outdir, { recursive: true, force: true });
}

export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every statement of every AWS::IAM::Policy attached to the function's role. */
export function roleStatements(stack: NotificationStack, template: Template, name: HandlerName): Statement[] {
  const role = stack.functions[name].lambda.role;
  if (!role) throw new Error(`${name} has no role`);
  const roleId = stack.getLogicalId(role.node.defaultChild as CfnResource);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** The IAM actions the function's role is granted, on whatever resource. */
export const grantedActions = (stack: NotificationStack, template: Template, name: HandlerName): Set<string> =>
  new Set(roleStatements(stack, template, name).flatMap((statement) => [statement.Action].flat()));
