// `npm run bench`: the system's figures, measured on the local engines (no AWS). A readable table by default;
// `--json` prints one JSON object whose keys are the figures.
import { parseArgs } from 'node:util';
import { runOtpLane } from './otp-lane.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });

const progress = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

progress('OTP lane: 500 ordinary notifications draining at the ceiling, then one OTP…');
const otp = await runOtpLane();

const figures = {
  otpUnderFloodSeconds: otp.otpUnderFloodSeconds,
  otpOrdinarySentMeanwhile: otp.ordinarySentMeanwhile,
  otpOrdinaryStillWaiting: otp.ordinaryStillWaiting,
  otpFloodSendsPerSecond: otp.ordinarySendsPerSecond,
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  const rows: [string, string, string][] = [
    [
      'otpUnderFloodSeconds',
      String(otp.otpUnderFloodSeconds),
      'OTP posted → at WaChap, 500 ordinary queued (goal ≤ 2)',
    ],
    ['otpOrdinarySentMeanwhile', String(otp.ordinarySentMeanwhile), 'ordinary sends between the OTP post and the OTP'],
    ['otpOrdinaryStillWaiting', String(otp.ordinaryStillWaiting), 'ordinary notifications still queued behind it'],
    ['otpFloodSendsPerSecond', String(otp.ordinarySendsPerSecond), 'pace of the ordinary flood'],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  for (const [key, value, meaning] of rows)
    process.stdout.write(`${key.padEnd(width)}  ${value.padStart(8)}  ${meaning}\n`);
}
