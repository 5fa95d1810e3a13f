// The operator commands as alerts and reports print them: they must work as printed, against the stage the
// text came from (the local stack, or a deployed stage found by `--stage`).

/** The local stack's stage (`npm start`): its commands need no --stage. */
export const LOCAL_STAGE = 'local';

export type OperatorScript = 'retry' | 'health' | 'circuit' | 'notifications';

/** `npm run circuit -- --stage prod --close`, or `npm run circuit -- --close` for the local stack. */
export function operatorCommand(script: OperatorScript, args: readonly string[], stage: string = LOCAL_STAGE): string {
  const target = stage === LOCAL_STAGE ? [] : ['--stage', stage];
  return ['npm run', script, '--', ...target, ...args].join(' ');
}
