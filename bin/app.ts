// CDK entry point: `npx cdk synth -c stage=prod -c alertFromEmail=... -c alertRecipients='*@your-domain'`.
// Context is validated before any construct exists; cdk-nag's AWS Solutions checks run on every synth.
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CONTEXT_KEYS,
  type NotificationConfig,
  parseNotificationConfig,
  StackConfigError,
  stackNameFor,
} from '../lib/config.js';
import { NotificationStack } from '../lib/notification-stack.js';

const app = new App();

let config: NotificationConfig;
try {
  config = parseNotificationConfig(Object.fromEntries(CONTEXT_KEYS.map((key) => [key, app.node.tryGetContext(key)])));
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const stack = new NotificationStack(app, stackNameFor(config.stage), {
  config,
  description: `WhatsApp notifications through WaChap (${config.stage})`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Tags.of(stack).add('project', 'wachap-notifications');
Tags.of(stack).add('stage', config.stage);
// Any unacknowledged finding stops the synth with a report.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
