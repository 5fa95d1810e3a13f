// Which AWS actions each function really calls, so that its role can be derived from use instead of
// guessed: runtime.ts puts this middleware on every client it builds, and each command is reported as
// the IAM action it is authorised against. In Lambda nothing listens and it does nothing; the local
// stack names the calling function (`callingAs`) and the least-privilege test listens.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AwsCall {
  /** The function whose role the call needs; undefined when made outside any function. */
  caller: string | undefined;
  /** The IAM action, e.g. `dynamodb:UpdateItem`. */
  action: string;
}

export type AwsCallListener = (call: AwsCall) => void;

const listeners = new Set<AwsCallListener>();
const currentCaller = new AsyncLocalStorage<string>();

/** Hears every call made through a recorded client from now on; returns the function that stops it. */
export function observeAwsCalls(listener: AwsCallListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Runs `work` as `caller`: the AWS calls it makes, however deep or late, are attributed to it. */
export const callingAs = <T>(caller: string, work: () => T): T => currentCaller.run(caller, work);

const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  DynamoDBClient: 'dynamodb',
  SQSClient: 'sqs',
  SESClient: 'ses',
  SecretsManagerClient: 'secretsmanager',
  LambdaClient: 'lambda',
};

// These operations have no IAM action of their own: AWS authorises them as the action named.
const AUTHORISED_AS: Readonly<Record<string, string>> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  'lambda:Invoke': 'lambda:InvokeFunction',
};

/** (`SQSClient`, `SendMessageBatchCommand`) → `sqs:SendMessage`. An unknown client is named, never guessed. */
export function iamActionOf(clientName: string, commandName: string): string {
  const prefix = SERVICE_PREFIX[clientName] ?? `unknown-client(${clientName})`;
  const operation = `${prefix}:${commandName.replace(/Command$/, '')}`;
  return AUTHORISED_AS[operation] ?? operation;
}

type Next = (args: unknown) => Promise<unknown>;
type CallMiddleware = (next: Next, context: { clientName?: string; commandName?: string }) => Next;
type MiddlewareStack = { add(middleware: CallMiddleware, options: { step: 'initialize'; name: string }): void };

/**
 * Reports each command sent through `client`, before it is sent: a refused call needs the grant too.
 * Any AWS SDK v3 client will do (DocumentClient commands reach their base client as the base command).
 * `caller` fixes the function for a client that acts for one outside its handler (an event source).
 */
export function recordAwsCalls<C extends { middlewareStack: { add(...args: never[]): unknown } }>(
  client: C,
  options: { caller?: string } = {},
): C {
  // Each client types its stack with its own commands' shapes; this middleware reads none of them.
  (client.middlewareStack as unknown as MiddlewareStack).add(
    (next, context) => (args) => {
      if (listeners.size > 0) {
        const call: AwsCall = {
          caller: options.caller ?? currentCaller.getStore(),
          action: iamActionOf(context.clientName ?? '?', context.commandName ?? '?'),
        };
        for (const listener of listeners) listener(call);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordAwsCalls' },
  );
  return client;
}
