// The alarms that page someone, through an encrypted SNS topic the admin subscribes to. Each says what it means and
// what to do, with the commands for this stage: whoever is on call reads the description in the email.
import { Duration, type RemovalPolicy, type Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { FUNCTION_NAMES, type FunctionName } from '../functions/catalog.js';
import type { NotificationConfig } from './config.js';
import { serviceMetric } from './metrics.js';
import { pascalCase } from './names.js';
import type { NotificationFunction } from './notification-function.js';

const FIVE_MINUTES = Duration.minutes(5);
/** The failure rate's window: long enough for a rate to mean something, short enough to page before a day is lost. */
export const FAILURE_RATE_PERIOD = Duration.minutes(15);
/** How long the provider circuit may stay open before someone is paged: 3 periods of 5 minutes, open in each. */
export const CIRCUIT_OPEN_PERIODS = 3;

/** What a function's failure means, and where to look first, beyond its logs. */
const ERRORS_MEAN: Partial<Record<FunctionName, (stage: string) => string>> = {
  ingest: () =>
    'callers got a 5xx and retry with their idempotency key; a DynamoDB or SQS outage or throttling is the usual cause',
  sender: () =>
    'its messages go back to the queue, and to the DLQ after 5 receives; no notification is lost (the table holds ' +
    'each one and the sweep re-sends what is due)',
  'retry-sweep': (stage) =>
    `due notifications wait for the next run (every 30 minutes); run it now with npm run retry -- --stage ${stage} --verbose`,
  'health-check': (stage) =>
    `the hourly check and its alert emails did not run; run it with npm run health -- --stage ${stage} --dry-run`,
  'provider-probe': (stage) =>
    `an open provider circuit is neither probed nor closed; npm run circuit -- --stage ${stage} --status, then --close ` +
    'once WaChap works',
  'operator-read': (stage) => `operators' reads (npm run notifications -- --stage ${stage} …) answered 5xx`,
  'operator-actions': (stage) =>
    `operators' cancels and re-drives (npm run notifications -- --stage ${stage} …) answered 5xx`,
  'callback-dispatcher': () =>
    'its status callbacks go back to their queue and are tried again (then to the callback DLQ); no notification is ' +
    'affected, only what callers hear of them',
  'api-docs': () => 'GET /v1/openapi.json answered 5xx: callers cannot read the contract (openapi.json in the repo)',
};

export interface NotificationAlarms {
  topic: sns.Topic;
  /** Every alarm, for the dashboard's alarm status widget. */
  alarms: cloudwatch.Alarm[];
}

/** The alarms, each acting on the topic. */
export function addAlarms(
  stack: Stack,
  props: {
    config: NotificationConfig;
    keyRemovalPolicy: RemovalPolicy;
    sendDlq: sqs.IQueue;
    callbackDlq: sqs.IQueue;
    prioritySendQueue: sqs.IQueue;
    functions: { readonly [N in FunctionName]: NotificationFunction<N> };
    api: apigw.RestApi;
  },
): NotificationAlarms {
  const { config } = props;
  const stage = config.stage;
  const topic = alarmTopic(stack, config, props.keyRemovalPolicy);
  const action = new SnsAction(topic);
  const alarms: cloudwatch.Alarm[] = [];
  const add = (id: string, alarmProps: cloudwatch.AlarmProps) => {
    const alarm = new cloudwatch.Alarm(stack, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...alarmProps,
    });
    alarm.addAlarmAction(action);
    alarms.push(alarm);
    return alarm;
  };
  // At least once in five minutes: each of these is worth a look at once.
  const atLeastOnce = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
    add(id, {
      alarmDescription,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

  atLeastOnce(
    'SendDlqNotEmpty',
    'A notification message failed 5 receives and sits in the send DLQ. The notification is not lost (the table ' +
      'holds it, the sweep re-sends it when due): find why the sender failed on it (dashboard, latest failures), ' +
      `read its id with aws sqs receive-message --queue-url ${props.sendDlq.queueUrl}, check it with ` +
      `npm run notifications -- --stage ${stage} show <id>, then empty the DLQ with aws sqs purge-queue --queue-url ` +
      `${props.sendDlq.queueUrl}`,
    props.sendDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
  );
  atLeastOnce(
    'CallbackDlqNotEmpty',
    "A status callback was given up on after 24 h of retries (or was unreadable): the caller's receiver missed an " +
      'event. Read which with aws sqs receive-message --queue-url ' +
      `${props.callbackDlq.queueUrl} (each names its notification, which shows callbackExhausted: npm run ` +
      `notifications -- --stage ${stage} show <id>), tell the caller, then purge the queue`,
    props.callbackDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
  );
  // An OTP is valid 10 minutes: one waiting a minute means the priority lane is stalled (the sender failing, its
  // event source disabled, its share of the rate too small for the traffic).
  add('PriorityLaneStalled', {
    alarmDescription:
      'The oldest message on the priority lane (OTPs) is over 60 s old: check the sender errors and its event source, ' +
      'then PRIORITY_SENDS_PER_SECOND against the OTP traffic',
    metric: props.prioritySendQueue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 60,
    evaluationPeriods: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  });
  // One per function of the catalog: a function added there is watched without a line here.
  for (const name of FUNCTION_NAMES) {
    const fn = props.functions[name];
    const meaning = ERRORS_MEAN[name]?.(stage) ?? 'its invocations failed';
    atLeastOnce(
      `${pascalCase(name)}Errors`,
      `The ${name} function failed (an unhandled error or a timeout): ${meaning}. Read its errors with ` +
        `aws logs tail ${fn.logGroup.logGroupName} --since 1h --filter-pattern ERROR`,
      fn.lambda.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
    );
  }
  atLeastOnce(
    'Api5xx',
    'The notifications API answered 5xx: the ingest (or operator) function Errors alarm says which one failed; a ' +
      '5xx without one is API Gateway itself (its execution logs)',
    props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
  );

  // The failure rate over WaChap attempts, as the health check computes it (its threshold and minimum attempts),
  // over 15 minutes instead of an hour. FILL: a quarter of an hour without sends or without failures is 0, not missing.
  const rateMinAttempts = config.alertFailureRateMinAttempts;
  add('SendFailureRate', {
    alarmDescription:
      `Over ${Math.round(config.alertFailureRateThreshold * 100)} % of WaChap attempts failed in 15 minutes (at least ` +
      `${rateMinAttempts} attempts). The dashboard shows the failures by class. Provider: npm run circuit -- --stage ` +
      `${stage} --status, and WaChap's own dashboard (instance connected, subscription paid). Recipient: npm run ` +
      `notifications -- --stage ${stage} list --status=permanent_failure --since=1h (bad numbers upstream). ` +
      `Transient (timeouts, 5xx, 429): retried with backoff; act if it lasts (WaChap's status, WACHAP_TIMEOUT_MS). ` +
      `Failed ones: npm run notifications -- --stage ${stage} list --status=failed --since=1h`,
    metric: new cloudwatch.MathExpression({
      expression: `IF(FILL(sent, 0) + FILL(failed, 0) >= ${rateMinAttempts}, FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0)), 0)`,
      usingMetrics: {
        sent: serviceMetric(stage, 'NotificationsSent', { period: FAILURE_RATE_PERIOD }),
        failed: serviceMetric(stage, 'SendFailures', { period: FAILURE_RATE_PERIOD }),
      },
      period: FAILURE_RATE_PERIOD,
      label: 'Failed attempts / attempts',
    }),
    threshold: config.alertFailureRateThreshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  });
  // The health check publishes the backlog's age once an hour: one hourly point over the limit is enough.
  add('BacklogTooOld', {
    alarmDescription:
      `The oldest due notification has waited over ${config.alarmBacklogAgeMinutes} minutes: the sweep or the senders ` +
      `are not keeping up. Check the retry-sweep and sender Errors alarms, see what is due with npm run retry -- ` +
      `--stage ${stage} --dry-run --verbose, queue it now with npm run retry -- --stage ${stage}; while the provider ` +
      `circuit is open the backlog waits for it (npm run circuit -- --stage ${stage} --status)`,
    metric: serviceMetric(stage, 'OldestDueAge', { period: Duration.hours(1) }),
    threshold: config.alarmBacklogAgeMinutes * 60,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  });
  // The probe publishes the state every minute: open (1) in three 5-minute periods in a row is 15 minutes open.
  add('ProviderCircuitOpen', {
    alarmDescription:
      'The WaChap provider circuit has been open for 15 minutes: nothing is sent, every notification waits (none is ' +
      `lost, none burns an attempt). npm run circuit -- --stage ${stage} --status says why. Fix it at WaChap: renew ` +
      'the subscription, re-pair the instance (scan the QR code), or put a new token in the WaChapSecretArn secret. ' +
      `Then npm run circuit -- --stage ${stage} --close releases the held notifications at once (the probe would ` +
      'within a minute)',
    metric: serviceMetric(stage, 'ProviderCircuitOpen', { period: FIVE_MINUTES }),
    threshold: 1,
    evaluationPeriods: CIRCUIT_OPEN_PERIODS,
    datapointsToAlarm: CIRCUIT_OPEN_PERIODS,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  });
  return { topic, alarms };
}

function alarmTopic(stack: Stack, config: NotificationConfig, keyRemovalPolicy: RemovalPolicy): sns.Topic {
  // CloudWatch cannot publish to a topic under the AWS-managed SNS key, hence a key of our own.
  const key = new kms.Key(stack, 'AlarmTopicKey', {
    description: 'Encrypts the notifications alarm topic',
    enableKeyRotation: true,
    removalPolicy: keyRemovalPolicy,
    pendingWindow: Duration.days(7),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  const topic = new sns.Topic(stack, 'AlarmTopic', {
    displayName: `WaChap notifications alarms (${config.stage})`,
    masterKey: key,
    enforceSSL: true,
  });
  // Only an address given for this (alarmEmail, in the template): the admin's own address lives in a secret, and is
  // subscribed after deploying with the command of the AlarmTopicArn output.
  if (config.alarmEmail) topic.addSubscription(new EmailSubscription(config.alarmEmail));
  return topic;
}
