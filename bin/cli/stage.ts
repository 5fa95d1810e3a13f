// `--stage <name>`: a deployed stage found by its CloudFormation stack's outputs (WaChapNotifications-<stage>), so
// that operators never copy the generated function names or the API's URL by hand.
import {
  CloudFormationClient,
  type CloudFormationClientConfig,
  DescribeStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { stackNameFor } from '../../lib/config.js';
import { STAGE_PATTERN } from '../../shared/config.js';
import { UsageError } from './errors.js';
import type { InvokeTarget } from './flags.js';

/** The outputs the operator commands read (lib/notification-stack.ts declares them). */
export type StackOutputName =
  | 'ApiUrl'
  | 'IngestFunctionName'
  | 'RetrySweepFunctionName'
  | 'HealthCheckFunctionName'
  | 'ProviderProbeFunctionName'
  | 'OperatorReadFunctionName'
  | 'OperatorActionsFunctionName'
  | 'TableName';

/** A stage's stack could not be found or lacks what the command needs: one line naming the stage and the fix. */
export class StageLookupError extends Error {
  override name = 'StageLookupError';
}

export interface DeployedStack {
  stage: string;
  stackName: string;
  /** The stack's region (from its ARN): where its functions and its API are. */
  region: string;
  /** CREATE_COMPLETE, UPDATE_IN_PROGRESS, ROLLBACK_COMPLETE…: said when an output is missing. */
  status: string;
  outputs: Readonly<Record<string, string>>;
}

/** The --stage value, checked as CDK checks it (lib/config.ts), before any call. */
export function stageName(raw: string): string {
  const stage = raw.trim();
  if (!STAGE_PATTERN.test(stage)) {
    throw new UsageError(
      `--stage must be a stage name such as dev or prod (lowercase letters, digits, dashes), got '${raw}'`,
    );
  }
  return stage;
}

export function cloudFormationClientFor(options: { region?: string | undefined; profile?: string | undefined }) {
  const config: CloudFormationClientConfig = { requestHandler: { connectionTimeout: 10_000 } };
  if (options.region) config.region = options.region;
  if (options.profile) config.profile = options.profile;
  return new CloudFormationClient(config);
}

const deployHint = (stage: string) => `deploy it with \`npx cdk deploy -c stage=${stage}\``;

/** The stack's region: arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>. */
const regionOfStackId = (stackId: string | undefined): string | undefined => stackId?.split(':')[3] || undefined;

/** DescribeStacks on the stage's stack; a missing stack is a StageLookupError, other SDK errors are thrown as is. */
export async function describeStage(stage: string, client: CloudFormationClient): Promise<DeployedStack> {
  const stackName = stackNameFor(stage);
  let stacks: Stack[] | undefined;
  try {
    ({ Stacks: stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    // CloudFormation answers an unknown stack with a ValidationError "Stack with id … does not exist".
    if ((error as Error).name === 'ValidationError' && /does not exist/i.test((error as Error).message)) {
      const region = await client.config.region().catch(() => undefined);
      throw new StageLookupError(
        `no stack ${stackName} for --stage ${stage}${region ? ` in ${region}` : ''}: ${deployHint(stage)}, or check --region / AWS_REGION and the account`,
      );
    }
    throw error;
  }
  const stack = stacks?.[0];
  if (!stack) throw new StageLookupError(`no stack ${stackName} for --stage ${stage}: ${deployHint(stage)}`);
  if (stack.StackStatus?.startsWith('DELETE_')) {
    throw new StageLookupError(`stack ${stackName} (--stage ${stage}) is ${stack.StackStatus}: ${deployHint(stage)}`);
  }
  const outputs = Object.fromEntries(
    (stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])),
  );
  const region = regionOfStackId(stack.StackId) ?? (await client.config.region());
  return { stage, stackName, region, status: stack.StackStatus ?? 'UNKNOWN', outputs };
}

/** One output of the stack, or a StageLookupError saying which and what to deploy. */
export function stackOutput(stack: DeployedStack, name: StackOutputName): string {
  const value = stack.outputs[name];
  if (value) return value;
  // A first deployment still running, or one that failed, has no outputs yet: the fix is not a redeploy of code.
  if (!/^(CREATE|UPDATE)_COMPLETE$/.test(stack.status)) {
    throw new StageLookupError(
      `stack ${stack.stackName} (--stage ${stack.stage}) is ${stack.status} and has no ${name} output yet: ` +
        `wait for the deployment to finish, or ${deployHint(stack.stage)} again`,
    );
  }
  throw new StageLookupError(
    `stack ${stack.stackName} (--stage ${stack.stage}) has no ${name} output: it was deployed by an older version, ` +
      `${deployHint(stack.stage)} from this checkout`,
  );
}

/** The deployed function a command invokes with --stage: found in the stage's stack, in the stack's region. */
export async function stageInvokeTarget(
  stage: string,
  flags: { region?: string | undefined; profile?: string | undefined },
  output: StackOutputName,
): Promise<InvokeTarget> {
  const client = cloudFormationClientFor(flags);
  try {
    const stack = await describeStage(stage, client);
    return {
      functionName: stackOutput(stack, output),
      endpoint: undefined,
      isLocalDefault: false,
      region: stack.region,
      profile: flags.profile,
    };
  } finally {
    client.destroy();
  }
}
