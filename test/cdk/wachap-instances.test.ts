// Several WaChap instances on AWS: the instances live in the WaChap secret (with their tokens, never in the
// template); the failover map is CDK context, handed to the functions that choose an instance.
import type { CfnResource } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { type NotificationContext, parseNotificationConfig } from '../../lib/config.js';
import { removeSyntheses, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

function environments(context: Partial<NotificationContext> = {}) {
  const { stack, template } = synthesize({ stage: 'test', ...context });
  const resources = template.toJSON().Resources;
  const variablesOf = (name: 'sender' | 'provider-probe') =>
    resources[stack.getLogicalId(stack.functions[name].lambda.node.defaultChild as CfnResource)].Properties.Environment
      .Variables as Record<string, unknown>;
  return { sender: variablesOf('sender'), probe: variablesOf('provider-probe'), template };
}

describe('NotificationStack: WaChap instances', () => {
  it('sets no WACHAP_FAILOVER without the context key (no failover), and never WACHAP_INSTANCES', () => {
    const { sender, probe } = environments();
    for (const variables of [sender, probe]) {
      expect(variables).not.toHaveProperty('WACHAP_FAILOVER');
      expect(variables).not.toHaveProperty('WACHAP_INSTANCES');
      expect(variables).toHaveProperty('WACHAP_SECRET_ARN');
    }
  });

  it('hands wachapFailover to the sender and the probe as WACHAP_FAILOVER', () => {
    const { sender, probe } = environments({ wachapFailover: { china: 'mali' } });
    expect(sender.WACHAP_FAILOVER).toBe('{"china":"mali"}');
    expect(probe.WACHAP_FAILOVER).toBe('{"china":"mali"}');
  });

  it('refuses a malformed wachapFailover at synth, naming the key', () => {
    expect(() => parseNotificationConfig({ wachapFailover: { china: 'china' } })).toThrow(
      /wachapFailover.china: an instance cannot stand in for itself/,
    );
    expect(() => parseNotificationConfig({ wachapFailover: '{"china":' })).toThrow(/wachapFailover: must be JSON/);
  });

  it("documents both of the secret's formats in its description and the output", () => {
    const { template } = environments();
    const json = JSON.stringify(template.toJSON());
    expect(json).toContain('{\\"instances\\": [{\\"name\\", \\"instanceId\\", \\"accessToken\\", \\"prefixes\\"');
    expect(json).toMatch(/several instances: '\{\\"instances\\":\[\{\\"name\\":\\"china\\"/);
  });
});
