// The per-recipient limits from CDK context to the ingest function's environment.
import type { CfnResource } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import type { NotificationContext } from '../../lib/config.js';
import { removeSyntheses, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

function ingestEnvironment(context: Partial<NotificationContext> = {}): Record<string, unknown> {
  const { stack, template } = synthesize({ stage: 'test', ...context });
  const id = stack.getLogicalId(stack.functions.ingest.lambda.node.defaultChild as CfnResource);
  return template.toJSON().Resources[id].Properties.Environment.Variables;
}

describe('NotificationStack: recipientLimits', () => {
  it('leaves RECIPIENT_LIMITS unset without the context key: the function uses its defaults', () => {
    expect(ingestEnvironment()).not.toHaveProperty('RECIPIENT_LIMITS');
  });

  it('hands the context value to the ingest function as RECIPIENT_LIMITS', () => {
    const environment = ingestEnvironment({ recipientLimits: { otp: { max: 3, windowSeconds: 600 } } });

    expect(environment.RECIPIENT_LIMITS).toBe('{"otp":{"max":3,"windowSeconds":600}}');
  });
});
