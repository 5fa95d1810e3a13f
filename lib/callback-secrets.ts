// The status callbacks' signing secrets: one Secrets Manager secret per upstream caller, named after its API key's
// id (`<prefix><keyId>`), which is what a notification records as its caller and what the dispatcher reads. Call
// addCallbackSecret once per API key: a caller added later gets its secret the same way.
import { ArnFormat, CfnOutput, type Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** Where a stage's callback secrets live; the dispatcher may read under it and nowhere else. */
export const callbackSecretPrefix = (stage: string): string => `wachap-notifications/${stage}/callbacks/`;

/** Every secret under the prefix (with the random suffix Secrets Manager adds to an ARN). */
export const callbackSecretsArn = (stack: Stack, stage: string): string =>
  stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${callbackSecretPrefix(stage)}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * The caller's signing secret, generated: 32 letters and digits, which is a valid base64 string (24 bytes of key),
 * exactly what Standard Webhooks expects; `standardwebhooks` takes it as it is or with `whsec_` in front. Its ARN is
 * an output (`<id>CallbackSecretArn`), so that the upstream team can read it (GetSecretValue) and verify.
 */
export function addCallbackSecret(
  stack: Stack,
  apiKey: apigw.IApiKey,
  props: { stage: string; id?: string },
): secretsmanager.Secret {
  const id = props.id ?? apiKey.node.id;
  const secret = new secretsmanager.Secret(stack, `${id}CallbackSecret`, {
    secretName: `${callbackSecretPrefix(props.stage)}${apiKey.keyId}`,
    description: `Signs the status callbacks of the caller whose API key is ${id} (Standard Webhooks, base64)`,
    generateSecretString: { excludePunctuation: true, passwordLength: 32 },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The caller verifies with this secret: rotating it is agreed with the caller (put a new value, the dispatcher ' +
      'picks it up within CALLBACK_SECRET_MAX_AGE_SECONDS), not something a schedule may do behind its back.',
  });
  new CfnOutput(stack, `${id}CallbackSecretArn`, {
    value: secret.secretArn,
    description: `Status callbacks signing secret of ${id}: aws secretsmanager get-secret-value --secret-id <arn>`,
  });
  return secret;
}
