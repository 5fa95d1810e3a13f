// What each kind of alert says, in French (the admins' language, first) and English, and the commands that act on
// it: one entry per kind, so that a new kind fails the typecheck until it has both texts and its commands. Every
// command is printed for the alert's stage and must parse as printed (test/unit/alert-messages.test.ts runs the CLI's
// own parsers on them).
import {
  type AffectedSelection,
  type AlertKind,
  affectedSelection,
  type FigureName,
  type HealthAlert,
} from '../domain/health.js';
import { LOCAL_STAGE, type OperatorScript, operatorCommand } from '../domain/operator-command.js';
import { formatFigure, formatInstant, type Language } from './figures.js';

/** Where the alert comes from and what its commands need. */
export interface AlertContext {
  /** The stage checked (STAGE): every command printed acts on it. */
  stage: string;
  /** The send queue's dead-letter queue, for the dead_letters commands. */
  dlqUrl?: string | undefined;
  /** The operations page (OPERATIONS_PAGE_URL), linked from every alert when configured. */
  operationsPageUrl?: string | undefined;
}

/** One thing to do about an alert: why, then the exact command to paste (or the page to open). */
export interface AlertStep {
  purpose: Record<Language, string>;
  /** An `npm run <script> -- …` command of this project, or an AWS CLI command; absent for a link. */
  command?: { script: OperatorScript | 'aws'; args: readonly string[]; line: string };
  link?: string;
}

type Phrase = (alert: HealthAlert, figure: (name: FigureName) => string, language: Language) => string;

interface KindTexts {
  summary: Record<Language, Phrase>;
  /** What to do, in prose; the commands follow as steps. */
  advice: Record<Language, Phrase>;
  steps: (alert: HealthAlert, context: AlertContext) => AlertStep[];
  /** The WhatsApp alert's one thing to do, in French, ending with its command. */
  whatsappTodo: (alert: HealthAlert, context: AlertContext) => string;
}

const npm = (script: OperatorScript, args: readonly string[], stage: string): AlertStep['command'] => ({
  script,
  args: [...(stage === LOCAL_STAGE ? [] : ['--stage', stage]), ...args],
  line: operatorCommand(script, args, stage),
});

/** `--status=… [--category=…] [--reason=…] [--since=Nh]`: the alert's own selection, as the CLI's filters. */
function selectionFlags(selection: AffectedSelection & { source: 'status_index' }): string[] {
  return [
    `--status=${selection.statuses.join(',')}`,
    ...(selection.category ? [`--category=${selection.category}`] : []),
    ...(selection.reason ? [`--reason=${selection.reason}`] : []),
    ...(selection.withinHours ? [`--since=${selection.withinHours}h`] : []),
  ];
}

/** Lists every notification the alert concerns: the same selection as the ones it shows. */
function listStep(kind: AlertKind, stage: string): AlertStep {
  const selection = affectedSelection(kind);
  if (selection.source !== 'status_index') throw new Error(`${kind} selects no notifications by status`);
  return {
    purpose: { fr: 'Les lister toutes', en: 'List them all' },
    command: npm('notifications', ['list', ...selectionFlags(selection)], stage),
  };
}

/** Counts what a re-drive of `status` would take, changing nothing (then the same without --dry-run). */
const redriveDryRun = (status: 'failed' | 'permanent_failure', stage: string): AlertStep => ({
  purpose: {
    fr: 'Compter ce qu’un renvoi reprendrait, sans rien changer (puis la même sans --dry-run)',
    en: 'Count what a re-drive would take, changing nothing (then the same without --dry-run)',
  },
  command: npm('notifications', ['retry', `--status=${status}`, '--since=24h', '--dry-run'], stage),
});

const circuitStep = (action: '--status' | '--probe' | '--close', stage: string, instance?: string): AlertStep => ({
  purpose: {
    '--status': { fr: 'Voir le circuit fournisseur', en: 'See the provider circuit' },
    '--probe': {
      fr: 'Sonder WaChap maintenant (le circuit se ferme s’il répond)',
      en: 'Probe WaChap now (the circuit closes if it answers)',
    },
    '--close': {
      fr: 'Fermer le circuit tout de suite et libérer les notifications retenues',
      en: 'Close the circuit at once and release the held notifications',
    },
  }[action],
  // One instance of several: the command acts on that instance's circuit.
  command: npm('circuit', instance === undefined ? [action] : [action, `--instance=${instance}`], stage),
});

/** https://sqs.<region>.amazonaws.com/<account>/<name>: the region and ARN a deployed DLQ's commands need. */
const AWS_QUEUE_URL = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([\w-]+(?:\.fifo)?)$/;

/**
 * Reading the DLQ (without hiding its messages: visibility 0) and, on AWS, moving its messages back to the queues
 * they came from (SQS's redrive, StartMessageMoveTask). The local stack's queue engine has no redrive: its DLQ is
 * read there, and the notifications are swept from the table anyway.
 */
function dlqSteps(dlqUrl: string | undefined): AlertStep[] {
  if (!dlqUrl) return [];
  const onAws = AWS_QUEUE_URL.exec(dlqUrl);
  const target = onAws ? ['--region', onAws[1]!] : ['--endpoint-url', new URL(dlqUrl).origin];
  const aws = (args: string[]): AlertStep['command'] => ({ script: 'aws', args, line: ['aws', ...args].join(' ') });
  const steps: AlertStep[] = [
    {
      purpose: {
        fr: 'Lire les messages sans les retirer de la DLQ',
        en: 'Read the messages without taking them off the DLQ',
      },
      command: aws([
        ...target,
        'sqs',
        'receive-message',
        '--queue-url',
        dlqUrl,
        '--max-number-of-messages',
        '10',
        '--visibility-timeout',
        '0',
      ]),
    },
  ];
  if (onAws) {
    const [, region, account, name] = onAws;
    steps.push({
      purpose: {
        fr: 'Une fois la cause corrigée, les renvoyer dans leur file d’origine',
        en: 'Once the cause is fixed, move them back to the queue they came from',
      },
      command: aws([
        ...target,
        'sqs',
        'start-message-move-task',
        '--source-arn',
        `arn:aws:sqs:${region}:${account}:${name}`,
      ]),
    });
  }
  return steps;
}

/** "WaChap", or "WaChap (instance china)" when one instance of several is down: the others keep sending. */
const provider = (alert: HealthAlert) =>
  alert.circuit?.instance !== undefined ? `WaChap (instance ${alert.circuit.instance})` : 'WaChap';

const opener = (alert: HealthAlert, language: Language) =>
  alert.circuit?.forced ? (language === 'fr' ? ' (ouvert par un opérateur)' : ' (opened by an operator)') : '';

export const ALERT_TEXTS: Record<AlertKind, KindTexts> = {
  provider_unavailable: {
    summary: {
      fr: (alert, figure) =>
        `${provider(alert)} est indisponible depuis le ${formatInstant(alert.circuit?.since ?? '', 'fr')} (${figure('minutesSinceOpen')})${opener(alert, 'fr')} : ${alert.circuit?.reason ?? 'raison inconnue'}. ${alert.circuit?.instance !== undefined ? "Les notifications de cette instance sont retenues (les autres instances envoient), aucune n'est perdue." : "Les notifications sont retenues, aucune n'est perdue."}`,
      en: (alert, figure) =>
        `${provider(alert)} is unavailable since ${formatInstant(alert.circuit?.since ?? '', 'en')} (${figure('minutesSinceOpen')})${opener(alert, 'en')}: ${alert.circuit?.reason ?? 'unknown reason'}. ${alert.circuit?.instance !== undefined ? 'Notifications for this instance are held (the other instances keep sending), none is lost.' : 'Notifications are held, none is lost.'}`,
    },
    advice: {
      fr: (alert) =>
        alert.circuit?.forced
          ? 'Un opérateur a ouvert le circuit : fermez-le quand WaChap est de nouveau utilisable (aucune sonde ne le ferme).'
          : "Rétablissez le compte WaChap (abonnement, jeton d'accès, instance connectée : QR code si elle est déconnectée), puis sondez WaChap ou fermez le circuit ; sinon la prochaine sonde le ferme, dans la minute. Les notifications retenues repartent d'elles-mêmes.",
      en: (alert) =>
        `${alert.circuit?.recommendation ?? 'Check the WaChap dashboard.'} After fixing it, close the circuit at once (or wait for the next probe, within a minute).`,
    },
    steps: (alert, { stage }) => {
      const instance = alert.circuit?.instance;
      return alert.circuit?.forced
        ? [
            circuitStep('--status', stage, instance),
            circuitStep('--close', stage, instance),
            listStep('provider_unavailable', stage),
          ]
        : [
            circuitStep('--status', stage, instance),
            circuitStep('--probe', stage, instance),
            circuitStep('--close', stage, instance),
            listStep('provider_unavailable', stage),
          ];
    },
    whatsappTodo: (alert, { stage }) =>
      alert.circuit?.forced
        ? `fermer le circuit quand WaChap est de nouveau utilisable : ${operatorCommand('circuit', ['--close'], stage)}`
        : `rétablir le compte WaChap (abonnement, jeton, instance connectée) puis ${operatorCommand('circuit', ['--probe'], stage)}`,
  },
  failure_burst: {
    summary: {
      fr: (_, figure) =>
        `${figure('failures')} envois WhatsApp en échec dans la dernière heure (seuil ${figure('threshold')}).`,
      en: (_, figure) =>
        `${figure('failures')} WhatsApp sends failed in the last hour (threshold ${figure('threshold')}).`,
    },
    advice: {
      fr: () =>
        "Vérifiez l'instance WaChap (connectée ? abonnement actif ?) et les dernières erreurs ci-dessus ; les notifications en échec sont réessayées automatiquement.",
      en: () =>
        'Check the WaChap instance (connected? subscription active?) and the last errors above; failed notifications are retried automatically.',
    },
    steps: (_, { stage }) => [listStep('failure_burst', stage), redriveDryRun('failed', stage)],
    whatsappTodo: (_, { stage }) =>
      `vérifier l'instance WaChap (connectée ? abonnement ?) et les erreurs : ${listStep('failure_burst', stage).command!.line}`,
  },
  failure_rate: {
    summary: {
      fr: (_, figure) =>
        `${figure('failureRate')} des envois WhatsApp en échec dans la dernière heure (${figure('failures')} sur ${figure('attempts')} ; seuil ${figure('failureRateThreshold')}).`,
      en: (_, figure) =>
        `${figure('failureRate')} of WhatsApp sends failed in the last hour (${figure('failures')} of ${figure('attempts')}; threshold ${figure('failureRateThreshold')}).`,
    },
    advice: {
      fr: () =>
        'La plupart des envois échouent : WaChap est probablement en panne ou notre compte bloqué. Vérifiez le tableau de bord WaChap avant que les clients ne le remarquent.',
      en: () =>
        'Most sends are failing: WaChap is likely down or our account is blocked. Check the WaChap dashboard before customers notice.',
    },
    steps: (_, { stage }) => [listStep('failure_rate', stage), redriveDryRun('failed', stage)],
    whatsappTodo: (_, { stage }) =>
      `vérifier le tableau de bord WaChap, puis les erreurs : ${listStep('failure_rate', stage).command!.line}`,
  },
  otp_failures: {
    summary: {
      fr: (_, figure) =>
        `${figure('otpFailures')} notifications OTP en échec dans la dernière heure (seuil ${figure('threshold')}) : des clients ne reçoivent pas leur code.`,
      en: (_, figure) =>
        `${figure('otpFailures')} OTP notifications failed in the last hour (threshold ${figure('threshold')}): customers are not getting their codes.`,
    },
    advice: {
      fr: () =>
        "Regardez leur dernière erreur : un problème WaChap (instance, compte) les fait toutes échouer, des numéros invalides quelques-unes. Un OTP n'est valable que quelques minutes : le client doit en demander un nouveau, renvoyer l'ancien n'aide pas.",
      en: () =>
        'Look at their last error: a WaChap problem (instance, account) fails them all, invalid numbers fail a few. An OTP is valid for minutes, so the customer has to ask for a new one: re-driving an old one does not help.',
    },
    steps: (_, { stage }) => [listStep('otp_failures', stage)],
    whatsappTodo: (_, { stage }) => `voir pourquoi les OTP échouent : ${listStep('otp_failures', stage).command!.line}`,
  },
  consecutive_failures: {
    summary: {
      fr: (_, figure) =>
        `${figure('consecutiveFailures')} envois WhatsApp en échec d'affilée, aucun délivré depuis (seuil ${figure('threshold')}) : l'instance WaChap semble hors service.`,
      en: (_, figure) =>
        `${figure('consecutiveFailures')} WhatsApp sends failed in a row, none delivered since (threshold ${figure('threshold')}): the WaChap instance looks down.`,
    },
    advice: {
      fr: () =>
        "Vérifiez l'instance WaChap (connectée ? téléphone en ligne ? abonnement actif ?) et les dernières erreurs ; les notifications en échec sont réessayées automatiquement, et une instance que WaChap dit déconnectée ou expirée ouvre d'elle-même le circuit fournisseur.",
      en: () =>
        'Check the WaChap instance (connected? phone online? subscription active?) and the last errors; failed notifications are retried automatically, and an instance WaChap reports as disconnected or expired opens the provider circuit by itself.',
    },
    steps: (_, { stage }) => [listStep('consecutive_failures', stage), circuitStep('--status', stage)],
    whatsappTodo: (_, { stage }) =>
      `vérifier l'instance WaChap (connectée ? téléphone en ligne ?) et les erreurs : ${listStep('consecutive_failures', stage).command!.line}`,
  },
  permanent_failures: {
    summary: {
      fr: (_, figure) =>
        `${figure('permanentFailures')} notifications en échec définitif sur les dernières 24 heures (seuil ${figure('threshold')}).`,
      en: (_, figure) =>
        `${figure('permanentFailures')} notifications failed permanently in the last 24 hours (threshold ${figure('threshold')}).`,
    },
    advice: {
      fr: () =>
        'Elles ne seront pas réessayées : regardez leur dernière erreur (le plus souvent un numéro invalide), corrigez les données, puis renvoyez-les.',
      en: () =>
        'These will not be retried: look at their lastError (usually an invalid number), fix the data, then re-drive them.',
    },
    steps: (_, { stage }) => [listStep('permanent_failures', stage), redriveDryRun('permanent_failure', stage)],
    whatsappTodo: (_, { stage }) =>
      `corriger les numéros, puis ${redriveDryRun('permanent_failure', stage).command!.line}`,
  },
  dead_letters: {
    summary: {
      fr: (_, figure) => `${figure('dlqDepth')} message(s) dans la file des messages en échec (DLQ) de l'envoi.`,
      en: (_, figure) => `${figure('dlqDepth')} message(s) in the send queue's dead-letter queue.`,
    },
    advice: {
      fr: () =>
        "Un message que l'envoi n'a pas pu traiter 5 fois : lisez-le, consultez les journaux du sender, puis renvoyez-le ou supprimez-le. La notification elle-même est toujours reprise depuis la table par le balayage.",
      en: () =>
        'A message the sender could not process 5 times: read it from the DLQ, check the sender logs, then redrive or delete it. The notification itself is still swept from the table.',
    },
    steps: (_, { dlqUrl }) => dlqSteps(dlqUrl),
    whatsappTodo: (_, { dlqUrl }) => {
      const read = dlqSteps(dlqUrl)[0]?.command?.line;
      return read ? `lire la DLQ : ${read}` : 'lire la DLQ et les journaux du sender';
    },
  },
  stale_backlog: {
    summary: {
      fr: (_, figure) =>
        `${figure('count')} notification(s) à envoyer, la plus ancienne attend depuis ${figure('oldestAgeMinutes')}.`,
      en: (_, figure) => `${figure('count')} notification(s) are due, the oldest for ${figure('oldestAgeMinutes')}.`,
    },
    advice: {
      fr: () =>
        "Le balayage des reprises ne suit pas ou ne tourne pas : vérifiez sa planification et ses dernières exécutions, puis lancez-le (sans --dry-run) s'il le faut.",
      en: () =>
        'The retry sweep is not keeping up or not running: check its schedule and its last runs, then run it (without --dry-run) if need be.',
    },
    steps: (_, { stage }) => [
      {
        purpose: {
          fr: 'Voir ce que le balayage reprendrait maintenant, sans rien changer',
          en: 'See what the sweep would queue now, changing nothing',
        },
        command: npm('retry', ['--dry-run', '--verbose'], stage),
      },
    ],
    whatsappTodo: (_, { stage }) =>
      `vérifier le balayage des reprises : ${operatorCommand('retry', ['--dry-run', '--verbose'], stage)}`,
  },
};

/** The alert's steps, then the operations page when one is configured. */
export function stepsOf(alert: HealthAlert, context: AlertContext): AlertStep[] {
  const steps = ALERT_TEXTS[alert.kind].steps(alert, context);
  if (!context.operationsPageUrl) return steps;
  return [...steps, { purpose: { fr: 'Page des opérations', en: 'Operations page' }, link: context.operationsPageUrl }];
}

/** The summary and the advice in `language`, the figures formatted for it. */
export function textsOf(alert: HealthAlert, language: Language): { summary: string; advice: string } {
  const figure = (name: FigureName) => {
    const value = alert.figures[name];
    return value === undefined ? '?' : formatFigure(name, value, language);
  };
  const texts = ALERT_TEXTS[alert.kind];
  return {
    summary: texts.summary[language](alert, figure, language),
    advice: texts.advice[language](alert, figure, language),
  };
}
