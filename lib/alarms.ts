// The alarms that page someone, through an encrypted SNS topic the admin subscribes to.
import { Duration, type RemovalPolicy, type Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { NotificationConfig } from './config.js';
import type { NotificationFunction } from './notification-function.js';

const FIVE_MINUTES = Duration.minutes(5);

/** The alarms, each acting on the topic; returns the topic. */
export function addAlarms(
  stack: Stack,
  props: {
    config: NotificationConfig;
    keyRemovalPolicy: RemovalPolicy;
    sendDlq: sqs.IQueue;
    callbackDlq: sqs.IQueue;
    prioritySendQueue: sqs.IQueue;
    sender: NotificationFunction;
    api: apigw.RestApi;
  },
): sns.Topic {
  const topic = alarmTopic(stack, props.config, props.keyRemovalPolicy);
  const action = new SnsAction(topic);
  // At least once in five minutes: each of these is worth a look at once.
  const alarm = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
    new cloudwatch.Alarm(stack, id, {
      alarmDescription,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(action);
  alarm(
    'SendDlqNotEmpty',
    'A notification message failed 5 receives and sits in the send DLQ',
    props.sendDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
  );
  alarm(
    'CallbackDlqNotEmpty',
    "A status callback was given up on after 24 h of retries (or was unreadable): the caller's receiver missed an " +
      'event; its notification shows callbackExhausted',
    props.callbackDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
  );
  // An OTP is valid 10 minutes: one waiting a minute means the priority lane is stalled (the sender failing, its
  // event source disabled, its share of the rate too small for the traffic).
  new cloudwatch.Alarm(stack, 'PriorityLaneStalled', {
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
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }).addAlarmAction(action);
  alarm(
    'SenderErrors',
    'The sender function failed (crash or timeout), not a single notification',
    props.sender.lambda.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
  );
  alarm(
    'Api5xx',
    'The notifications API answered 5xx',
    props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
  );
  return topic;
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
