// The API's guards on AWS besides the key: the usage plan's daily quota, the stage's own throttle, and a WAF
// rate-based rule per source IP (which the configuration can turn off, and then cdk-nag's APIG3 is acknowledged).
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_CONTEXT, removeSyntheses, synthesize } from '../support/cdk-stack.js';

afterAll(removeSyntheses);

describe('API hardening', () => {
  const { stack, template } = synthesize();

  it('gives the upstream key a daily quota besides its rate, 20,000 by default', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: 20_000, Period: 'DAY' },
      Throttle: { RateLimit: 10, BurstLimit: 20 },
    });
  });

  it('throttles the stage itself, for every caller together', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
  });

  it('puts a WAF rate-based rule per source IP in front of the stage', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 6000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
        }),
      ],
    });
    const [association] = Object.values(template.findResources('AWS::WAFv2::WebACLAssociation'));
    expect(JSON.stringify(association?.Properties.ResourceArn)).toContain(
      stack.getLogicalId(stack.api.deploymentStage.node.defaultChild as never),
    );
  });

  it('takes the quota, the stage throttle and the WAF limit from the context, and can leave WAF out', () => {
    const custom = synthesize({
      ...FULL_CONTEXT,
      apiDailyQuota: '500',
      stageRateLimit: '5',
      stageBurstLimit: '7',
      wafRateLimitPer5Minutes: '0',
    }).template;

    custom.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Quota: { Limit: 500, Period: 'DAY' } });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 })]),
    });
    custom.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('gives each upstream caller its own key and usage plan, the first keeping the ids it was deployed with', () => {
    const { template, stack } = synthesize({
      ...FULL_CONTEXT,
      apiDailyQuota: '500',
      apiCallers: '[{"name":"boutique","dailyQuota":50,"rateLimit":2},{"name":"douane-sync"}]',
    });

    const plans = template.findResources('AWS::ApiGateway::UsagePlan');
    const byName = Object.fromEntries(
      Object.entries(plans).map(([id, plan]) => [String(plan.Properties.UsagePlanName), { id, ...plan.Properties }]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      'wachap-notifications-test',
      'wachap-notifications-test-boutique',
      'wachap-notifications-test-douane-sync',
    ]);
    expect(byName['wachap-notifications-test']).toMatchObject({ Quota: { Limit: 500 }, Throttle: { RateLimit: 10 } });
    expect(byName['wachap-notifications-test-boutique']).toMatchObject({
      Quota: { Limit: 50 },
      Throttle: { RateLimit: 2, BurstLimit: 20 },
    });
    expect(byName['wachap-notifications-test-douane-sync']).toMatchObject({ Quota: { Limit: 500 } });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 3);
    expect(Object.keys(template.findResources('AWS::ApiGateway::ApiKey')).sort()).toEqual(
      ['BoutiqueApiKey', 'DouaneSyncApiKey', 'UpstreamApiKey'].map((id) => expect.stringMatching(new RegExp(`^${id}`))),
    );
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 3);
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['ApiKeyId', 'BoutiqueApiKeyId', 'DouaneSyncApiKeyId']),
    );
    void stack;
  });

  it('refuses a caller list with a bad or repeated name, naming the key', () => {
    expect(() => synthesize({ ...FULL_CONTEXT, apiCallers: '[{"name":"Boutique"}]' })).toThrow(/apiCallers/);
    expect(() => synthesize({ ...FULL_CONTEXT, apiCallers: '[{"name":"a"},{"name":"a"}]' })).toThrow(/unique/);
    expect(() => synthesize({ ...FULL_CONTEXT, apiCallers: '[{"name":"upstream"}]' })).toThrow(/stack's own key/);
    expect(() => synthesize({ ...FULL_CONTEXT, apiCallers: 'not json' })).toThrow(/JSON array/);
  });

  it("refuses a priority lane that would take all of WaChap's rate, naming the key", () => {
    expect(() => synthesize({ ...FULL_CONTEXT, wachapMaxSendsPerSecond: '5', prioritySendsPerSecond: '5' })).toThrow(
      /-c prioritySendsPerSecond: must be below wachapMaxSendsPerSecond \(5\)/,
    );
  });

  it('refuses a WAF limit AWS would refuse, naming the key', () => {
    expect(() => synthesize({ ...FULL_CONTEXT, wafRateLimitPer5Minutes: '5' })).toThrow(/wafRateLimitPer5Minutes/);
  });
});
