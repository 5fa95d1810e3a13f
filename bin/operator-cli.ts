// What `npm run retry`, `health` and `circuit` share: one command's run (flags → target → invoke → report)
// and the reports' common wording. Flags, the invoke and the spinner live in bin/cli/.

import { stackNameFor } from '../lib/config.js';
import type { AlertDelivery } from '../shared/application/health-check.js';
import { EXIT, UsageError } from './cli/errors.js';
import {
  deployedStageOf,
  type InvokeTarget,
  type Options,
  parseFlags,
  type TargetFlags,
  targetOf,
} from './cli/flags.js';
import { type InvokeOutcome, invokeFunction, isUnreachable, lambdaClientFor } from './cli/invoke.js';
import { startProgress } from './cli/progress.js';
import { type StackOutputName, StageLookupError, stageInvokeTarget } from './cli/stage.js';

export { EXIT, UsageError } from './cli/errors.js';
export {
  deployedStageOf,
  parseFlags,
  positiveInteger,
  TARGET_OPTIONS,
  TARGET_USAGE,
  targetOf,
} from './cli/flags.js';
export { invokeFunction, lambdaClientFor } from './cli/invoke.js';

/** The rule under and over the reports' headings. */
export const RULE = '='.repeat(60);

/** How an alert went out (or why not), as the reports print it. */
export const DELIVERY_TEXT: Record<AlertDelivery, string> = {
  sent: 'envoyée / sent',
  failed: 'ÉCHEC / failed',
  disabled: 'désactivée / disabled',
  not_configured: 'non configurée / not configured',
  not_critical: 'non critique / not critical',
  cooldown: 'déjà signalée dans l’heure / cooldown',
  dry_run: 'serait envoyée / would be sent (dry run)',
};

function describeTarget(target: InvokeTarget): string {
  return target.endpoint ? `${target.functionName} at ${target.endpoint}` : target.functionName;
}

export interface OperatorCommand<O extends Options> {
  usage: string;
  defaultFunctionName: string;
  /** The stack output naming the function, for --stage. */
  stackOutput: StackOutputName;
  options: O;
  /** The invoke payload from the parsed flags; throws UsageError on a bad value. */
  payloadOf(flags: ReturnType<typeof parseFlags<O>>): Record<string, unknown>;
  /** The readable report of a successful result. */
  format(result: unknown): string;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

/** Parses, invokes, prints; resolves to the exit code. */
export async function runOperatorCommand<O extends Options>(
  command: OperatorCommand<O>,
  argv: string[],
  io: Io = defaultIo,
): Promise<number> {
  let target: InvokeTarget | undefined;
  let stage: string | undefined;
  let common: TargetFlags & { help?: boolean; json?: boolean };
  let payload: Record<string, unknown>;
  let json: boolean;
  try {
    const flags = parseFlags(argv, command.options);
    common = flags as typeof common;
    if (common.help) {
      io.out(command.usage);
      return EXIT.ok;
    }
    json = common.json === true;
    stage = deployedStageOf(common);
    target = stage ? undefined : targetOf(common, command.defaultFunctionName, io.env);
    payload = command.payloadOf(flags);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}\n\n${command.usage}`);
    return EXIT.usage;
  }
  if (stage) {
    try {
      target = await stageInvokeTarget(stage, common, command.stackOutput);
    } catch (error) {
      return reportStageFailure(error, stage, io);
    }
  }
  if (!target) throw new Error('unreachable: no target');

  const client = lambdaClientFor(target, io.env);
  const stopProgress = startProgress(`invoking ${target.functionName}`);
  let outcome: InvokeOutcome;
  try {
    outcome = await invokeFunction(client, target.functionName, payload);
  } catch (error) {
    stopProgress(); // before the message, not after it
    return reportInvokeFailure(error, target, io);
  } finally {
    stopProgress();
    client.destroy();
  }

  if (json) io.out(JSON.stringify(outcome.payload, null, 2));
  switch (outcome.kind) {
    case 'result':
      if (json) return EXIT.ok;
      try {
        io.out(command.format(outcome.payload));
      } catch {
        // Most likely --function-name names another function: say so rather than print a stack.
        io.err(`error: ${target.functionName} returned a result this command cannot read; --json prints it as is`);
        return EXIT.functionFailed;
      }
      return EXIT.ok;
    case 'function_error':
      io.err(`error: ${target.functionName} failed: ${outcome.errorType}: ${outcome.errorMessage}`);
      return EXIT.functionFailed;
    case 'rejected': {
      // The message repeats the first detail; the details name every field.
      const { details, message } = outcome.rejection;
      const lines =
        details.length > 0 ? details.map((d) => `  - ${d.path || '(payload)'}: ${d.message}`) : [`  ${message}`];
      io.err([`error: ${target.functionName} rejected the request (validation_error):`, ...lines].join('\n'));
      return EXIT.functionFailed;
    }
  }
}

/** The stage's stack could not be read: one line naming the stage and what to do. */
export function reportStageFailure(error: unknown, stage: string, io: Pick<Io, 'err'>): number {
  if (error instanceof StageLookupError) {
    io.err(`error: ${error.message}`);
    return EXIT.usage;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  const stack = stackNameFor(stage);
  if (isUnreachable(error)) {
    io.err(
      `error: could not reach CloudFormation to read ${stack} (${(err as { code?: string }).code ?? err.name}): check the network and the region`,
    );
    return EXIT.unreachable;
  }
  if (/region is missing/i.test(err.message)) {
    io.err(`error: no AWS region to find ${stack} (--stage ${stage}) in: set AWS_REGION or pass --region`);
    return EXIT.usage;
  }
  // Missing credentials, AccessDenied (cloudformation:DescribeStacks on the stack): the SDK names it, without secrets.
  io.err(`error: reading stack ${stack} (--stage ${stage}) failed: ${err.name}: ${err.message}`);
  return EXIT.functionFailed;
}

function reportInvokeFailure(error: unknown, target: InvokeTarget, io: Io): number {
  const err = error instanceof Error ? error : new Error(String(error));
  if (isUnreachable(error)) {
    const hint = target.isLocalDefault
      ? 'is `npm start` running? (or set LAMBDA_PORT, or pass --endpoint-url / --function-name)'
      : target.endpoint
        ? 'check --endpoint-url'
        : 'check the network and the region';
    io.err(
      `error: could not reach ${describeTarget(target)} (${(err as { code?: string }).code ?? err.name}): ${hint}`,
    );
    return EXIT.unreachable;
  }
  // Configuration the SDK could not resolve: nothing was sent.
  if (/region is missing/i.test(err.message)) {
    io.err('error: no AWS region: set AWS_REGION or pass --region');
    return EXIT.usage;
  }
  // SDK errors name the problem (ResourceNotFoundException, AccessDeniedException, missing credentials)
  // and never carry secrets; the stack is of no use to an operator.
  io.err(`error: invoking ${describeTarget(target)} failed: ${err.name}: ${err.message}`);
  return EXIT.functionFailed;
}
