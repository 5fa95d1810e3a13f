// "Our kind of function": one place decides runtime, architecture, bundling, logging and tracing,
// and every permission is granted together with the environment variable that points at it.
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type CoreEnvironment, type EnvironmentOf, FUNCTIONS, type FunctionName } from '../functions/catalog.js';
import { DUE_INDEX_NAME, STATUS_INDEX_NAME } from '../shared/adapters/dynamodb/table.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** ESM output still meets CommonJS dependencies that call `require`; this gives them one. */
const CREATE_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export type HandlerName = FunctionName;

/** The settings every function reads (the catalog checks that every environment includes them). */
type CommonSettings = Partial<
  Record<keyof CoreEnvironment | 'POWERTOOLS_SERVICE_NAME' | 'POWERTOOLS_LOG_LEVEL', string>
>;

/** What a deployment may set: the variables the function's schema reads, and the ones Node and Powertools read. */
type Settings<N extends FunctionName> = Partial<
  Record<
    keyof EnvironmentOf<N> | 'POWERTOOLS_SERVICE_NAME' | 'POWERTOOLS_LOG_LEVEL',
    string | number | boolean | undefined
  >
>;

// Exact actions only: the types make a wildcard impossible to write.
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query';
export type QueueAction = 'sqs:SendMessage' | 'sqs:GetQueueAttributes';

export interface TableAccess {
  /** Actions on the table itself. */
  table: readonly TableAction[];
  /** Actions on the due-work index (Query is the only one DynamoDB allows on an index). */
  dueIndex?: readonly 'dynamodb:Query'[];
  /** Actions on the status index (operators' lists by status and time). */
  statusIndex?: readonly 'dynamodb:Query'[];
}

export interface NotificationFunctionProps<N extends FunctionName> {
  /** The catalog's function: functions/<name>/handler.ts exporting `handler`; its description and timeout. */
  name: N;
  memorySize: number;
  /** Variables every function gets (service name, log level, the settings every function reads). */
  environment: CommonSettings;
  /** What happens to the log group when the stack goes away. */
  logRemovalPolicy: RemovalPolicy;
}

export class NotificationFunction<N extends FunctionName = FunctionName> extends Construct {
  readonly lambda: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NotificationFunctionProps<N>) {
    super(scope, id);
    const spec = FUNCTIONS[props.name];

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy,
    });

    // Our own role rather than AWSLambdaBasicExecutionRole: logs may only go to this function's group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name}: ${spec.description}`,
    });

    this.lambda = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}functions/${props.name}/handler.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // The bundles ship source maps; this makes Node use them in stack traces.
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: CREATE_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK is bundled on purpose: it pins the version we test against, and bundled + minified
        // cold starts measured 241 ms against 675 ms with the runtime's SDK (aws-sdk-js-v3 #5516).
        bundleAwsSDK: true,
        externalModules: [],
        forceDockerBundling: false,
      },
    });

    this.grant(['logs:CreateLogStream', 'logs:PutLogEvents'], [this.logGroup.logGroupArn]);
    this.setEnvironment(props.environment as Settings<N>);

    // cdk-nag (AwsSolutions) acknowledgements, each with its reason.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource "*").',
    });
    Validations.of(this.lambda).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the project builds and tests on (engines >=22); moving to 24 is a deliberate upgrade.',
    });
  }

  /** Sets plain settings; undefined values are left out so the function's own defaults apply. */
  setEnvironment(variables: Readonly<Settings<N>>): this {
    for (const [name, value] of Object.entries(variables)) {
      if (value !== undefined) this.lambda.addEnvironment(name, String(value));
    }
    return this;
  }

  /** TABLE_NAME, and exactly these actions on the table and its indexes. */
  useTable(table: ITable, access: TableAccess): this {
    this.lambda.addEnvironment('TABLE_NAME', table.tableName);
    this.grant(access.table, [table.tableArn]);
    if (access.dueIndex?.length) this.grant(access.dueIndex, [`${table.tableArn}/index/${DUE_INDEX_NAME}`]);
    if (access.statusIndex?.length) this.grant(access.statusIndex, [`${table.tableArn}/index/${STATUS_INDEX_NAME}`]);
    return this;
  }

  /** `variable` = the queue's URL, and exactly these actions on it. */
  useQueue(
    variable: 'SEND_QUEUE_URL' | 'PRIORITY_SEND_QUEUE_URL' | 'SEND_DLQ_URL' | 'CALLBACK_QUEUE_URL' | 'CALLBACK_DLQ_URL',
    queue: IQueue,
    actions: readonly QueueAction[],
  ): this {
    this.lambda.addEnvironment(variable, queue.queueUrl);
    this.grant(actions, [queue.queueArn]);
    return this;
  }

  /** Both send queues (the standard and the priority lane), to send to: every notification goes to its lane. */
  sendsTo(queues: { standard: IQueue; priority: IQueue }): this {
    return this.useQueue('SEND_QUEUE_URL', queues.standard, ['sqs:SendMessage']).useQueue(
      'PRIORITY_SEND_QUEUE_URL',
      queues.priority,
      ['sqs:SendMessage'],
    );
  }

  /** CALLBACK_QUEUE_URL and SendMessage on it: the function's moves hand their status callbacks to the queue. */
  emitsCallbacksTo(queue: IQueue): this {
    return this.useQueue('CALLBACK_QUEUE_URL', queue, ['sqs:SendMessage']);
  }

  /**
   * CALLBACK_SECRET_PREFIX and read access to the secrets under it, and only those: each caller's signing secret is
   * `<prefix><API key id>`, and callers come and go without a change to this role.
   */
  useCallbackSecrets(prefix: string, secretsArn: string): this {
    this.lambda.addEnvironment('CALLBACK_SECRET_PREFIX', prefix);
    this.grant(['secretsmanager:GetSecretValue'], [secretsArn]);
    return this;
  }

  /** WACHAP_SECRET_ARN and read access to it: the token itself never sits in the environment. */
  useWaChapSecret(secret: ISecret): this {
    this.lambda.addEnvironment('WACHAP_SECRET_ARN', secret.secretArn);
    // Not secret.grantRead, which adds DescribeSecret that nothing calls. As grantRead does, a secret known
    // by name only is matched with its random suffix; under the AWS-managed key no KMS grant is needed.
    this.grant(['secretsmanager:GetSecretValue'], [secret.secretFullArn ?? `${secret.secretArn}-??????`]);
    return this;
  }

  /** ADMIN_CONTACTS_SECRET_ARN and read access to it: the admin's address and phone never sit in the environment. */
  useAdminContactsSecret(secret: ISecret): this {
    this.lambda.addEnvironment('ADMIN_CONTACTS_SECRET_ARN', secret.secretArn);
    this.grant(['secretsmanager:GetSecretValue'], [secret.secretFullArn ?? `${secret.secretArn}-??????`]);
    return this;
  }

  /**
   * ALERT_FROM_EMAIL, and SES sending limited to the verified identity that covers it and to these recipients
   * (addresses or *@domain patterns): a compromised function cannot mail anyone else. ses:Recipients holds every
   * To, Cc and Bcc address of the request, so ForAllValues requires each of them to match a pattern; as
   * ForAllValues also holds for a request without any recipient, the Null condition requires the key to be present.
   */
  sendEmailFrom(fromAddress: string, identityArn: string, recipients: readonly string[]): this {
    if (recipients.length === 0) throw new Error(`${this.node.path}: SES sending needs at least one allowed recipient`);
    this.lambda.addEnvironment('ALERT_FROM_EMAIL', fromAddress);
    // The mailer only calls SendEmail (SES v1).
    this.grant(['ses:SendEmail'], [identityArn], {
      'ForAllValues:StringLike': { 'ses:Recipients': [...recipients] },
      Null: { 'ses:Recipients': 'false' },
    });
    return this;
  }

  /**
   * EMAIL_FROM, and SES sending from that address only (ses:FromAddress) against the verified identity that covers
   * it: the sender's email channel. Its recipients are the customers, any address, so no ses:Recipients condition can
   * narrow it; the from-address condition keeps a compromised function from sending as the alerts' sender or anyone
   * else the identity covers.
   */
  sendNotificationEmailsFrom(fromAddress: string, identityArn: string): this {
    this.lambda.addEnvironment('EMAIL_FROM', fromAddress);
    this.grant(['ses:SendEmail'], [identityArn], { StringEquals: { 'ses:FromAddress': fromAddress } });
    return this;
  }

  private grant(
    actions: readonly string[],
    resourceArns: string[],
    conditions?: Record<string, Record<string, unknown>>,
  ): void {
    iam.Grant.addToPrincipal({
      grantee: this.lambda,
      actions: [...actions],
      resourceArns,
      ...(conditions ? { conditions } : {}),
    });
  }
}
