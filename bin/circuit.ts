// `npm run circuit -- --status | --open [--reason="…"] | --close | --probe`: the provider circuit, seen and
// forced by an operator, through the provider-probe function.
import type { CircuitReport } from '../shared/application/provider-circuit.js';
import { CIRCUIT_OPTIONS, circuitPayloadOf } from './cli/circuit-args.js';
import { DELIVERY_TEXT, RULE, runOperatorCommand, TARGET_USAGE } from './operator-cli.js';

const USAGE = `Usage: npm run circuit -- [--status | --open [--reason="…"] | --close | --probe] [options]

The WaChap provider circuit, through the provider-probe function. While it is open no notification
is sent to WaChap and none uses an attempt: each waits as \`failed\` / provider_unavailable. The
function probes WaChap every minute while it is open, closes it once WaChap answers healthily and
releases the held notifications at once.

Action (one of them; --status when none is given):
  --status               show the circuit, change nothing
  --open                 force the circuit open (maintenance, a known outage): probes do not close
                         a circuit an operator opened, only --close does
  --reason="TEXT"        with --open: why, shown in the status and in the alert email
  --close                close the circuit now (WaChap is fixed) and release the held notifications
  --probe                probe WaChap now, without waiting for the interval (closes the circuit when
                         healthy, unless an operator opened it)
  --instance=NAME        several WaChap instances: the instance whose circuit this is (default: the
                         default instance); a scheduled tick looks after every instance

${TARGET_USAGE}

Examples:
  npm run circuit -- --status                           # the local stack (npm start)
  npm run circuit -- --open --reason="token renewal in progress"
  npm run circuit -- --close
  npm run circuit -- --close --instance=china           # China's circuit only: releases China's held ones
  npm run circuit -- --probe --json
  npm run circuit -- --stage prod --status              # the deployed stage prod (its stack's outputs)
  npm run circuit -- --stage prod --close`;

const ACTION_TEXT: Record<CircuitReport['action'], string> = {
  status: 'état seulement / status only',
  tick: 'sonde planifiée / scheduled tick',
  probe: 'sonde immédiate / probe now',
  open: 'ouverture forcée par un opérateur / forced open by an operator',
  close: 'fermeture par un opérateur / closed by an operator',
};

function ageOf(since: string, now: string): string {
  const minutes = Math.max(0, Math.floor((Date.parse(now) - Date.parse(since)) / 60_000));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "Label : value", the labels aligned. */
const line = (label: string, value: string) => `${label.padEnd(28)}: ${value}`;

function circuitLines(report: CircuitReport): string[] {
  const circuit = report.circuit;
  if (!circuit) return [line('État / state', 'FERMÉ / CLOSED (jamais ouvert / never opened)')];
  const open = circuit.status === 'unavailable';
  const lines = [
    line(
      'État / state',
      open
        ? 'OUVERT / OPEN: les notifications sont retenues / notifications are held'
        : 'FERMÉ / CLOSED: les notifications partent / notifications go out',
    ),
    line('Depuis / since', `${circuit.since} (${ageOf(circuit.since, report.now)})`),
  ];
  if (open) {
    lines.push(line('Raison / reason', circuit.reason ?? 'inconnue / unknown'));
    lines.push(
      line(
        'Forcé / forced',
        circuit.forced
          ? 'oui / yes: seul --close le ferme / only --close closes it'
          : 'non / no: la prochaine sonde saine le ferme / the next healthy probe closes it',
      ),
    );
    if (circuit.recommendation) lines.push(line('À faire / what to do', circuit.recommendation));
  } else if (circuit.releasePending) {
    lines.push(
      line(
        'Libération / release',
        'inachevée, la prochaine sonde la finit / unfinished, the next probe tick finishes it',
      ),
    );
  }
  lines.push(
    line(
      'Dernière sonde / last probe',
      circuit.lastProbeAt ? `${circuit.lastProbeAt} → ${circuit.lastProbeResult ?? '?'}` : 'aucune / none',
    ),
  );
  return lines;
}

function actionLines(report: CircuitReport): string[] {
  const lines = [line('Action', ACTION_TEXT[report.action])];
  if (report.action === 'probe' || report.action === 'tick') {
    lines.push(
      line(
        'Sonde / probe',
        report.probed
          ? (report.probeResult ?? '?')
          : report.circuit?.status === 'unavailable'
            ? 'pas encore due / not due yet (une par intervalle / one per interval)'
            : 'non faite, le circuit est fermé / not done, the circuit is closed',
      ),
    );
  }
  if (report.action !== 'status' && report.action !== 'open') {
    lines.push(line('Libérées / released', `${report.released} notification(s) remise(s) en file / queued again`));
  }
  if (report.alert) lines.push(line('Alerte email / alert email', DELIVERY_TEXT[report.alert]));
  return lines;
}

function formatCircuitReport(report: CircuitReport): string {
  // Another function's result (a wrong --function-name) is refused rather than printed as a closed circuit.
  if (!(report.action in ACTION_TEXT) || report.circuit === undefined || typeof report.released !== 'number') {
    throw new TypeError('not a provider-probe report');
  }
  return [
    RULE,
    'CIRCUIT FOURNISSEUR WACHAP / WACHAP PROVIDER CIRCUIT',
    RULE,
    line('Date/Heure actuelle / now', report.now),
    '',
    ...circuitLines(report),
    '',
    ...actionLines(report),
  ].join('\n');
}

process.exitCode = await runOperatorCommand(
  {
    usage: USAGE,
    defaultFunctionName: 'provider-probe',
    stackOutput: 'ProviderProbeFunctionName',
    options: CIRCUIT_OPTIONS,
    payloadOf: circuitPayloadOf,
    format: (result) => formatCircuitReport(result as CircuitReport),
  },
  process.argv.slice(2),
);
