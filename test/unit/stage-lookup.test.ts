// `--stage prod` on every operator command: the stack WaChapNotifications-prod found with DescribeStacks, its
// outputs read, and the real function invoked or the real API called. CloudFormation cannot run locally: its client
// is mocked (aws-sdk-client-mock), with the answers and the errors CloudFormation gives.
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stageApiTarget } from '../../bin/cli/api-client.js';
import { UsageError } from '../../bin/cli/errors.js';
import { deployedStageOf } from '../../bin/cli/flags.js';
import { lambdaClientFor } from '../../bin/cli/invoke.js';
import { runNotificationsCommand } from '../../bin/cli/notifications-command.js';
import { describeStage, StageLookupError, stackOutput, stageInvokeTarget } from '../../bin/cli/stage.js';
import { runOperatorCommand } from '../../bin/operator-cli.js';

const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
afterAll(() => {
  cloudFormation.restore();
  lambda.restore();
});

const STACK_ID = 'arn:aws:cloudformation:eu-west-3:123456789012:stack/WaChapNotifications-prod/1f2e3d4c';
const OUTPUTS = {
  ApiUrl: 'https://abc123.execute-api.eu-west-3.amazonaws.com/prod/v1/notifications',
  RetrySweepFunctionName: 'WaChapNotifications-prod-RetrySweep8C3F-AbCdEf',
  HealthCheckFunctionName: 'WaChapNotifications-prod-HealthCheck1A2B-GhIjKl',
  ProviderProbeFunctionName: 'WaChapNotifications-prod-ProviderProbe9Z-MnOpQr',
};
const deployed = (overrides: Partial<Stack> = {}): Stack => ({
  StackName: 'WaChapNotifications-prod',
  StackId: STACK_ID,
  StackStatus: 'UPDATE_COMPLETE',
  CreationTime: new Date('2025-11-01T00:00:00Z'),
  Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
  ...overrides,
});
/** CloudFormation's answer for a stack that does not exist. */
const noSuchStack = (name: string) =>
  Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });

const client = () =>
  new CloudFormationClient({ region: 'eu-west-3', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

beforeEach(() => {
  cloudFormation.reset();
  lambda.reset();
  cloudFormation
    .on(DescribeStacksCommand, { StackName: 'WaChapNotifications-prod' })
    .resolves({ Stacks: [deployed()] });
  cloudFormation
    .on(DescribeStacksCommand, { StackName: 'WaChapNotifications-qa' })
    .rejects(noSuchStack('WaChapNotifications-qa'));
});

describe('describeStage', () => {
  it('reads the stack of the stage: its outputs, its status, and its region from its ARN', async () => {
    const stack = await describeStage('prod', client());

    expect(stack).toEqual({
      stage: 'prod',
      stackName: 'WaChapNotifications-prod',
      region: 'eu-west-3',
      status: 'UPDATE_COMPLETE',
      outputs: OUTPUTS,
    });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'WaChapNotifications-prod',
    });
  });

  it('a stage with no stack: one line naming the stack, the stage, the region and the deploy command', async () => {
    const error = await describeStage('qa', client()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StageLookupError);
    expect((error as Error).message).toBe(
      'no stack WaChapNotifications-qa for --stage qa in eu-west-3: deploy it with `npx cdk deploy -c stage=qa`, or check --region / AWS_REGION and the account',
    );
  });

  it('a stack being deleted is not used', async () => {
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'WaChapNotifications-prod' })
      .resolves({ Stacks: [deployed({ StackStatus: 'DELETE_IN_PROGRESS' })] });

    await expect(describeStage('prod', client())).rejects.toThrow(
      'stack WaChapNotifications-prod (--stage prod) is DELETE_IN_PROGRESS',
    );
  });

  it('other errors (access denied, no credentials) are passed on as the SDK gave them', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(
          new Error('User: arn:aws:iam::1:user/x is not authorized to perform: cloudformation:DescribeStacks'),
          { name: 'AccessDenied' },
        ),
      );

    await expect(describeStage('prod', client())).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('stackOutput', () => {
  it('names the missing output and says to deploy this version', async () => {
    const stack = await describeStage('prod', client());

    expect(stackOutput(stack, 'RetrySweepFunctionName')).toBe(OUTPUTS.RetrySweepFunctionName);
    expect(() => stackOutput(stack, 'OperatorReadFunctionName')).toThrow(
      new StageLookupError(
        'stack WaChapNotifications-prod (--stage prod) has no OperatorReadFunctionName output: it was deployed by an older version, deploy it with `npx cdk deploy -c stage=prod` from this checkout',
      ),
    );
  });

  it('a stack still being created says to wait rather than to redeploy', async () => {
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'WaChapNotifications-prod' })
      .resolves({ Stacks: [deployed({ StackStatus: 'CREATE_IN_PROGRESS', Outputs: [] })] });
    const stack = await describeStage('prod', client());

    expect(() => stackOutput(stack, 'ApiUrl')).toThrow(/is CREATE_IN_PROGRESS and has no ApiUrl output yet: wait/);
  });
});

describe('deployedStageOf', () => {
  it('is the stage, or undefined without --stage or for the local stack', () => {
    expect(deployedStageOf({ stage: 'prod' })).toBe('prod');
    expect(deployedStageOf({})).toBeUndefined();
    expect(deployedStageOf({ stage: 'local' })).toBeUndefined();
  });

  it.each([
    [
      { stage: 'prod', 'function-name': 'x' },
      "--stage finds the function in the stage's stack: leave out --function-name",
    ],
    [{ stage: 'prod', 'endpoint-url': 'http://x' }, 'leave out --endpoint-url'],
    [
      { stage: 'Prod' },
      "--stage must be a stage name such as dev or prod (lowercase letters, digits, dashes), got 'Prod'",
    ],
    [{ stage: '' }, '--stage must be a stage name'],
  ])('%j is refused', (flags, message) => {
    expect(() => deployedStageOf(flags)).toThrow(UsageError);
    expect(() => deployedStageOf(flags)).toThrow(message);
  });
});

describe('stageInvokeTarget', () => {
  it('is the deployed function of the output, in the stack region, with no endpoint override', async () => {
    const target = await stageInvokeTarget('prod', { profile: 'ops' }, 'HealthCheckFunctionName');

    expect(target).toEqual({
      functionName: OUTPUTS.HealthCheckFunctionName,
      endpoint: undefined,
      isLocalDefault: false,
      region: 'eu-west-3',
      profile: 'ops',
    });
    const lambdaClient = lambdaClientFor(target, {});
    expect(lambdaClient.config.isCustomEndpoint).toBe(false);
    expect(await lambdaClient.config.region()).toBe('eu-west-3');
  });
});

describe('npm run retry / health / circuit --stage', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} } };
  };
  const command = {
    usage: 'Usage: npm run circuit',
    defaultFunctionName: 'provider-probe',
    stackOutput: 'ProviderProbeFunctionName' as const,
    options: {},
    payloadOf: () => ({ action: 'status' }),
    format: (result: unknown) => JSON.stringify(result),
  };

  it("invokes the stage's function, named by the stack output", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('{"ok":true}') as never });
    const { out, err, io: streams } = io();

    const code = await runOperatorCommand(command, ['--stage', 'prod', '--region', 'eu-west-3'], streams);

    expect(code, err.join('\n')).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName).toBe(OUTPUTS.ProviderProbeFunctionName);
    expect(out).toEqual(['{"ok":true}']);
  });

  it('a stage with no stack exits 2 with one line, and invokes nothing', async () => {
    const { err, io: streams } = io();

    const code = await runOperatorCommand(command, ['--stage=qa', '--region=eu-west-3'], streams);

    expect(code).toBe(2);
    expect(err).toEqual([
      'error: no stack WaChapNotifications-qa for --stage qa in eu-west-3: deploy it with `npx cdk deploy -c stage=qa`, or check --region / AWS_REGION and the account',
    ]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('a stack without the output exits 2 naming it', async () => {
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'WaChapNotifications-prod' })
      .resolves({ Stacks: [deployed({ Outputs: [] })] });
    const { err, io: streams } = io();

    const code = await runOperatorCommand(command, ['--stage', 'prod', '--region', 'eu-west-3'], streams);

    expect(code).toBe(2);
    expect(err[0]).toContain('has no ProviderProbeFunctionName output');
  });

  it('access denied on DescribeStacks exits 1 naming the stack and the SDK error', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const { err, io: streams } = io();

    const code = await runOperatorCommand(command, ['--stage', 'prod', '--region', 'eu-west-3'], streams);

    expect(code).toBe(1);
    expect(err).toEqual([
      'error: reading stack WaChapNotifications-prod (--stage prod) failed: AccessDenied: not authorized',
    ]);
  });

  it('--stage with --function-name is a usage error', async () => {
    const { err, io: streams } = io();

    const code = await runOperatorCommand(command, ['--stage', 'prod', '--function-name=x'], streams);

    expect(code).toBe(2);
    expect(err[0]).toContain('leave out --function-name');
  });
});

describe('npm run notifications --stage', () => {
  it("calls the API of the stack's ApiUrl output, in the stack's region, with the default credential chain", async () => {
    const target = await stageApiTarget('prod', { region: 'eu-west-3' });

    expect(target).toMatchObject({
      baseUrl: 'https://abc123.execute-api.eu-west-3.amazonaws.com/prod',
      region: 'eu-west-3',
      isLocalDefault: false,
      stage: 'prod',
    });
    expect(typeof target.credentials).toBe('function');
  });

  it('a stage with no stack exits 2 with one line', async () => {
    const err: string[] = [];
    const code = await runNotificationsCommand(['--stage', 'qa', '--region', 'eu-west-3', 'list'], {
      out: () => undefined,
      err: (t) => err.push(t),
      stdout: process.stdout,
      env: {},
      now: () => new Date(),
      columns: undefined,
    });

    expect(code).toBe(2);
    expect(err).toEqual([
      expect.stringMatching(/^error: no stack WaChapNotifications-qa for --stage qa in eu-west-3: /),
    ]);
  });
});
